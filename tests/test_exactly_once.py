"""The speed layer scaled out, on every backend: however many ingestors (threads and processes), restarts
and redeliveries, each crossing is recorded and delivered exactly once, as an independent replay finds."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import alexdb
from alexdb import Database
from alexdb.domain.alerts import Notification
from alexdb.domain.instants import now_ms, utcnow
from alexdb.speed.notifiers import Delivery
from alexdb.speed.pipeline import Ingestor
from tests.conftest import instrument
from tests.speed_replay import Receiver, feed, make_alerts, make_ticks, replay


def recorded(db: Database) -> list[Notification]:
    """Every notification of the replay's users."""
    return [n for user in ("user0", "user1", "user2", "user3") for n in db.notifications.find_by_user(user)]


def deliver_what_is_left(db: Database, receiver: Receiver) -> None:
    """The retry worker, run as if the delivery lease had passed: crashed ingestors' deliveries go out."""
    worker = Ingestor(db, {"websocket": receiver}, Delivery(attempts=1, base_delay=0))
    later = utcnow() + timedelta(minutes=5)
    while worker.outbox.retry_due(now=later):
        worker.outbox.wait()
    worker.close()


def check_exactly_once(db: Database, expected: set[tuple[str, int]], receiver: Receiver) -> None:
    notes = recorded(db)
    found = [(str(n.alert_id), round(n.triggered_at.timestamp() * 1000)) for n in notes]
    assert len(found) == len(set(found)), "a crossing was recorded twice"
    assert set(found) == expected
    deliver_what_is_left(db, receiver)
    notes = recorded(db)
    assert {n.delivery_status for n in notes} == {"sent"}
    # Delivered at least once each, and a resend (after a crash) carries the same idempotency key.
    assert set(receiver.keys) == {str(n.notification_id) for n in notes}


