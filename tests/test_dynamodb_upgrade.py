"""`alexdb migrate` on DynamoDB tables of the design before the ledger: the index is added, each account's
cash_balance becomes its opening ADJUSTMENT, each holding is indexed and costed; running it again changes
nothing."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

import alexdb
from alexdb.adapters.dynamodb import keys
from alexdb.adapters.dynamodb.tables import USERS
from alexdb.domain.errors import SchemaError, ValidationError
from tests.conftest import dynamo_engine, instrument


def _as_before_the_ledger(url: str) -> tuple[uuid.UUID, datetime]:
    """Tables of the previous design (no HoldersIndex), and data written by today's code, then stripped to
    what the previous design stored."""
    db = alexdb.connect(url)
    engine = dynamo_engine(db)
    names = engine.config.table_names()
    before = dataclasses.replace(USERS, indexes=tuple(i for i in USERS.indexes if i.name != "HoldersIndex"))
    engine.dynamo.client.create_table(**before.create_request(names["users"]))
    engine.create_tables(pitr=False)  # the other tables, as they were
    db.users.create_user("old")
    alert = db.alerts.create_alert("old", "SPY", {"operator": ">", "threshold": "1"})  # no armed_at, as before
    db.instruments.create_instrument(instrument("SPY"))
    account = db.accounts.create_account("old", "a")
    for n, (action, quantity, price) in enumerate([("BUY", 3, "10"), ("BUY", 3, "20"), ("SELL", 2, "30")]):
        db.positions.record_trade(account.id, "SPY", action, quantity, at=datetime(2023, 2, 1 + n, tzinfo=UTC),
                                  price=price)
    table = engine.config.users_table
    pk = keys.account_pk(account.id)
    dynamo = engine.dynamo
    for item in list(dynamo.query(table, KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": pk})):
        key = {"PK": item["PK"], "SK": item["SK"]}
        if item["SK"].startswith("CASH"):
            dynamo.batch_write(table, deletes=[key])
        elif item["SK"].startswith("CURRENT#"):
            dynamo.update(table, key, "REMOVE GSI3PK, GSI3SK, cash, cost", {}, {})
        elif item["SK"].startswith("HISTORY#"):
            dynamo.update(table, key, "REMOVE cash_after, cost_after", {}, {})
    for key in ({"PK": pk, "SK": keys.META}, {"PK": keys.user_pk("old"), "SK": keys.account_sk(account.id)}):
        dynamo.update(table, key, "SET cash_balance = :c", {}, {":c": Decimal("250.00")})
    assert db.alerts.get_alert(alert.alert_id).armed_at is None
    db.close()
    return account.id, account.created_at


def test_migrate_brings_old_tables_and_data_to_the_ledger(own_endpoint: str) -> None:
    url = f"dynamodb://{own_endpoint}?region=us-east-1&prefix=up{uuid.uuid4().hex[:8]}-"
    account_id, created = _as_before_the_ledger(url)
    db = alexdb.connect(url)
    with pytest.raises(SchemaError, match="HoldersIndex"):
        db.check_schema()
    assert db.migrate() == "dynamodb-5"
    db.check_schema()
    [alert] = db.alerts.find_by_user("old")
    assert alert.armed_at == alert.updated_at  # checked on arrival already: restarted ingestors stay quiet
    assert [(m.kind, m.amount, m.at) for m in db.cash.movements(account_id)] == [
        ("ADJUSTMENT", Decimal("250.00"), created)]
    assert db.accounts.get_account(account_id).cash_balance == Decimal("250.00")  # old trades moved no cash
    assert [c.cost_after for c in db.positions.get_position_history(account_id)] == [
        Decimal("30"), Decimal("90"), Decimal("60.00")]
    with pytest.raises(ValidationError, match="before the trades after them"):  # the holding is indexed
        db.instruments.record_split("SPY", 2, 1, datetime(2023, 2, 2, tzinfo=UTC))
    db.migrate()  # again: nothing more to do
    assert len(db.cash.movements(account_id)) == 1
    db.instruments.record_split("SPY", 2, 1, datetime(2023, 3, 1, tzinfo=UTC))
    assert db.positions.get_positions_at(account_id, datetime(2023, 3, 2, tzinfo=UTC)) == {"SPY": Decimal(8)}
    dynamo_engine(db).delete_tables()
    db.close()
