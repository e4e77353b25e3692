"""The delivery outbox on DynamoDB: the sparse Outbox index of the notification history lists exactly the
deliveries not yet settled, and `alexdb migrate` moves the outbox items of the earlier design onto it."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

import alexdb
from alexdb.adapters.dynamodb.deliveries import history_key
from alexdb.adapters.dynamodb.tables import NOTIFICATIONS
from alexdb.domain.alerts import Notification, Trigger
from alexdb.domain.errors import SchemaError
from alexdb.domain.instants import instant_text, now_ms, utcnow
from alexdb.domain.speed_state import pending
from tests.conftest import dynamo_engine


def _recorded(db: alexdb.Database, count: int) -> list[Notification]:
    alert = db.alerts.create_alert("olga", "SPY", {"operator": ">", "threshold": "1"})
    triggers = [Trigger(alert.alert_id, "olga", "SPY", Decimal("2"), Decimal("1"), "close", "websocket",
                        now_ms() - 60_000 + n) for n in range(count)]
    return db.alerts.record_pending([pending(t, uuid.uuid4(), 0, utcnow()) for t in triggers])


def test_the_outbox_lists_what_is_to_deliver_and_forgets_what_is_settled(dynamodb_endpoint: str) -> None:
    db = alexdb.connect(f"dynamodb://{dynamodb_endpoint}?region=us-east-1&prefix=ob{uuid.uuid4().hex[:8]}-",
                        migrate=True)
    first, second = _recorded(db, 2)
    later = utcnow() + timedelta(minutes=5)
    assert {n.notification_id for n in db.notifications.due(later)} == {first.notification_id,
                                                                        second.notification_id}
    db.notifications.settle(first, "sent", "m-1")
    assert [n.notification_id for n in db.notifications.due(later)] == [second.notification_id]
    engine = dynamo_engine(db)
    history = engine.config.table_names()["notifications"]
    listed = list(engine.dynamo.scan(history, FilterExpression="attribute_exists(outbox_shard)"))
    assert [item["triggered_at_id"] for item in listed] == [history_key(second)["triggered_at_id"]]
    db.close()


def test_migrate_moves_the_earlier_outbox_items_onto_the_history(own_endpoint: str) -> None:
    url = f"dynamodb://{own_endpoint}?region=us-east-1&prefix=ob{uuid.uuid4().hex[:8]}-"
    db = alexdb.connect(url)
    engine = dynamo_engine(db)
    names = engine.config.table_names()
    before = dataclasses.replace(NOTIFICATIONS, indexes=())
    engine.dynamo.client.create_table(**before.create_request(names["notifications"]))
    engine.create_tables(pitr=False)
    waiting, settled = _recorded(db, 2)
    db.notifications.settle(settled, "sent", "m-1")
    dynamo, users = engine.dynamo, engine.config.users_table
    for n in (waiting, settled):  # as the earlier design kept them: an item in the users table, per delivery
        dynamo.update(names["notifications"], history_key(n), "REMOVE outbox_shard", {}, {})
        assert waiting.next_attempt_at is not None
        dynamo.put(users, {"PK": f"OUTBOX#{n.notification_id.int % 128:02d}", "SK": str(n.notification_id),
                           **history_key(n), "next_attempt_at": instant_text(waiting.next_attempt_at)})
    with pytest.raises(SchemaError, match="Outbox"):
        db.check_schema()
    assert db.migrate() == "dynamodb-5"
    db.check_schema()
    later = utcnow() + timedelta(minutes=5)
    assert [n.notification_id for n in db.notifications.due(later)] == [waiting.notification_id]
    assert not list(dynamo.scan(users, FilterExpression="begins_with(PK, :o)",
                                ExpressionAttributeValues={":o": {"S": "OUTBOX#"}}))
    assert db.migrate() == "dynamodb-5"  # again: nothing to do
    assert [n.notification_id for n in db.notifications.due(later)] == [waiting.notification_id]
    db.close()