def test_threads_with_restarts_and_redeliveries_notify_each_crossing_once(shared_url: str) -> None:
    db = alexdb.connect(shared_url)
    watches = make_alerts(db)
    ticks = make_ticks(seed=7, count=240)
    expected = replay(watches, ticks)
    assert len(expected) > 40  # the walk crosses often: the test can fail
    receiver = Receiver()
    threads = [threading.Thread(target=feed, args=(shared_url, ticks, 100 + k, 0, receiver)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check_exactly_once(db, expected, receiver)
    cursor = db.alerts.cursor("SPY")
    assert cursor is not None and cursor.applied_ms == ticks[-1]["timestamp"]
    assert cursor.close == Decimal(ticks[-1]["price"])
    db.close()


def test_processes_and_a_thread_notify_each_crossing_once(shared_url: str) -> None:
    db = alexdb.connect(shared_url)
    watches = make_alerts(db)
    ticks = make_ticks(seed=11, count=160)
    expected = replay(watches, ticks)
    receiver = Receiver()
    processes = [subprocess.Popen([sys.executable, "-m", "tests.speed_replay", shared_url, str(seed), "0"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for seed in (1, 2)]
    for process in processes:
        assert process.stdin is not None
        process.stdin.write(json.dumps(ticks))
        process.stdin.close()
    feed(shared_url, ticks, 3, 0, receiver)
    for process in processes:
        assert process.stdout is not None
        receiver.keys += json.loads(process.stdout.read())
        assert process.wait(timeout=300) == 0
    check_exactly_once(db, expected, receiver)
    db.close()


def test_a_late_tick_is_stored_and_counted_but_never_flips_an_alert_back(db: Database) -> None:
    alert = db.alerts.create_alert("ann", "SPY", {"operator": ">", "threshold": "100"})
    start = now_ms() - 60_000
    ingestor = Ingestor(db, {})
    ingestor.ingest([{"symbol": "SPY", "price": "99", "timestamp": start},
                     {"symbol": "SPY", "price": "101", "timestamp": start + 2000}])  # fires
    ingestor.ingest([{"symbol": "SPY", "price": "99", "timestamp": start + 1000}])  # late: applied already past it
    ingestor.ingest([{"symbol": "SPY", "price": "102", "timestamp": start + 3000}])  # still above: no new edge
    counts = ingestor.close()
    assert (counts.accepted, counts.late, counts.fired) == (4, 1, 1)
    assert db.alerts.get_alert(alert.alert_id).trigger_count == 1
    assert [t.price for t in db.ticks.window("SPY", start, start + 3000)] == [Decimal(p) for p in ("99", "99", "101", "102")]


def test_an_alert_that_holds_on_arrival_fires_once_whatever_restarts(db: Database) -> None:
    start = now_ms() - 60_000
    first = Ingestor(db, {})
    first.ingest([{"symbol": "SPY", "price": "105", "timestamp": start}])
    alert = db.alerts.create_alert("bea", "SPY", {"operator": ">", "threshold": "100"})
    first.track(alert)  # the service's own ingestor hears of it at once: it holds, so it fires
    first.close()
    for _ in range(3):  # restarted ingestors load it, see it checked already, and stay quiet
        again = Ingestor(db, {})
        again.ingest([{"symbol": "SPY", "price": "106", "timestamp": (start := start + 1000)}])
        assert again.close().fired == 0
    assert db.alerts.get_alert(alert.alert_id).trigger_count == 1
    changed = db.alerts.update_alert(alert.alert_id, condition={"operator": ">", "threshold": "101"})
    again = Ingestor(db, {})
    again.ingest([{"symbol": "SPY", "price": "106", "timestamp": start + 1000}])
    assert again.close().fired == 1  # new settings are checked on arrival, once
    assert db.alerts.get_alert(changed.alert_id).trigger_count == 2


def test_trades_of_one_millisecond_are_merged_and_said_so(db: Database) -> None:
    at = now_ms() - 1000
    ingestor = Ingestor(db, {})
    result = ingestor.ingest([{"symbol": "SPY", "price": p, "timestamp": at, "volume": "10"} for p in ("1", "2", "3")])
    counts = ingestor.close()
    assert (result.accepted, counts.merged) == (3, 2)
    [tick] = db.ticks.window("SPY", at, at)
    assert (tick.price, tick.volume) == (Decimal("3"), Decimal("30"))
    assert db.ticks.record_ticks([{"symbol": "QQQ", "price": "1", "timestamp": at}] * 3) == 1  # rows stored


def test_a_crash_between_recording_and_sending_loses_nothing_and_sends_once(db: Database) -> None:
    db.alerts.create_alert("cat", "SPY", {"operator": ">", "threshold": "100"})
    start = now_ms() - 60_000

    class Down:
        def send(self, trigger: object, key: str) -> str:
            raise ConnectionError("the channel is down")

    crashed = Ingestor(db, {"websocket": Down()}, Delivery(attempts=1, base_delay=0))
    crashed.ingest([{"symbol": "SPY", "price": "101", "timestamp": start}])
    crashed.close()
    [note] = db.notifications.find_by_user("cat")
    assert (note.delivery_status, note.attempts, note.last_error) == ("failed", 1,
                                                                      "ConnectionError: the channel is down")
    assert note.next_attempt_at is not None and note.next_attempt_at > utcnow()
    receiver = Receiver()
    worker = Ingestor(db, {"websocket": receiver})
    assert worker.outbox.retry_due() == 0  # not due yet: the retry schedule backs off
    later = note.next_attempt_at + timedelta(seconds=1)
    assert worker.outbox.retry_due(now=later) == 1
    assert worker.outbox.retry_due(now=later) == 0  # claimed: a second worker (or round) does not resend it
    worker.close()
    [note] = db.notifications.find_by_user("cat")
    assert (note.delivery_status, note.attempts, note.next_attempt_at) == ("sent", 2, None)
    assert receiver.keys == [str(note.notification_id)]


def test_a_delivery_fails_for_good_after_the_last_attempt(db: Database) -> None:
    db.alerts.create_alert("dan", "SPY", {"operator": ">", "threshold": "100"})

    class Down:
        def send(self, trigger: object, key: str) -> str:
            raise ConnectionError("down")

    worker = Ingestor(db, {"websocket": Down()}, Delivery(attempts=1, base_delay=0))
    worker.ingest([{"symbol": "SPY", "price": "101", "timestamp": now_ms() - 1000}])
    worker.settle()
    later = utcnow()
    for _ in range(10):
        later += timedelta(hours=1)
        worker.outbox.retry_due(now=later)
        worker.outbox.wait()
    worker.close()
    [note] = db.notifications.find_by_user("dan")
    assert (note.delivery_status, note.attempts, note.next_attempt_at) == ("failed", 6, None)


def test_an_indicator_alert_works_on_the_first_bar_after_a_restart(db: Database) -> None:
    db.instruments.create_instrument(instrument("QQQ"))
    minute = now_ms() // 60_000 - 2  # ticks go in two minutes ago and one minute ago
    closes = [Decimal(100 + n) for n in range(25)]  # 25 rising closes: the close stays above its SMA(20)
    db.instruments.record_prices([{"symbol": "QQQ", "price": close,
                                   "at": datetime.fromtimestamp(((minute - 25 + n + 1) * 60_000 - 1) / 1000, UTC)}
                                  for n, close in enumerate(closes)])
    alert = db.alerts.create_alert("eve", "QQQ", {"operator": "crosses_below", "indicator": {"kind": "sma",
                                                                                            "period": 20}})
    fresh = Ingestor(db, {})  # a new process: it has seen none of those bars
    fresh.ingest([{"symbol": "QQQ", "price": "90", "timestamp": minute * 60_000 + 5},  # this bar closes at 90
                  {"symbol": "QQQ", "price": "91", "timestamp": (minute + 1) * 60_000 + 5}])  # ... now
    assert fresh.close().fired == 1
    [note] = db.notifications.find_by_user("eve")
    assert (note.alert_id, note.current_price) == (alert.alert_id, Decimal("90"))


def _due_failed_delivery(db: Database, user: str) -> None:
    """A notification whose delivery failed once and is due again now."""
    db.alerts.create_alert(user, "SPY", {"operator": ">", "threshold": "100"})
    failing = Ingestor(db, {})  # no websocket notifier: the delivery fails
    failing.ingest([{"symbol": "SPY", "price": "101", "timestamp": now_ms() - 1000}])
    failing.close()
    [note] = db.notifications.find_by_user(user)
    db.notifications.settle(note, "failed", "down", now=utcnow() - timedelta(hours=1))  # due since then


def test_the_background_retry_worker_sends_what_is_due(db: Database) -> None:
    import time

    _due_failed_delivery(db, "fay")
    receiver = Receiver()
    worker = Ingestor(db, {"websocket": receiver})
    worker.retry_in_background(every_s=0.05)  # as `alexdb serve` runs it
    deadline = time.monotonic() + 30
    while not receiver.keys and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.close()
    [note] = db.notifications.find_by_user("fay")
    assert (note.delivery_status, receiver.keys) == ("sent", [str(note.notification_id)])


def test_the_lambda_handler_resends_what_is_due_after_its_batch(db: Database) -> None:
    import base64
    import json

    from alexdb.speed.kinesis import handle

    _due_failed_delivery(db, "gus")
    receiver = Receiver()
    event = {"Records": [{"kinesis": {"sequenceNumber": "1", "data": base64.b64encode(json.dumps(
        {"symbol": "QQQ", "price": "1", "timestamp": now_ms()}).encode()).decode()}}]}
    assert handle(event, Ingestor(db, {"websocket": receiver})) == {"batchItemFailures": []}
    [note] = db.notifications.find_by_user("gus")
    assert (note.delivery_status, receiver.keys) == ("sent", [str(note.notification_id)])


def test_a_redelivered_part_of_a_minute_does_not_rewrite_its_bar(db: Database) -> None:
    db.instruments.create_instrument(instrument("QQQ"))
    minute = now_ms() // 60_000 - 3
    first = [{"symbol": "QQQ", "price": "100", "timestamp": minute * 60_000 + 1},
             {"symbol": "QQQ", "price": "101", "timestamp": minute * 60_000 + 2}]
    ingestor = Ingestor(db, {})
    ingestor.ingest(first)
    ingestor.close()  # the minute's bar so far: close 101
    again = Ingestor(db, {})  # another container handed the first tick again: late, so no bar of its own
    again.ingest(first[:1])
    assert again.close().late == 1
    closes_at = datetime.fromtimestamp(((minute + 1) * 60_000 - 1) / 1000, UTC)
    assert db.instruments.get_price_at("QQQ", closes_at).price == Decimal("101")  # type: ignore[union-attr]


def test_a_cursor_another_ingestor_creates_mid_step_is_read_again_and_stepped_after(pg_url: str) -> None:
    # PostgreSQL only: SQLite's BEGIN IMMEDIATE lets no second writer in, and DynamoDB leases the cursor.
    import uuid

    from alexdb.domain.speed_state import Advance, SymbolCursor

    symbol = f"R{uuid.uuid4().hex[:8].upper()}"

    def moved(cursor: SymbolCursor | None, writer: str) -> Advance:
        applied = (cursor.applied_ms if cursor else 0) + 1
        bar = Decimal(applied)
        return Advance(SymbolCursor(symbol, applied, 0, bar, bar, bar, bar, writer), [], [])

    seen: list[SymbolCursor | None] = []
    with alexdb.connect(pg_url) as ours, alexdb.connect(pg_url) as other:
        def step(_: str, cursor: SymbolCursor | None) -> Advance:
            seen.append(cursor)
            if len(seen) == 1:  # found missing; meanwhile another ingestor creates it and commits first
                other.engine.cursors.advance([symbol], lambda _, theirs: moved(theirs, "other"))
            return moved(cursor, "ours")

        ours.engine.cursors.advance([symbol], step)
        stored = ours.engine.cursors.cursor(symbol)
    assert seen[0] is None and seen[1] is not None and seen[1].writer == "other"
    assert stored is not None and (stored.applied_ms, stored.writer) == (2, "ours")  # applied after theirs
