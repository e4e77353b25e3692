"""Contract: alerts, ticks and notification history, on every backend."""

from __future__ import annotations

import contextlib
import time
from decimal import Decimal
from typing import Any

import pytest

from alexdb import Database, NotFoundError, ValidationError
from alexdb.domain.alerts import TICK_TTL_MS, Trigger
from alexdb.speed.engine import AlertEngine
from tests.conftest import present


def NOW_MS() -> int:  # noqa: N802 - reads as the constant it stands for
    return time.time_ns() // 1_000_000


def test_alert_lifecycle(db: Database) -> None:
    alert = db.alerts.create_alert("alice", "spy", {"operator": ">", "threshold": "500.25"}, cooldown_seconds=60)
    assert alert.symbol == "SPY" and alert.condition.threshold == Decimal("500.25") and alert.enabled
    assert db.alerts.get_alert(alert.alert_id) == alert
    changed = db.alerts.update_alert(alert.alert_id, condition={"operator": "crosses_below", "threshold": "400"},
                                     notification_method="email")
    assert changed.condition.operator == "crosses_below" and db.alerts.get_alert(alert.alert_id) == changed
    assert db.alerts.disable(alert.alert_id).enabled is False and db.alerts.enable(alert.alert_id).enabled is True
    indicator = db.alerts.create_alert("alice", "QQQ", {"operator": "crosses_above",
                                                        "indicator": {"kind": "ema", "period": 20}})
    assert indicator.condition_type == "indicator"
    assert [a.alert_id for a in db.alerts.find_by_user("alice")] == [indicator.alert_id, alert.alert_id]
    assert [a.alert_id for a in db.alerts.find_by_symbol("SPY")] == [alert.alert_id]
    db.alerts.delete_alert(alert.alert_id)
    with pytest.raises(NotFoundError):
        db.alerts.get_alert(alert.alert_id)
    with pytest.raises(NotFoundError):
        db.alerts.delete_alert(alert.alert_id)


@pytest.mark.parametrize(("condition", "field"), [
    ({"operator": ">"}, "condition"),
    ({"operator": "above", "threshold": "1"}, "condition.operator"),
    ({"operator": ">", "threshold": "-1"}, "condition.threshold"),
    ({"operator": ">", "threshold": "120", "indicator": {"kind": "rsi", "period": 14}}, "condition"),
    ({"operator": ">", "threshold": "1", "field": "pe_ratio"}, "condition"),  # no such instrument field
    ({"operator": ">", "threshold": "100", "field": "allocation_sectors.technology"}, "condition"),  # at most 100
    ({"operator": ">=", "threshold": "101", "field": "allocation_regions.europe"}, "condition"),
    ({"operator": ">", "field": "current_price"}, "condition"),
])
def test_alerts_that_cannot_fire_are_refused_and_not_stored(db: Database, condition: Any, field: Any) -> None:
    with pytest.raises(ValidationError) as info:
        db.alerts.create_alert("alice", "SPY", condition)
    assert info.value.field == field
    assert list(db.alerts.find_by_user("alice")) == []


def test_what_an_ingestor_loads_is_what_was_stored(db: Database) -> None:
    made = [db.alerts.create_alert("carol", "SPY", {"operator": ">", "threshold": "400"}),  # a whole price
            db.alerts.create_alert("carol", "SPY", {"operator": "crosses_below", "threshold": "0.0001",
                                                    "price_type": "low"}, cooldown_seconds=90,
                                   notification_method="webhook"),
            db.alerts.create_alert("dave", "SPY", {"operator": "crosses_above", "indicator": {"kind": "sma",
                                                                                             "period": 20}}),
            db.alerts.create_alert("dave", "SPY", {"operator": "<", "threshold": "30",
                                                   "indicator": {"kind": "rsi", "period": 14}}),
            db.alerts.create_alert("erin", "SPY", {"operator": ">=", "threshold": "12.5",
                                                   "field": "allocation_sectors.technology"})]
    made.append(db.alerts.disable(db.alerts.create_alert("erin", "SPY", {"operator": "==", "threshold": "1"}).alert_id))
    loaded = {entry.alert_id: entry for entry in db.alerts.settings_for_symbol("SPY")}
    assert loaded == {alert.alert_id: alert.entry() for alert in made}
    assert type(loaded[made[0].alert_id].threshold) is Decimal


