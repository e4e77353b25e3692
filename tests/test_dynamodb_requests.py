"""DynamoDB request shapes: what each read costs, measured on DynamoDB Local."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import alexdb
from alexdb import Database
from alexdb.adapters.dynamodb.positions import DynamoPositionStore
from tests.conftest import dynamo_engine, instrument, present

pytestmark = pytest.mark.dynamodb


def _reads_of_current_holdings(db: Database, account_id: Any) -> tuple[dict[str, int], float]:
    dynamo_engine(db).meter.reset()
    store = dynamo_engine(db).positions
    assert isinstance(store, DynamoPositionStore)
    store._current_items(account_id)
    return dict(dynamo_engine(db).meter.requests), sum(dynamo_engine(db).meter.read_units.values())


def test_current_holdings_are_one_query_whatever_the_history(dynamo_db: Database) -> None:
    db = dynamo_db
    db.users.create_user("u")
    db.instruments.create_instrument(instrument("SPY"))
    account = db.accounts.create_account("u", "a")
    base = datetime(2024, 1, 1, tzinfo=UTC)
    db.positions.record_trade(account.id, "SPY", "BUY", 1, at=base)
    requests_short, units_short = _reads_of_current_holdings(db, account.id)
    db.positions.record_trades(account.id, [("SPY", "BUY", 1, base + timedelta(minutes=m)) for m in range(1, 400)])
    assert db.counts()["position_history"] == 400
    requests_long, units_long = _reads_of_current_holdings(db, account.id)
    assert requests_short == requests_long == {"Query": 1}
    assert units_long == units_short


def test_value_at_an_instant_reads_one_query_per_symbol(dynamo_db: Database) -> None:
    db = dynamo_db
    db.users.create_user("u")
    account = db.accounts.create_account("u", "a")
    symbols = ["AAA", "BBB", "CCC", "DDD"]
    for symbol in symbols:
        db.instruments.create_instrument(instrument(symbol))
        db.instruments.record_prices([(symbol, str(10 + d), datetime(2024, 1, 1 + d, tzinfo=UTC)) for d in range(20)])
        db.positions.record_trades(account.id, [(symbol, "BUY", 1, datetime(2024, 1, 1 + d, 12, tzinfo=UTC))
                                                for d in range(20)])
    dynamo_engine(db).meter.reset()
    valuation = db.positions.get_account_value_at_date(account.id, datetime(2024, 1, 10, tzinfo=UTC))
    assert valuation.total == len(symbols) * 9 * 19  # 9 bought by Jan 9, 12:00; Jan 10, 00:00 price 19
    # GetItem (account, then its user: an account of a user being deleted reads as gone), Query (CURRENT
    # items), one Query per symbol for quantity, one per symbol for price, one for the cash ledger's
    # balance then, and one BatchGetItem for the symbols' splits.
    assert dynamo_engine(db).meter.requests == {"GetItem": 2, "Query": 2 + 2 * len(symbols), "BatchGetItem": 1}


def test_check_schema_sees_present_and_missing_tables(dynamo_db: Database, dynamodb_endpoint: str) -> None:
    dynamo_db.check_schema()
    absent = alexdb.connect(f"dynamodb://{dynamodb_endpoint}?region=us-east-1&prefix=absent-")
    with pytest.raises(alexdb.SchemaError, match="absent-alex-users-data"):
        absent.check_schema()


def test_an_injected_boto3_client_is_used(dynamodb_url: str, dynamodb_endpoint: str) -> None:
    import boto3

    client = boto3.client("dynamodb", endpoint_url=f"http://{dynamodb_endpoint}", region_name="us-east-1")
    calls: list[str] = []
    client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    db = alexdb.connect(dynamodb_url, client=client)
    assert db.users.find_by_clerk_id("nobody") is None
    assert calls == ["GetItem"]


def test_table_names_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from alexdb.adapters.dynamodb.config import DynamoConfig

    monkeypatch.setenv("DYNAMODB_USERS_TABLE", "prod-users")
    monkeypatch.setenv("DYNAMODB_INSTRUMENTS_TABLE", "prod-instruments")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    config = DynamoConfig.from_url("dynamodb://")
    assert (config.users_table, config.instruments_table, config.region, config.endpoint_url) == (
        "prod-users", "prod-instruments", "eu-west-1", None)
    local = DynamoConfig.from_url("dynamodb://localhost:8000?prefix=dev-&users_table=u&region=us-west-2")
    assert (local.users_table, local.instruments_table, local.region, local.endpoint_url) == (
        "dev-u", "dev-prod-instruments", "us-west-2", "http://localhost:8000")


def test_chat_items_carry_ttl_and_messages_outlive_their_session(dynamo_db: Database) -> None:
    session = dynamo_db.chat.create_session("alice")
    dynamo_db.chat.add_message(session.id, "user", "x" * 700_000, user_id="alice")  # three parts
    items = list(dynamo_engine(dynamo_db).dynamo.query(dynamo_engine(dynamo_db).config.chat_table, KeyConditionExpression="PK = :pk",
                                        ExpressionAttributeValues={":pk": f"SESSION#{session.id}"}))
    meta = next(i for i in items if i["SK"] == "METADATA")
    parts = [i for i in items if i["SK"] != "METADATA"]
    assert len(parts) == 3 and all(int(i["ttl"]) >= int(meta["ttl"]) for i in parts)
    assert int(meta["ttl"]) == int(dynamo_db.chat.get_session(session.id, user_id="alice").expires_at.timestamp())


def test_message_ttls_are_refreshed_before_they_could_outrun_an_active_session(dynamo_db: Database) -> None:
    import time
    from datetime import timedelta

    chat, table = dynamo_db.chat, dynamo_engine(dynamo_db).config.chat_table
    chat.ttl = timedelta(seconds=10)  # margins wide enough for a loaded CI machine
    session = chat.create_session("alice")
    chat.add_message(session.id, "user", "first", user_id="alice")
    pk = f"SESSION#{session.id}"
    first_key = {"PK": pk, "SK": "MESSAGE#000000000001#000"}
    original = int(present(dynamo_engine(dynamo_db).dynamo.get(table, first_key))["ttl"])
    time.sleep(6.5)  # well past half a window (TTLs are whole seconds): the next append must move every TTL
    chat.add_message(session.id, "user", "second", user_id="alice")
    meta = present(dynamo_engine(dynamo_db).dynamo.get(table, {"PK": pk, "SK": "METADATA"}))
    refreshed = int(present(dynamo_engine(dynamo_db).dynamo.get(table, first_key))["ttl"])
    assert refreshed > original and refreshed == int(meta["messages_ttl"]) >= int(meta["ttl"]) + 10
