"""Ingestion end to end on every backend: ticks stored, alerts fired, deliveries recorded."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from alexdb import Database
from alexdb.speed.notifiers import Delivery, WebhookNotifier
from alexdb.speed.pipeline import Ingestor
from tests.conftest import present
from tests.dynamodb_local import free_port
from tests.test_notifiers import Hook, webhook_url  # noqa: F401 - the fixture


def test_ticks_to_recorded_notifications(db: Database, webhook_url: str) -> None:  # noqa: F811
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
                     {"symbol": "SPY", "price": "oops", "timestamp": now + 4}])  # rejected alone, named
    counts = ingestor.close()
    assert (counts.accepted, counts.rejected, counts.fired, counts.sent, counts.failed) == (4, 1, 2, 1, 1)
    assert counts.errors == ["record 1: price='oops': not a number"]
    assert present(db.ticks.latest("SPY")).price == Decimal("500")
    assert db.alerts.get_alert(hooked.alert_id).trigger_count == 1
    assert db.alerts.get_alert(mailed.alert_id).trigger_count == 1
    [sent] = db.notifications.find_by_user("alice")
    assert (sent.delivery_status, sent.message_id, sent.current_price) == ("sent", "req-1", Decimal("500.25"))
    [failed] = db.notifications.find_by_user("bob")
    assert failed.delivery_status == "failed" and failed.message_id is None
    assert [body["price"] for body in Hook.received] == ["500.25"]


def test_one_minute_bars_become_price_history_and_current_price_follows(db: Database) -> None:
    from tests.conftest import instrument, present
    db.instruments.create_instrument(instrument("QQQ"))
    ingestor = Ingestor(db, {})
    start = (time.time_ns() // 1_000_000 // 60_000 - 5) * 60_000  # the start of a minute, five minutes ago
    ingestor.ingest([{"symbol": "QQQ", "price": p, "timestamp": start + n * 1000}
                     for n, p in enumerate(["400", "402", "399", "401"])])
    ingestor.settle()  # the open bar is written at least once a second, and when settling
    assert db.instruments.get_instrument("QQQ").current_price == Decimal("401")
    ingestor.ingest([{"symbol": "QQQ", "price": "403.5", "timestamp": start + 5_000},
                     {"symbol": "QQQ", "price": "410", "timestamp": start + 60_000},  # the next minute
                     {"symbol": "NOPE", "price": "1", "timestamp": start}])  # ticks of no instrument: no bars
    ingestor.close()
    assert db.instruments.get_instrument("QQQ").current_price == Decimal("410")
    first_close = datetime.fromtimestamp((start + 59_999) / 1000, UTC)
    assert present(db.instruments.get_price_at("QQQ", first_close)).price == Decimal("403.5")  # one point per bar
    assert db.instruments.get_price_at("QQQ", first_close - timedelta(milliseconds=1)) is None  # no look-ahead
    assert present(db.instruments.get_price_at("QQQ", first_close + timedelta(minutes=1))).price == Decimal("410")
    assert present(db.ticks.latest("NOPE")).price == Decimal("1")


def test_each_bad_record_is_rejected_alone_and_named(db: Database) -> None:
    ingestor = Ingestor(db, {})
    now = time.time_ns() // 1_000_000
    result = ingestor.ingest([{"symbol": "SPY", "price": "1.5", "timestamp": now},
                              {"symbol": "SPY", "price": 1.5, "timestamp": now + 1},
                              "not a tick",
                              {"symbol": "SPY", "price": "2", "timestamp": now + 2, "colour": "red"},
                              {"symbol": "SPY", "price": "2.5", "timestamp": now + 3}],
                             label=lambda i: f"line {i + 10}")
    assert result.accepted == 2 and [r.index for r in result.rejections] == [1, 2, 3]
    assert [r.error.field for r in result.rejections] == ["price", "tick", "colour"]
    assert ingestor.counts.errors[0].startswith("line 11: price=1.5: floats are inexact")
    assert [t.price for t in db.ticks.window("SPY", now, now + 3)] == [Decimal("1.5"), Decimal("2.5")]


def test_fundamental_alerts_fire_when_the_instrument_changes(db: Database) -> None:
    from tests.conftest import instrument
    db.instruments.create_instrument(instrument("VTI", allocation_sectors={"technology": 30, "healthcare": 70}))
    tech = db.alerts.create_alert("frank", "VTI", {"operator": "crosses_above", "threshold": "40",
                                                   "field": "allocation_sectors.technology"})
    energy = db.alerts.create_alert("frank", "VTI", {"operator": ">=", "threshold": "5", "field": "allocation_sectors.energy"})
    ingestor = Ingestor(db, {})
    ingestor.ingest([{"symbol": "VTI", "price": "250", "timestamp": time.time_ns() // 1_000_000}])  # reads the instrument
    ingestor.settle()
    assert ingestor.counts.fired == 0
    changed = db.instruments.upsert_instrument(instrument("VTI", allocation_sectors={"technology": 45, "energy": 55}))
    ingestor.instrument_changed(changed)
    ingestor.instrument_changed(changed)  # still true: edge-triggered, no second notification
    counts = ingestor.close()
    assert counts.fired == 2
    assert db.alerts.get_alert(tech.alert_id).trigger_count == 1 and db.alerts.get_alert(energy.alert_id).trigger_count == 1
    values = sorted(n.current_price for n in db.notifications.find_by_user("frank"))
    assert values == [Decimal("45"), Decimal("55")]


def test_alerts_changed_elsewhere_are_followed_and_unchanged_ones_keep_their_state(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from alexdb.speed import pipeline

    monkeypatch.setattr(pipeline, "ALERTS_EVERY_S", 0)  # re-read on every batch (30 s in service)
    ingestor = Ingestor(db, {})
    now = time.time_ns() // 1_000_000
    ingestor.ingest([{"symbol": "SPY", "price": "100", "timestamp": now}])
    above = db.alerts.create_alert("gail", "SPY", {"operator": ">", "threshold": "150"})  # by another process
    ingestor.ingest([{"symbol": "SPY", "price": "160", "timestamp": now + 1}])
    ingestor.ingest([{"symbol": "SPY", "price": "170", "timestamp": now + 2}])  # still true: no second trigger
    assert ingestor.settle().fired == 1
    db.alerts.disable(above.alert_id)
    below = db.alerts.create_alert("gail", "SPY", {"operator": "<", "threshold": "120"})
    ingestor.ingest([{"symbol": "SPY", "price": "110", "timestamp": now + 3}])
    assert set(ingestor.engine.held("SPY")) == {below.alert_id}
    db.alerts.delete_alert(below.alert_id)
    ingestor.ingest([{"symbol": "SPY", "price": "105", "timestamp": now + 4}])
    assert ingestor.engine.held("SPY") == {} and ingestor.close().fired == 2


def test_a_held_back_open_bar_is_written_without_further_ticks(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from alexdb.speed import pipeline
    from tests.conftest import instrument

    monkeypatch.setattr(pipeline, "OPEN_BAR_WRITE_S", 0.2)
    db.instruments.create_instrument(instrument("IWM"))
    ingestor = Ingestor(db, {})
    now = time.time_ns() // 1_000_000
    ingestor.ingest([{"symbol": "IWM", "price": "200", "timestamp": now}])  # the first write goes at once
    ingestor.ingest([{"symbol": "IWM", "price": "201.5", "timestamp": now + 1}])  # held back, then written
    deadline = time.monotonic() + 5
    while db.instruments.get_instrument("IWM").current_price != Decimal("201.5"):
        assert time.monotonic() < deadline, "the held-back bar was never written"
        time.sleep(0.05)
    ingestor.close()


def test_a_ticking_symbols_instrument_is_re_read_for_its_fundamental_alerts(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from alexdb.speed import pipeline
    from tests.conftest import instrument

    monkeypatch.setattr(pipeline, "FUNDAMENTALS_EVERY_S", 0)  # re-read on every batch (once a minute in service)
    db.instruments.create_instrument(instrument("VTI", allocation_sectors={"technology": 30, "healthcare": 70}))
    db.alerts.create_alert("ivy", "VTI", {"operator": ">", "threshold": "40", "field": "allocation_sectors.technology"})
    ingestor = Ingestor(db, {})
    now = time.time_ns() // 1_000_000
    ingestor.ingest([{"symbol": "VTI", "price": "250", "timestamp": now}])
    db.instruments.upsert_instrument(instrument("VTI", allocation_sectors={"technology": 60, "healthcare": 40}))
    ingestor.ingest([{"symbol": "VTI", "price": "251", "timestamp": now + 1}])  # nobody called instrument_changed
    assert ingestor.close().fired == 1
