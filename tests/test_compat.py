"""The original Alex package's call shapes (its API, agents and scripts), replayed on alexdb.compat on every
backend: each test does what an original caller does and asserts what that caller relies on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from alexdb import Database as Store
from alexdb import InvalidTransitionError, ValidationError
from alexdb.compat import DataAPIClient, Database, InstrumentCreate, JobCreate, PositionCreate, UserCreate
from tests.conftest import present

NEW_USER = {  # what the API's get_or_create_user inserts for a first-time user
    "clerk_user_id": "user_1", "display_name": "Ann", "years_until_retirement": 20,
    "target_retirement_income": 60000, "asset_class_targets": {"equity": 70, "fixed_income": 30},
    "region_targets": {"north_america": 50, "international": 50},
}


@pytest.fixture
def alex(db: Store) -> Iterator[Database]:
    """The original package's Database over the parametrized backend."""
    yield Database(store=db)


@pytest.fixture
def holder(alex: Database) -> dict[str, str]:
    """A user with one account holding 10 SPY (priced 500) and 20 BND (no price yet)."""
    alex.users.db.insert("users", NEW_USER, returning="clerk_user_id")
    for symbol, price in (("SPY", Decimal("500")), ("BND", Decimal("0.00"))):
        alex.instruments.create_instrument(InstrumentCreate(
            symbol=symbol, name=f"{symbol} fund", instrument_type="etf", current_price=price,
            allocation_regions={"north_america": 100.0}, allocation_sectors={"other": 100.0},
            allocation_asset_class={"equity": 100.0}))
    account = alex.accounts.create_account(clerk_user_id="user_1", account_name="401k", account_purpose="retire",
                                           cash_balance=Decimal("5000"))
    alex.positions.add_position(account_id=account, symbol="SPY", quantity=Decimal("10"))
    alex.positions.add_position(account_id=account, symbol="BND", quantity=Decimal("20"))
    return {"account": account}


def test_first_time_user_is_inserted_through_the_generic_client_and_read_back(alex: Database) -> None:
    assert alex.users.find_by_clerk_id("user_1") is None
    assert alex.users.db.insert("users", NEW_USER, returning="clerk_user_id") == "user_1"
    user = present(alex.users.find_by_clerk_id("user_1"))
    assert {**user}["display_name"] == "Ann" and user.get("years_until_retirement") == 20
    assert float(user["target_retirement_income"]) == 60000
    assert user["asset_class_targets"] == {"equity": 70, "fixed_income": 30}
    assert json.loads(json.dumps(user))["created_at"] == user["created_at"]


def test_user_settings_update_keeps_floats_exact(alex: Database) -> None:
    alex.users.create_user(clerk_user_id="user_1", display_name="Ann")
    changed = alex.users.db.update("users", {"target_retirement_income": 75000.1, "display_name": "Anne",
                                             "asset_class_targets": {"equity": 60.1, "fixed_income": 39.9}},
                                   "clerk_user_id = :clerk_user_id", {"clerk_user_id": "user_1"})
    assert changed == 1
    user = present(alex.users.find_by_clerk_id("user_1"))
    assert user["target_retirement_income"] == "75000.1" and user["display_name"] == "Anne"
    assert alex.store.users.get_user("user_1").asset_class_targets == {"equity": Decimal("60.1"),
                                                                      "fixed_income": Decimal("39.9")}
    assert alex.users.db.update("users", {"display_name": "x"}, "clerk_user_id = :id", {"id": "nobody"}) == 0


def test_users_created_from_the_schema_and_by_the_port(alex: Database) -> None:
    assert alex.users.create(UserCreate(clerk_user_id="user_1", display_name="Ann").model_dump()) == "user_1"
    assert alex.users.create_user(clerk_user_id="user_2", region_targets={"europe": 100.0}) == "user_2"
    assert alex.users.update("user_2", {"years_until_retirement": 5}) == 1
    assert [u["clerk_user_id"] for u in alex.users.find_all()] == ["user_1", "user_2"]
    assert present(alex.users.find_by_id("user_2"))["region_targets"] == {"europe": 100}


