"""Ingestion: ticks are stored and applied to alerts, each symbol's through its cursor in the store, so that
any number of ingestors (threads, processes, Lambda containers, redelivered batches) notify each crossing
exactly once; each notification is recorded before it is delivered."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from alexdb.domain.alerts import AlertEntry, AlertSettings, Notification, Trigger
from alexdb.domain.errors import AlexdbError
from alexdb.domain.instants import epoch_micros, now_ms, utcnow
from alexdb.domain.speed_state import Advance, Pending, SymbolCursor, as_trigger, crossing_id, pending
from alexdb.domain.ticks import Rejection, TickRow, sort_ticks
from alexdb.speed.bars import MINUTE_MS, BarBuilder
from alexdb.speed.engine import AlertEngine
from alexdb.speed.notifiers import Delivery, Notifier
from alexdb.speed.outbox import Outbox

if TYPE_CHECKING:
    from alexdb.database import Database

MAX_KEPT_ERRORS = 1000
UNKNOWN_SYMBOL_RECHECK_S = 60.0
# current_price (and the open bar's point) trails the latest tick by at most this; closed bars are written at
# once. The bound a holdings view's cached price has on DynamoDB: rewriting a ticking symbol's open bar
# more often (3 write units each time) would buy nothing a view could show.
OPEN_BAR_WRITE_S = 5.0
FUNDAMENTALS_EVERY_S = 60.0  # how often a ticking symbol's instrument is re-read for its fundamental alerts
ALERTS_EVERY_S = 30.0  # how often a ticking symbol's alerts are re-read, to follow changes made elsewhere
RETRY_EVERY_S = 15.0  # how often a running ingestor looks for deliveries due again
DUE_PAGE = 100


@dataclass
class Counts:
    """What a run did; errors keeps the first MAX_KEPT_ERRORS rejections, worded."""

    accepted: int = 0
    rejected: int = 0
    late: int = 0  # ticks at or before their symbol's cursor: stored, never evaluated again
    merged: int = 0  # ticks stored as one row with another of their symbol and millisecond
    fired: int = 0  # notifications this ingestor recorded (a firing another ingestor recorded is not counted)
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    interrupted: bool = False


@dataclass
class BatchResult:
    """One batch: how many ticks were accepted, and each rejected record with its position and reason."""

    accepted: int
    rejections: list[Rejection]
    triggers: list[Trigger]  # the firings this ingestor recorded (and delivers)


class Ingestor:
    """Stores ticks, applies them to alerts, writes one-minute bars as price history, and records and
    delivers every notification.

    A bad record is rejected on its own and the rest of its batch goes on. Alerts of a symbol are loaded
    the first time the symbol is seen and re-read every ALERTS_EVERY_S. Each symbol's ticks are applied
    through its cursor (db.alerts.advance): the store lets one ingestor at a time take the symbol's bar
    as the last one left it, apply the ticks after it in time order, and record the notifications they
    fire, by ids derived from alert and tick, with the new cursor. A tick at or before the cursor is late:
    stored and folded into bars, but never evaluated again, so it cannot flip an alert back. Recorded
    notifications are pending until the Outbox has sent them and written the outcome.
    """

    def __init__(self, db: Database, notifiers: Mapping[str, Notifier], delivery: Delivery | None = None,
                 engine: AlertEngine | None = None, workers: int = 4, bars: bool = True,
                 name: str | None = None) -> None:
        self.db = db
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.engine = engine or AlertEngine(cooldowns=False)  # the store checks cooldowns, across ingestors
        self.counts = Counts()
        self.bars = BarBuilder() if bars else None
        self.outbox = Outbox(db.notifications, notifiers, delivery or Delivery(), workers)
        self._lock = threading.Lock()
        self._engine_lock = threading.RLock()  # the engine and the bars are shared by every caller's thread
        self._loaded: dict[str, float] = {}  # symbol: when its alerts were last read
        self._instruments: set[str] = set()
        self._not_instruments: dict[str, float] = {}
        self._open_bars_written = 0.0
        self._bar_timer: threading.Timer | None = None
        self._closed = False
        self._fundamentals_read: dict[str, float] = {}
        self._retried = -RETRY_EVERY_S
        self._stopping = threading.Event()
        self._retrier: threading.Thread | None = None

    def track(self, alert: AlertSettings) -> None:
        """Keep the engine in step with a created or changed alert (one already true fires now)."""
        with self._engine_lock:
            if alert.symbol in self._loaded:
                self._hold([alert.entry()])
                self._apply({alert.symbol: []})

    def forget(self, alert_id: uuid.UUID) -> None:
        """Keep the engine in step with a deleted alert."""
        with self._engine_lock:
            self.engine.remove(alert_id)

    def _hold(self, alerts: list[AlertEntry]) -> None:
        # Settings no ingestor has checked yet are held unarmed: a level condition that holds at the bar
        # fires (once) when the next advance checks them.
        self.engine.upsert_many(alerts, arming=True)
        indicators: dict[str, list[tuple[uuid.UUID, int]]] = defaultdict(list)
        for a in alerts:
            if a.enabled and a.condition is not None and a.condition.indicator is not None:
                indicators[a.symbol].append((a.alert_id, a.condition.indicator.period))
        for symbol, held in indicators.items():
            self._warm(symbol, held)

    def load_alerts(self, symbols: Iterable[str]) -> int:
        """Bring the engine in step with the stored alerts of these symbols: new and changed ones are
        (re)placed, deleted and disabled ones dropped, unchanged ones keep their state. Returns how many
        enabled alerts the symbols have."""
        loaded = 0
        with self._engine_lock:
            for symbol in symbols:
                self._loaded[symbol] = time.monotonic()
                held = self.engine.versions(symbol)
                changed = []
                for alert in self.db.alerts.settings_for_symbol(symbol):
                    known = held.pop(alert.alert_id.bytes, None)
                    if alert.enabled and known != epoch_micros(alert.updated_at):
                        changed.append(alert)
                    elif not alert.enabled and known is not None:
                        self.engine.remove(alert.alert_id)
                    loaded += alert.enabled
                self._hold(changed)
                for gone in [uuid.UUID(bytes=key) for key in held]:
                    self.engine.remove(gone)
        return loaded

    def _warm(self, symbol: str, alerts: list[tuple[uuid.UUID, int]], cursor: SymbolCursor | None = None) -> None:
        """Start indicator alerts, (alert_id, period), from the symbol's recent one-minute bars in price history
        (3 x the longest period, and 2 bars more), so an SMA(20) alert works on the first tick after a restart.
        The bars are those before the cursor's minute (read here unless the caller has just read it)."""
        if not alerts:
            return
        longest = max(period for _, period in alerts)
        cursor = cursor or self.db.alerts.cursor(symbol)
        minute = cursor.minute if cursor is not None else now_ms() // MINUTE_MS
        start = datetime.fromtimestamp((minute - 3 * longest - 2) * MINUTE_MS / 1000, UTC)
        end = datetime.fromtimestamp((minute * MINUTE_MS - 1) / 1000, UTC)
        closes = [point.price for point in self.db.instruments.get_price_history(symbol, start, end)
                  if round(point.at.timestamp() * 1000) % MINUTE_MS == MINUTE_MS - 1]  # bar closes only
        for alert_id, _ in alerts:
            self.engine.warm(alert_id, closes)

    def ingest(self, records: Iterable[Any], label: Callable[[int], str] = "record {}".format) -> BatchResult:
        """One batch: the good ticks are stored, applied to their symbols' alerts and folded into bars;
        each bad record is counted and worded with label(its index in the batch)."""
        rows, rejections = sort_ticks(records)
        with self._lock:
            self.counts.rejected += len(rejections)
            for rejection in rejections[:max(0, MAX_KEPT_ERRORS - len(self.counts.errors))]:
                self.counts.errors.append(f"{label(rejection.index)}: {rejection.error}")
        if not rows:
            return BatchResult(0, rejections, [])
        with self._engine_lock:
            stored = self.db.ticks.record_ticks(rows)
            self.counts.accepted += len(rows)
            self.counts.merged += len(rows) - stored
            by_symbol: dict[str, list[TickRow]] = defaultdict(list)
            for row in rows:
                by_symbol[row.symbol].append(row)
            now = time.monotonic()
            stale = [s for s in by_symbol if now - self._loaded.get(s, -ALERTS_EVERY_S) >= ALERTS_EVERY_S]
            if stale:
                self.load_alerts(sorted(stale))
            for ticks in by_symbol.values():
                ticks.sort(key=lambda tick: tick.timestamp)  # stable: a millisecond's ticks keep their order
            recorded, applied = self._apply(by_symbol)
            self._write_bars(applied)
            for symbol in by_symbol:
                if self.engine.watches_fundamentals(symbol):
                    self._read_fundamentals(symbol)
        return BatchResult(len(rows), rejections, [as_trigger(n) for n in recorded])

    def _apply(self, by_symbol: dict[str, list[TickRow]]) -> tuple[list[Notification], list[TickRow]]:
        """Apply each symbol's ticks (in time order) to its alerts through its cursor, all in one advance;
        record and send what fires. Returns the notifications recorded and the ticks applied (not late):
        they alone make this ingestor's bars."""
        arming = {symbol: self.engine.unarmed(symbol) for symbol in by_symbol}
        late: dict[str, int] = {}
        fresh: dict[str, list[TickRow]] = {}
        for symbol, ticks in by_symbol.items():
            if ticks and self.engine.indicator_alerts(symbol):
                cursor = self.db.alerts.cursor(symbol)
                if cursor is not None and cursor.writer != self.name:
                    # Another ingestor closed bars since: take its closes up from price history.
                    self._warm(symbol, self.engine.indicator_alerts(symbol), cursor)

        def step(symbol: str, cursor: SymbolCursor | None) -> Advance:
            ticks = by_symbol[symbol]
            if cursor is not None:
                self.engine.resume(symbol, cursor.minute, cursor.open, cursor.high, cursor.low, cursor.close)
                if self.bars is not None:
                    self.bars.resume(symbol, cursor.minute, cursor.open, cursor.high, cursor.low, cursor.close)
                ticks = [tick for tick in ticks if tick.timestamp > cursor.applied_ms]
            fresh[symbol], late[symbol] = ticks, len(by_symbol[symbol]) - len(ticks)
            wanted = {alert_id: round(version.timestamp() * 1000) for alert_id, version in arming[symbol].items()}
            found: list[tuple[Trigger, uuid.UUID, datetime | None]] = [
                (t, crossing_id(t.alert_id, "armed", wanted[t.alert_id]), arming[symbol][t.alert_id])
                for t in self.engine.arm_many(symbol, wanted)]
            fired = self.engine.process_many((tick.symbol, tick.price, tick.timestamp) for tick in ticks)
            found += [(t, crossing_id(t.alert_id, "tick", t.timestamp), None) for t in fired]
            bar = self.engine.bar(symbol)
            moved = None if not ticks or bar is None else SymbolCursor(symbol, ticks[-1].timestamp, *bar, self.name)
            # Before the symbol's first tick there is no bar to check arriving alerts at: the first tick does.
            armed = list(arming[symbol].items()) if bar is not None else []
            return Advance(moved, self._pending(found), armed)

        wanted = [symbol for symbol, ticks in by_symbol.items() if ticks or arming[symbol]]
        if not wanted:
            return [], []
        recorded = self.db.alerts.advance(wanted, step)
        for symbol in wanted:
            if self.engine.bar(symbol) is not None:
                self.engine.armed(arming[symbol])
        with self._lock:
            self.counts.late += sum(late.values())
            self.counts.fired += len(recorded)
        self.outbox.send(recorded)
        return recorded, [tick for ticks in fresh.values() for tick in ticks]

    def _pending(self, found: list[tuple[Trigger, uuid.UUID, datetime | None]]) -> list[Pending]:
        now = utcnow()
        return [pending(trigger, notification_id, trigger.cooldown_seconds, now, arming)
                for trigger, notification_id, arming in found]

    def instrument_changed(self, instrument: Any) -> None:
        """Evaluate the fundamental alerts of an instrument just written (say, new allocations)."""
        with self._engine_lock:
            if instrument.symbol not in self._loaded:
                self.load_alerts([instrument.symbol])
            self._fundamentals_read[instrument.symbol] = time.monotonic()
            # Ingestors that see the same state of the instrument give a firing the same id: it is recorded once.
            version = f"{instrument.updated_at.isoformat()}|{instrument.current_price_at}"
            found: list[tuple[Trigger, uuid.UUID, datetime | None]] = [
                (t, crossing_id(t.alert_id, f"field:{t.price_type}", version), None)
                for t in self.engine.fundamentals(instrument, now_ms())]
            recorded = self.db.alerts.record_pending(self._pending(found)) if found else []
            with self._lock:
                self.counts.fired += len(recorded)
            self.outbox.send(recorded)

    def _read_fundamentals(self, symbol: str) -> None:
        if time.monotonic() - self._fundamentals_read.get(symbol, -FUNDAMENTALS_EVERY_S) < FUNDAMENTALS_EVERY_S:
            return
        instrument = self.db.instruments.find_by_symbol(symbol)
        if instrument is not None:
            self.instrument_changed(instrument)

    def _write_bars(self, rows: list[TickRow], force: bool = False) -> None:
        if self.bars is None:
            return
        self.bars.add(rows)
        include_open = force or time.monotonic() - self._open_bars_written >= OPEN_BAR_WRITE_S
        if include_open:
            self._open_bars_written = time.monotonic()
        elif self._bar_timer is None and not self._closed:
            # Open bars held back now are written within OPEN_BAR_WRITE_S even if no further tick comes.
            self._bar_timer = threading.Timer(OPEN_BAR_WRITE_S, self._write_held_bars)
            self._bar_timer.daemon = True
            self._bar_timer.start()
        points = [{"symbol": bar.symbol, "price": bar.close, "at": bar.closes_at}
                  for bar in self.bars.drain(include_open) if self._is_instrument(bar.symbol)]
        if points:
            # Each bar's close is one price-history point; the newest also moves current_price.
            self.db.instruments.record_prices(points)

    def _write_held_bars(self) -> None:
        with self._engine_lock:
            self._bar_timer = None
            if not self._closed:
                try:
                    self._write_bars([], force=True)
                except AlexdbError as exc:  # a timer thread has nobody to raise to: keep it in the counts
                    with self._lock:
                        self.counts.errors.append(f"writing bars failed: {exc}")

    def _is_instrument(self, symbol: str) -> bool:
        """Bars are kept for known instruments only; an unknown symbol is looked up again after a while."""
        if symbol in self._instruments:
            return True
        checked = self._not_instruments.get(symbol)
        if checked is not None and time.monotonic() - checked < UNKNOWN_SYMBOL_RECHECK_S:
            return False
        if self.db.instruments.find_by_symbol(symbol) is not None:
            self._instruments.add(symbol)
            return True
        self._not_instruments[symbol] = time.monotonic()
        return False

    def retry_due(self, limit: int = DUE_PAGE, at_most_every_s: float = 0.0) -> int:
        """Resend the deliveries that are due (pending past their lease, or failed and due again) that
        this ingestor claims; nothing if it did so less than at_most_every_s ago. How many it resent."""
        if time.monotonic() - self._retried < at_most_every_s:
            return 0
        self._retried = time.monotonic()
        return self.outbox.retry_due(limit=limit)

    def retry_in_background(self, every_s: float = RETRY_EVERY_S) -> None:
        """Run the retry worker on a thread of this ingestor until close()."""
        def loop() -> None:
            while not self._stopping.wait(every_s):
                try:
                    while self.retry_due() == DUE_PAGE:
                        pass  # a full page: more may be due
                except AlexdbError as exc:  # kept and reported; the next round tries again
                    with self._lock:
                        self.counts.errors.append(f"retrying deliveries failed: {exc}")

        self._retrier = threading.Thread(target=loop, name="alexdb-retry", daemon=True)
        self._retrier.start()

    def settle(self) -> Counts:
        """Write the open bars, and wait for the deliveries under way and their records; sent and failed
        then count them."""
        with self._engine_lock:
            self._write_bars([], force=True)
        sent, failed = self.outbox.wait()
        with self._lock:
            self.counts.sent += sent
            self.counts.failed += failed
            self.counts.errors += self.outbox.errors[:max(0, MAX_KEPT_ERRORS - len(self.counts.errors))]
            self.outbox.errors.clear()
        return self.counts

    def close(self) -> Counts:
        """Settle, then stop the deliveries and the bar timer; the counts are then final."""
        self._stopping.set()
        if self._retrier is not None:
            self._retrier.join()
        self.settle()
        with self._engine_lock:
            self._closed = True
            if self._bar_timer is not None:
                self._bar_timer.cancel()
                self._bar_timer = None
        self.outbox.close()
        return self.counts

