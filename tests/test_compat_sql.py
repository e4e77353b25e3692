"""alexdb.compat's raw SQL and Data API client: the original's statements with Data API parameters.

Writes to the Alex tables are routed to alexdb's services on every backend; SELECTs run read-only on the
SQL engines and are refused on DynamoDB with the call to use instead."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

import alexdb
from alexdb import ValidationError
from alexdb.compat import Database
from alexdb.domain.errors import UnsupportedError
from tests.conftest import instrument, present


def param(name: str, kind: str, value: Any) -> dict[str, Any]:
    """One Data API parameter."""
    return {"name": name, "value": {kind: value}}


@pytest.fixture
def alex(db: alexdb.Database) -> Iterator[Database]:
    """The original package's Database over the parametrized backend, with a user, SPY and an account."""
    db.users.create_user("user_1")
    db.instruments.create_instrument(instrument("SPY", "500"))
    db.instruments.create_instrument(instrument("QQQ"))
    yield Database(store=db)


@pytest.fixture
def sql_alex(sql_url: str) -> Iterator[Database]:
    """The same on the SQL engines only (raw SELECT)."""
    with alexdb.connect(sql_url) as store:
        store.users.create_user("user_1")
        store.instruments.create_instrument(instrument("SPY", "500"))
        yield Database(store=store)


def test_raw_position_inserts_and_cleanup_deletes_are_routed_with_history(alex: Database) -> None:
    account = alex.accounts.create_account("user_1", "Taxable", cash_balance=Decimal("5000.0"))
    for symbol, quantity in (("SPY", 100), ("QQQ", 50)):
        response = alex.client.execute(
            "INSERT INTO positions (account_id, symbol, quantity) VALUES (:account_id::uuid, :symbol, :quantity)",
            [param("account_id", "stringValue", account), param("symbol", "stringValue", symbol),
             param("quantity", "longValue", quantity)])
        assert response["numberOfRecordsUpdated"] == 1
    assert {p["symbol"]: p["quantity"] for p in alex.positions.find_by_account(account)} == {"QQQ": 50, "SPY": 100}
    alex.execute_raw("DELETE FROM positions WHERE account_id = :account_id::uuid",
                     [param("account_id", "stringValue", account)])
    assert alex.positions.find_by_account(account) == []
    history = alex.store.positions.get_position_history(account, "SPY")
    assert [change.quantity_after for change in history] == [100, 0]  # the delete is a recorded change
    job = alex.jobs.create_job("user_1", "portfolio_analysis")
    for statement in ("DELETE FROM jobs WHERE id = :job_id::uuid", "DELETE FROM accounts WHERE clerk_user_id = :u",
                      "DELETE FROM users WHERE clerk_user_id = :u"):
        alex.client.execute(statement, [param("job_id", "stringValue", job), param("u", "stringValue", "user_1")])
    assert alex.jobs.find_by_id(job) is None and alex.accounts.find_by_id(account) is None
    assert alex.users.find_by_clerk_id("user_1") is None


def test_the_original_add_position_upsert_returns_the_id(alex: Database) -> None:
    account = alex.accounts.create_account("user_1", "Taxable")
    sql = """INSERT INTO positions (account_id, symbol, quantity, as_of_date)
             VALUES (:account_id::uuid, :symbol, :quantity::numeric, :as_of_date::date)
             ON CONFLICT (account_id, symbol) DO UPDATE SET quantity = EXCLUDED.quantity RETURNING id"""
    for quantity in ("10", "12.5"):
        response = alex.client.execute(sql, [
            param("account_id", "stringValue", account), param("symbol", "stringValue", "SPY"),
            param("quantity", "stringValue", quantity), param("as_of_date", "stringValue", "2030-01-01")])
        position_id = response["records"][0][0].get("stringValue")
        assert present(alex.positions.find_by_id(position_id))["quantity"] == quantity