def test_floats_from_callers_are_read_by_their_shortest_text_and_nan_is_refused(alex: Database) -> None:
    alex.users.create_user("user_1")
    account = alex.accounts.create_account("user_1", "Brokerage", cash_balance=0.1)
    assert alex.store.accounts.get_account(account).cash_balance == Decimal("0.1")
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValidationError) as caught:
            alex.accounts.update(account, {"cash_balance": bad})
        assert caught.value.field == "accounts.cash_balance"
    assert alex.store.accounts.get_account(account).cash_balance == Decimal("0.1")


def test_accounts_as_the_api_uses_them(alex: Database, holder: dict[str, str]) -> None:
    second = alex.accounts.create_account("user_1", "Roth IRA", cash_balance=Decimal("2000.0"))
    assert isinstance(second, str)
    assert [a["account_name"] for a in alex.accounts.find_by_user("user_1")] == ["Roth IRA", "401k"]
    account = present(alex.accounts.find_by_id(holder["account"]))
    assert account.get("clerk_user_id") == "user_1" and float(account["cash_balance"]) == 5000
    assert alex.accounts.update(holder["account"], {"account_name": "Main", "cash_balance": 7500.25}) == 1
    updated = present(alex.accounts.find_by_id(holder["account"]))
    assert (updated["account_name"], updated["cash_balance"]) == ("Main", "7500.25")
    kinds = [m.kind for m in alex.store.cash.history(holder["account"])]
    assert kinds == ["DEPOSIT", "ADJUSTMENT"]  # the ledger recorded the change, not an overwrite
    assert alex.accounts.find_by_id("00000000-0000-0000-0000-000000000000") is None
    assert alex.accounts.find_by_user("nobody") == []


def test_deleting_an_account_as_the_api_does(alex: Database, holder: dict[str, str]) -> None:
    for position in alex.positions.find_by_account(holder["account"]):
        assert alex.positions.delete(position["id"]) == 1
    assert alex.positions.find_by_account(holder["account"]) == []
    assert alex.accounts.delete(holder["account"]) == 1
    assert alex.accounts.find_by_id(holder["account"]) is None
    assert alex.accounts.delete(holder["account"]) == 0


def test_positions_as_the_api_and_agents_read_them(alex: Database, holder: dict[str, str]) -> None:
    positions = alex.positions.find_by_account(holder["account"])
    assert [p["symbol"] for p in positions] == ["BND", "SPY"]
    spy = positions[1]
    assert float(spy["quantity"]) == 10 and float(spy["current_price"]) == 500
    assert spy["instrument_name"] == "SPY fund" and spy["instrument_type"] == "etf"
    formatted = {**spy, "instrument": alex.instruments.find_by_symbol(spy["symbol"])}
    assert json.loads(json.dumps(formatted))["instrument"]["symbol"] == "SPY"
    assert positions[0]["current_price"] is None  # BND was added at 0.00: no price yet
    value = alex.positions.get_portfolio_value(holder["account"])
    assert value == {"num_positions": 2, "total_value": 5000.0, "total_shares": 30.0}


def test_a_position_is_found_updated_and_deleted_by_its_id_with_history(alex: Database,
                                                                        holder: dict[str, str]) -> None:
    position_id = alex.positions.add_position(holder["account"], "spy", Decimal("12"))
    position = present(alex.positions.find_by_id(position_id))
    assert present(alex.accounts.find_by_id(position["account_id"]))["clerk_user_id"] == "user_1"
    assert alex.positions.update(position_id, {"quantity": 12.5}) == 1
    assert present(alex.positions.find_by_id(position_id))["quantity"] == "12.5"
    assert alex.positions.delete(position_id) == 1
    assert alex.positions.find_by_id(position_id) is None and alex.positions.update(position_id, {"quantity": 1}) == 0
    history = alex.positions.get_position_history(holder["account"], "SPY")
    assert [h["quantity"] for h in history] == ["10", "12", "12.5", "0"]  # every change kept, in order
    assert alex.positions.find_by_id("not-an-id") is None


