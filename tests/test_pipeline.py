"""Ingestion end to end on every backend: ticks stored, alerts fired, deliveries recorded."""

from __future__ import annotations

import time
from decimal import Decimal

from alexdb.speed.notifiers import Delivery, WebhookNotifier
from alexdb.speed.pipeline import Ingestor
from tests.dynamodb_local import free_port
from tests.test_notifiers import Hook, webhook_url  # noqa: F401 - the fixture


def test_ticks_to_recorded_notifications(db, webhook_url):  # noqa: F811
    hooked = db.alerts.create_alert("alice", "SPY", {"operator": "crosses_above", "threshold": "500"},
                                    notification_method="webhook")
    mailed = db.alerts.create_alert("bob", "SPY", {"operator": "<", "threshold": "490"}, notification_method="email")
    notifiers = {"webhook": WebhookNotifier(webhook_url),
                 "email": WebhookNotifier(f"http://127.0.0.1:{free_port()}/down", timeout=0.3)}  # a failing channel
    ingestor = Ingestor(db, notifiers, Delivery(attempts=2, base_delay=0))
    assert ingestor.load_alerts(["SPY"]) == 2
    now = time.time_ns() // 1_000_000
    ingestor.ingest([{"symbol": "SPY", "price": "499.50", "timestamp": now},
                     {"symbol": "SPY", "price": "500.25", "timestamp": now + 1},
                     {"symbol": "SPY", "price": "489.00", "timestamp": now + 2}])
    ingestor.ingest([{"symbol": "SPY", "price": "500", "timestamp": now + 3},
                     {"symbol": "SPY", "price": "oops", "timestamp": now + 4}])  # rejected whole, named
    counts = ingestor.close()
    assert (counts.accepted, counts.rejected, counts.fired, counts.sent, counts.failed) == (3, 2, 2, 1, 1)
    assert "ticks[1].price" in counts.errors[0]
    assert db.ticks.latest("SPY").price == Decimal("489.00")
    assert db.alerts.get_alert(hooked.alert_id).trigger_count == 1
    assert db.alerts.get_alert(mailed.alert_id).trigger_count == 1
    [sent] = db.notifications.find_by_user("alice")
    assert (sent.delivery_status, sent.message_id, sent.current_price) == ("sent", "req-1", Decimal("500.25"))
    [failed] = db.notifications.find_by_user("bob")
    assert failed.delivery_status == "failed" and failed.message_id is None
    assert [body["price"] for body in Hook.received] == ["500.25"]