def test_generic_client_calls_route_by_key_and_count_rows(alex: Database) -> None:
    account = alex.client.insert("accounts", {"clerk_user_id": "user_1", "account_name": "IRA",
                                              "cash_balance": Decimal("10")}, returning="id")
    assert alex.client.update("accounts", {"account_purpose": "retire"}, "id = :id::uuid", {"id": account}) == 1
    assert present(alex.accounts.find_by_id(account))["account_purpose"] == "retire"
    alex.positions.add_position(account, "SPY", Decimal("2"))
    assert alex.client.update("positions", {"quantity": Decimal("3")}, "account_id = :a::uuid AND symbol = :s",
                              {"a": account, "s": "spy"}) == 1
    assert alex.client.delete("positions", "account_id = :a AND symbol = :s", {"a": account, "s": "SPY"}) == 1
    assert alex.client.delete("accounts", "id = :id::uuid", {"id": account}) == 1
    assert alex.client.delete("accounts", "id = :id::uuid", {"id": account}) == 0


@pytest.mark.parametrize(("call", "args"), [
    ("execute", ("DROP TABLE IF EXISTS users CASCADE",)),
    ("execute", ("UPDATE positions SET quantity = quantity + 1 WHERE account_id = :a", [param("a", "stringValue",
                                                                                              "x")])),
    ("insert", ("price_history", {"symbol": "SPY", "price": 1})),
    ("update", ("accounts", {"account_name": "x"}, "account_name LIKE :n", {"n": "%"})),
    ("begin_transaction", ()),
])
def test_statements_that_would_bypass_the_rules_are_refused_and_write_nothing(alex: Database, call: str,
                                                                              args: tuple[Any, ...]) -> None:
    before = alex.store.counts()
    with pytest.raises(UnsupportedError) as caught:
        getattr(alex.client, call)(*args)
    assert "use " in str(caught.value)
    assert alex.store.counts() == before


def test_bad_parameters_and_unknown_columns_are_named(alex: Database) -> None:
    with pytest.raises(ValidationError) as caught:
        alex.client.execute("DELETE FROM jobs WHERE id = :id", [{"name": "id", "value": {"floatValue": 1}}])
    assert caught.value.field == "parameters"
    with pytest.raises(ValidationError) as unknown:
        alex.client.insert("users", {"clerk_user_id": "user_2", "favourite_colour": "blue"})
    assert "favourite_colour" in str(unknown.value) and alex.users.find_by_clerk_id("user_2") is None
    with pytest.raises(ValidationError):
        alex.client.execute("DELETE FROM jobs WHERE id = :id", [])


def test_raw_selects_run_read_only_with_the_original_casts(sql_alex: Database) -> None:
    account = sql_alex.accounts.create_account("user_1", "IRA", cash_balance=Decimal("250.50"))
    sql_alex.positions.add_position(account, "SPY", Decimal("4"))
    rows = sql_alex.query_raw("SELECT a.id, a.cash_balance, p.symbol, p.quantity FROM accounts a "
                              "JOIN positions p ON p.account_id = a.id WHERE a.id = :id::uuid",
                              [param("id", "stringValue", account)])
    assert rows == [{"id": account, "cash_balance": "250.50", "symbol": "SPY", "quantity": "4"}]
    counted = sql_alex.client.query_one("SELECT COUNT(*) AS count FROM instruments")
    assert present(counted)["count"] == 1
    response = sql_alex.execute_raw("SELECT symbol, current_price FROM instruments ORDER BY symbol")
    assert response["columnMetadata"] == [{"name": "symbol"}, {"name": "current_price"}]
    assert response["records"] == [[{"stringValue": "SPY"}, {"stringValue": "500"}]]


def test_a_select_that_writes_is_refused_by_the_engine(sql_alex: Database) -> None:
    before = sql_alex.store.counts()
    with pytest.raises(alexdb.BackendError):
        sql_alex.query_raw("WITH gone AS (DELETE FROM instruments RETURNING symbol) SELECT * FROM gone")
    assert sql_alex.store.counts() == before


def test_raw_selects_on_dynamodb_name_the_call_to_use(dynamo_db: alexdb.Database) -> None:
    alex = Database(store=dynamo_db)
    with pytest.raises(UnsupportedError) as caught:
        alex.query_raw("SELECT * FROM positions")
    assert "db.positions.find_by_account" in str(caught.value)
    assert alex.client.users_table.table_status == "ACTIVE"
    assert alex.client.instruments_table.table_status == "ACTIVE"