def test_alert_pages(db: Database) -> None:
    ids = [db.alerts.create_alert("bob", "SPY", {"operator": ">", "threshold": str(100 + n)}).alert_id for n in range(5)]
    first = db.alerts.find_by_user("bob", limit=2)
    rest = db.alerts.find_by_user("bob", limit=5, cursor=first.next_cursor)
    assert [a.alert_id for a in first] + [a.alert_id for a in rest] == ids[::-1]


def test_triggers_update_the_alert_and_the_history_together(db: Database) -> None:
    alert = db.alerts.create_alert("alice", "SPY", {"operator": ">", "threshold": "100"})
    engine = AlertEngine()
    engine.upsert(alert)
    stamp = NOW_MS()
    engine.process("SPY", Decimal("99"), stamp)
    [trigger] = engine.process("SPY", Decimal("101"), stamp + 1)
    first = db.alerts.record_trigger(trigger, "sent", message_id="ws-1")
    second = db.alerts.record_trigger(trigger, "failed")  # the same millisecond: both kept
    stored = db.alerts.get_alert(alert.alert_id)
    assert stored.trigger_count == 2 and stored.last_triggered == first.triggered_at
    history = db.notifications.find_by_user("alice")
    assert {n.notification_id for n in history} == {first.notification_id, second.notification_id}
    assert {n.delivery_status for n in history} == {"sent", "failed"}
    assert history[0].current_price == Decimal("101") and history[0].threshold == Decimal("100")
    with pytest.raises(ValidationError):
        db.alerts.record_trigger(trigger, "lost")
    ghost = Trigger(alert.alert_id.__class__(int=1), "alice", "SPY", Decimal(1), None, "close", "websocket", stamp)
    with pytest.raises(NotFoundError):
        db.alerts.record_trigger(ghost, "sent")
    assert len(db.notifications.find_by_user("alice")) == 2


def test_notifications_page_newest_first(db: Database) -> None:
    alert = db.alerts.create_alert("carol", "SPY", {"operator": ">", "threshold": "1"})
    base = NOW_MS()
    made = [db.alerts.record_trigger(Trigger(alert.alert_id, "carol", "SPY", Decimal(n + 2), Decimal(1), "close",
                                             "websocket", base + n), "sent") for n in range(5)]
    first = db.notifications.find_by_user("carol", limit=3)
    rest = db.notifications.find_by_user("carol", limit=3, cursor=first.next_cursor)
    assert [n.notification_id for n in first] + [n.notification_id for n in rest] == [
        m.notification_id for m in reversed(made)]


def test_ticks_latest_window_and_expiry(db: Database) -> None:
    now = NOW_MS()
    db.ticks.record_ticks([
        {"symbol": "SPY", "price": "500.10", "timestamp": now - TICK_TTL_MS - 5, "source": "test"},  # already expired
        {"symbol": "SPY", "price": "500.20", "timestamp": now - 2000},
        {"symbol": "SPY", "price": "500.30", "timestamp": now - 1000, "volume": "12.5"},
        {"symbol": "QQQ", "price": "400.00", "timestamp": now},
    ])
    assert present(db.ticks.latest("spy")).price == Decimal("500.30")
    window = db.ticks.window("SPY", now - TICK_TTL_MS - 10, now)
    assert [t.price for t in window] == [Decimal("500.20"), Decimal("500.30")]
    assert window[1].volume == Decimal("12.5")
    assert db.ticks.latest("IWM") is None
    with pytest.raises(ValidationError):
        db.ticks.record_ticks([{"symbol": "SPY", "price": "1", "timestamp": now}, {"symbol": "SPY", "price": "-1",
                                                                                    "timestamp": now}])
    assert present(db.ticks.latest("SPY")).price == Decimal("500.30")