def test_position_create_from_the_schema(alex: Database, holder: dict[str, str]) -> None:
    created = alex.positions.create(PositionCreate(account_id=holder["account"], symbol="SPY",
                                                   quantity=Decimal("15")).model_dump())
    assert present(alex.positions.find_by_id(created))["quantity"] == "15"
    with pytest.raises(ValidationError):
        alex.positions.update(created, {"symbol": "BND"})
    assert present(alex.positions.find_by_id(created))["quantity"] == "15"


def test_instruments_for_autocomplete_tagger_and_market_prices(alex: Database, holder: dict[str, str]) -> None:
    listed = alex.instruments.find_all()
    assert [i["symbol"] for i in listed] == ["BND", "SPY"]
    assert [float(i["current_price"]) if i.get("current_price") else None for i in listed] == [None, 500.0]
    # planner/market.py: a fresh price through the generic client
    assert alex.client.update("instruments", {"current_price": 512.34}, "symbol = :symbol", {"symbol": "BND"}) == 1
    assert present(alex.instruments.find_by_symbol("BND"))["current_price"] == "512.34"
    # tagger: a classification replaces the description
    update = InstrumentCreate(symbol="SPY", name="SPDR S&P 500", instrument_type="etf", current_price=None,
                              allocation_regions={"north_america": 99.5, "europe": 0.5},
                              allocation_sectors={"technology": 100.0},
                              allocation_asset_class={"equity": 100.0}).model_dump()
    del update["symbol"]
    assert alex.client.update("instruments", update, "symbol = :symbol", {"symbol": "SPY"}) == 1
    spy = present(alex.instruments.find_by_symbol("SPY"))
    assert spy["name"] == "SPDR S&P 500" and spy["current_price"] == "500"
    assert alex.store.instruments.get_instrument("SPY").allocation_regions["europe"] == Decimal("0.5")
    assert [i["symbol"] for i in alex.instruments.find_by_type("etf")] == ["BND", "SPY"]
    assert [i["symbol"] for i in alex.instruments.search("spdr")] == ["SPY"]
    assert alex.client.update("instruments", {"current_price": 1}, "symbol = :symbol", {"symbol": "NONE"}) == 0


def test_a_bad_instrument_writes_nothing(alex: Database) -> None:
    with pytest.raises(ValidationError):
        alex.instruments.create_instrument({"symbol": "BAD", "name": "Bad", "instrument_type": "etf",
                                            "current_price": 10, "allocation_regions": {"mars": 100},
                                            "allocation_sectors": {"other": 100},
                                            "allocation_asset_class": {"equity": 100}})
    assert alex.instruments.find_by_symbol("BAD") is None


def test_jobs_through_the_planner_flow_with_a_redelivery(alex: Database, holder: dict[str, str]) -> None:
    job_id = alex.jobs.create_job(clerk_user_id="user_1", job_type="portfolio_analysis",
                                  request_payload={"analysis_type": "portfolio", "options": {"risk": 0.3}})
    job = present(alex.jobs.find_by_id(job_id))
    assert job["status"] == "pending" and job["request_payload"]["options"]["risk"] == 0.3
    assert alex.jobs.update_status(job_id, "running") == 1
    assert alex.jobs.update_status(job_id, "failed", error_message="agent timed out") == 1
    assert alex.jobs.update_status(job_id, "running") == 1  # SQS delivered the message again
    assert alex.jobs.update_report(job_id, {"content": "# Report"}) == 1
    assert alex.jobs.update_charts(job_id, {"pie": {"values": [60.5, 39.5]}}) == 1
    assert alex.jobs.update_retirement(job_id, {"success_rate": 0.87}) == 1
    assert alex.jobs.update_summary(job_id, {"done": True}) == 1
    assert alex.jobs.update_status(job_id, "completed") == 1
    finished = present(alex.jobs.find_by_id(job_id))
    assert finished["attempts"] == 2 and finished["completed_at"] >= finished["started_at"]
    assert finished["charts_payload"] == {"pie": {"values": [60.5, 39.5]}}
    assert json.loads(json.dumps(finished))["retirement_payload"] == {"success_rate": 0.87}
    assert alex.jobs.update_status("00000000-0000-0000-0000-000000000000", "running") == 0
    with pytest.raises(InvalidTransitionError):
        alex.jobs.update_status(job_id, "pending")