@pytest.mark.parametrize("newest_first", [False, True])
def test_a_window_read_in_pages_is_the_window_whole_with_the_later_batch_winning(
        db: Database, newest_first: bool) -> None:
    base = (NOW_MS() // 10_000 - 3) * 10_000
    first = [{"symbol": "SPY", "price": "100", "timestamp": base + 2_000 + n, "volume": 1} for n in range(0, 1_500, 3)]
    # A later batch over part of the same time (from another millisecond): where they share one, it wins.
    later = [{"symbol": "SPY", "price": "101", "timestamp": base + 2_900 + n, "volume": 2} for n in range(0, 900, 2)]
    quiet = [{"symbol": "SPY", "price": "99", "timestamp": base + 8_000 + n * 700, "volume": 1} for n in range(4)]
    for batch in (first, later, quiet):
        db.ticks.record_ticks(batch)
    expected = {int(str(t["timestamp"])): Decimal(str(t["price"])) for t in first + later + quiet}
    whole = [(t.timestamp, t.price) for t in db.ticks.window("SPY", base, base + 20_000, newest_first=newest_first)]
    assert whole == sorted(expected.items(), reverse=newest_first)
    paged, cursor = [], None
    while True:
        page = db.ticks.window("SPY", base, base + 20_000, limit=137, newest_first=newest_first, cursor=cursor)
        paged += [(t.timestamp, t.price) for t in page]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert paged == whole


def test_sql_purges_expired_ticks(sql_url: str) -> None:
    import alexdb

    db = alexdb.connect(sql_url)
    db.engine.ticks.purge_every_s = 0  # type: ignore[attr-defined]  # purge on every write (the default is once a minute)
    now = NOW_MS()
    db.ticks.record_ticks([{"symbol": "SPY", "price": "1", "timestamp": now - TICK_TTL_MS - 10}])
    assert db.counts()["realtime_ticks"] == 1 and db.ticks.latest("SPY") is None  # stored, never read
    assert db.ticks.purge_expired() == 1 and db.counts()["realtime_ticks"] == 0
    db.ticks.record_ticks([{"symbol": "SPY", "price": "1", "timestamp": now - TICK_TTL_MS - 10}])
    db.ticks.record_ticks([{"symbol": "SPY", "price": "2", "timestamp": now}])  # purges as it goes
    assert db.counts()["realtime_ticks"] == 1 and present(db.ticks.latest("SPY")).price == Decimal("2")


@pytest.mark.parametrize("condition", ['{"operator": "above", "threshold": "1"}', '{"operator": ">", "threshold": 1e400}',
                                       '{"operator": ">", "threshold": "-1"}', '{"operator": ">", "extra": 1}'])
def test_a_damaged_alert_row_is_refused_when_loaded_not_held(sql_url: str, condition: str) -> None:
    from sqlalchemy import text

    import alexdb
    from alexdb.adapters.sql.backend import SqlBackend

    db = alexdb.connect(sql_url)
    db.alerts.create_alert("dave", "SPY", {"operator": ">", "threshold": "1"})
    assert isinstance(db.engine, SqlBackend)
    with db.engine.sqlalchemy_engine.begin() as connection:
        connection.execute(text("UPDATE alert_configurations SET condition = :c"), {"c": condition})
    with pytest.raises(ValueError, match="condition"):
        list(db.alerts.settings_for_symbol("SPY"))
    db.close()


def test_record_triggers_in_one_go_skips_deleted_alerts(db: Database) -> None:
    kept = db.alerts.create_alert("dave", "SPY", {"operator": ">", "threshold": "1"})
    gone = db.alerts.create_alert("dave", "SPY", {"operator": ">", "threshold": "2"})
    db.alerts.delete_alert(gone.alert_id)
    stamp = NOW_MS()
    fired = [Trigger(alert.alert_id, "dave", "SPY", Decimal(5), Decimal(1), "close", "websocket", stamp + n)
             for n, alert in enumerate([kept, gone, kept])]
    with pytest.raises(ValidationError):
        db.alerts.record_triggers([(fired[0], "sent", "m-1"), (fired[2], "maybe", None)])
    assert db.alerts.get_alert(kept.alert_id).trigger_count == 0  # a bad batch writes nothing
    recorded = db.alerts.record_triggers([(fired[0], "sent", "m-1"), (fired[1], "sent", "m-2"), (fired[2], "failed", None)])
    assert [(n.alert_id, n.message_id) for n in recorded] == [(kept.alert_id, "m-1"), (kept.alert_id, None)]
    stored = db.alerts.get_alert(kept.alert_id)
    assert stored.trigger_count == 2 and stored.last_triggered == recorded[-1].triggered_at
    assert len(db.notifications.find_by_user("dave")) == 2


def test_fundamental_alerts_are_stored_and_the_seeds_condition_type_is_understood(db: Database) -> None:
    alert = db.alerts.create_alert("erin", "SPY", {"operator": ">", "threshold": "40", "field": "allocation_sectors.technology"})
    assert alert.condition_type == "fundamental" and db.alerts.get_alert(alert.alert_id) == alert
    seeded = db.alerts.create_alert("erin", "SPY", {"operator": ">", "threshold": "200.00", "price_type": "close"},
                                    condition_type="price_threshold")  # seed 002's spelling
    assert seeded.condition_type == "price"
    with pytest.raises(ValidationError):
        db.alerts.create_alert("erin", "SPY", {"operator": ">", "threshold": "1"}, condition_type="fundamental")


def test_counts_cover_the_speed_tables(db: Database) -> None:
    alert = db.alerts.create_alert("hal", "SPY", {"operator": ">", "threshold": "1"})
    db.ticks.record_ticks([{"symbol": "SPY", "price": "2", "timestamp": NOW_MS()}])
    db.alerts.record_trigger(Trigger(alert.alert_id, "hal", "SPY", Decimal(2), Decimal(1), "close", "websocket", NOW_MS()),
                             "sent")
    counts = db.counts()
    assert (counts["alert_configurations"], counts["realtime_ticks"], counts["alert_notifications_history"]) == (1, 1, 1)


def test_what_the_driver_refuses_on_the_raw_insert_path_is_an_alexdb_error(sql_url: str) -> None:
    import alexdb
    from alexdb.domain.ticks import TickRow

    db = alexdb.connect(sql_url)
    store = db.engine.ticks  # the primitive, below every check a caller goes through
    for row in (TickRow("SPY", Decimal(1), 2**63, Decimal(0), "x"),  # past a 64-bit integer
                TickRow("SPY", Decimal(1), NOW_MS(), Decimal(0), "a\x00b")):  # NUL: PostgreSQL refuses it
        with contextlib.suppress(alexdb.AlexdbError):  # translated at the edge, like every other driver error
            store.write_ticks([row])
    assert db.counts()["realtime_ticks"] <= 1


def test_the_bulk_insert_stores_exact_decimals_and_nulls_as_the_orm_would(sql_url: str) -> None:
    import uuid

    from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select

    from alexdb.adapters.sql.bulk import PreparedInsert
    from alexdb.adapters.sql.types import ExactDecimal

    table = Table(f"bulk_{uuid.uuid4().hex[:8]}", MetaData(), Column("n", Integer, primary_key=True),
                  Column("amount", ExactDecimal(), nullable=True))
    engine = create_engine(sql_url.replace("postgresql://", "postgresql+psycopg://"))
    amounts = [Decimal("100.10"), None, Decimal("1E+3"), Decimal("-0.00000001")]
    try:
        with engine.begin() as conn:
            table.create(conn)
            PreparedInsert.compile(conn.dialect, insert(table), ["n", "amount"]).run(
                conn, {"n": list(range(len(amounts))), "amount": amounts})
            conn.execute(insert(table), [{"n": 10 + n, "amount": a} for n, a in enumerate(amounts)])
            stored = conn.execute(select(table.c.amount).order_by(table.c.n)).scalars().all()
        half = len(amounts)
        assert stored[:half] == amounts and [str(a) for a in stored[:half]] == [str(a) for a in stored[half:]]
    finally:
        with engine.begin() as conn:
            table.drop(conn)
        engine.dispose()