def test_jobs_listed_created_from_schemas_and_deleted_as_the_test_scripts_do(alex: Database,
                                                                             holder: dict[str, str]) -> None:
    made = [alex.jobs.create(JobCreate(clerk_user_id="user_1", job_type="portfolio_analysis").model_dump()),
            alex.jobs.create(JobCreate(clerk_user_id="user_1", job_type="retirement_projection"))]
    assert all(isinstance(job_id, str) for job_id in made)
    alex.jobs.update_status(made[1], "completed")  # an agent wrote its result directly
    listed = alex.jobs.find_by_user("user_1", limit=100)
    listed.sort(key=lambda x: x.get("created_at", ""), reverse=True)
    assert [j["id"] for j in listed] == made[::-1]
    assert [j["id"] for j in alex.jobs.find_by_user("user_1", status="completed")] == [made[1]]
    assert sorted(j["id"] for j in alex.jobs.find_all()) == sorted(made)
    assert alex.jobs.delete(made[0]) == 1 and alex.jobs.find_by_id(made[0]) is None
    assert alex.jobs.delete(made[0]) == 0


def test_the_agents_portfolio_load(alex: Database, holder: dict[str, str]) -> None:
    job_id = alex.jobs.create_job("user_1", "portfolio_analysis")
    job = present(alex.jobs.find_by_id(job_id))
    user = present(alex.users.find_by_clerk_id(job["clerk_user_id"]))
    total = 0.0
    for account in alex.accounts.find_by_user(user["clerk_user_id"]):
        total += float(account.get("cash_balance", 0))
        for position in alex.positions.find_by_account(account["id"]):
            instrument = present(alex.instruments.find_by_symbol(position["symbol"]))
            if instrument.get("current_price"):
                total += float(position["quantity"]) * float(instrument["current_price"])
    assert total == 10000.0 and float(user.get("target_retirement_income", 80000)) == 60000


def test_the_scale_scripts_generic_creates(alex: Database, holder: dict[str, str]) -> None:
    symbol = alex.instruments.create({"symbol": "TST1", "name": "Test ETF TST1", "instrument_type": "etf",
                                      "current_price": 150.0, "allocation_asset_class": {"fixed_income": 100.0},
                                      "allocation_regions": {"north_america": 100.0},
                                      "allocation_sectors": {"other": 100.0}}, returning="symbol")
    assert symbol == "TST1" and present(alex.instruments.find_by_symbol("TST1"))["current_price"] == Decimal(150)
    job_id = alex.jobs.create({"clerk_user_id": "user_1", "job_type": "portfolio_analysis", "status": "pending",
                               "request_payload": {"test": "scale_user_1"}})
    assert present(alex.jobs.find_by_id(job_id))["request_payload"] == {"test": "scale_user_1"}
    with pytest.raises(ValidationError):
        alex.jobs.create({"clerk_user_id": "user_1", "job_type": "portfolio_analysis", "status": "completed"})


def test_a_client_and_database_open_the_url_from_the_environment(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("ALEXDB_URL", f"sqlite:///{tmp_path / 'alex.db'}")
    client = DataAPIClient()  # reset_db.py builds its own client beside a Database
    client.insert("users", {"clerk_user_id": "user_9"})
    with Database() as alex:
        assert present(alex.users.find_by_clerk_id("user_9"))["clerk_user_id"] == "user_9"
    client.store.close()
