"""Ingestion: ticks are stored and evaluated; each trigger is delivered off the hot path and recorded."""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from alexdb.domain.alerts import Alert, Trigger
from alexdb.domain.errors import AlexdbError
from alexdb.domain.instants import now_ms
from alexdb.domain.speed_rules import Delivered
from alexdb.domain.ticks import Rejection, TickRow, sort_ticks
from alexdb.speed.bars import BarBuilder
from alexdb.speed.engine import AlertEngine
from alexdb.speed.notifiers import Delivery, Notifier

if TYPE_CHECKING:
    from alexdb.database import Database

MAX_KEPT_ERRORS = 1000
UNKNOWN_SYMBOL_RECHECK_S = 60.0
OPEN_BAR_WRITE_S = 1.0  # current_price trails the latest tick by at most this (closed bars are written at once)
RECORD_BATCH = 500
FUNDAMENTALS_EVERY_S = 60.0  # how often a ticking symbol's instrument is re-read for its fundamental alerts
ALERTS_EVERY_S = 30.0  # how often a ticking symbol's alerts are re-read, to follow changes made elsewhere


@dataclass
class Counts:
    """What a run did; errors keeps the first MAX_KEPT_ERRORS rejections, worded."""

    accepted: int = 0
    rejected: int = 0
    fired: int = 0
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    interrupted: bool = False


@dataclass
class BatchResult:
    """One batch: how many ticks were accepted, and each rejected record with its position and reason."""

    accepted: int
    rejections: list[Rejection]
    triggers: list[Trigger]


class Ingestor:
    """Stores ticks, runs them through the engine, writes one-minute bars as price history, and delivers
    and records every trigger.

    A bad record is rejected on its own and the rest of its batch goes on. Alerts of a symbol are loaded
    the first time the symbol is seen. Deliveries run on a small thread pool, so a slow or failing notifier
    never blocks ingestion. One recorder thread then writes the deliveries (delivery_status and message
    id, with each alert's bookkeeping) many to a transaction: a transaction per trigger would queue the
    notifications behind the database when alerts fire in bursts.
    """

    def __init__(self, db: Database, notifiers: Mapping[str, Notifier], delivery: Delivery | None = None,
                 engine: AlertEngine | None = None, workers: int = 4, bars: bool = True) -> None:
        self.db, self.notifiers = db, dict(notifiers)
        self.delivery = delivery or Delivery()
        self.engine = engine or AlertEngine()
        self.counts = Counts()
        self.bars = BarBuilder() if bars else None
        self._pool = ThreadPoolExecutor(max_workers=workers)
        self._pending: list[Future[str]] = []
        self._lock = threading.Lock()
        self._engine_lock = threading.RLock()  # the engine and the bars are shared by every caller's thread
        self._loaded: dict[str, float] = {}  # symbol: when its alerts were last read
        self._instruments: set[str] = set()
        self._not_instruments: dict[str, float] = {}
        self._open_bars_written = 0.0
        self._bar_timer: threading.Timer | None = None
        self._closed = False
        self._fundamentals_read: dict[str, float] = {}
        self._deliveries: queue.Queue[Delivered | None] = queue.Queue()
        self._recorder = threading.Thread(target=self._record, name="alexdb-recorder", daemon=True)
        self._recorder.start()

    def track(self, alert: Alert) -> None:
        """Keep the engine in step with a created or changed alert (one already true fires now)."""
        with self._engine_lock:
            if alert.symbol in self._loaded:
                self._submit(self.engine.upsert(alert))

    def forget(self, alert_id: uuid.UUID) -> None:
        """Keep the engine in step with a deleted alert."""
        with self._engine_lock:
            self.engine.remove(alert_id)

    def load_alerts(self, symbols: Iterable[str]) -> int:
        """Bring the engine in step with the stored alerts of these symbols: new and changed ones are
        (re)placed, deleted and disabled ones dropped, unchanged ones keep their state. Returns how many
        enabled alerts the symbols have."""
        loaded = 0
        with self._engine_lock:
            for symbol in symbols:
                self._loaded[symbol] = time.monotonic()
                held = self.engine.held(symbol)
                for alert in self.db.alerts.find_by_symbol(symbol):
                    known = held.pop(alert.alert_id, None)
                    if alert.enabled and (known is None or known.updated_at != alert.updated_at):
                        self._submit(self.engine.upsert(alert))
                    elif not alert.enabled and known is not None:
                        self.engine.remove(alert.alert_id)
                    loaded += alert.enabled
                for gone in held:
                    self.engine.remove(gone)
        return loaded

    def ingest(self, records: Iterable[Any], label: Callable[[int], str] = "record {}".format) -> BatchResult:
        """One batch: the good ticks are stored, evaluated and folded into bars; each bad record is
        counted and worded with label(its index in the batch)."""
        rows, rejections = sort_ticks(records)
        with self._lock:
            self.counts.rejected += len(rejections)
            for rejection in rejections[:max(0, MAX_KEPT_ERRORS - len(self.counts.errors))]:
                self.counts.errors.append(f"{label(rejection.index)}: {rejection.error}")
        if not rows:
            return BatchResult(0, rejections, [])
        with self._engine_lock:
            self.db.ticks.record_ticks(rows)
            self.counts.accepted += len(rows)
            symbols = {row.symbol for row in rows}
            now = time.monotonic()
            stale = [s for s in symbols if now - self._loaded.get(s, -ALERTS_EVERY_S) >= ALERTS_EVERY_S]
            if stale:
                self.load_alerts(sorted(stale))
            triggers = self.engine.process_many((row.symbol, row.price, row.timestamp) for row in rows)
            self._submit(triggers)
            self._write_bars(rows)
            for symbol in symbols:
                if self.engine.watches_fundamentals(symbol):
                    self._read_fundamentals(symbol)
        return BatchResult(len(rows), rejections, triggers)

    def instrument_changed(self, instrument: Any) -> None:
        """Evaluate the fundamental alerts of an instrument just written (say, new allocations)."""
        with self._engine_lock:
            if instrument.symbol not in self._loaded:
                self.load_alerts([instrument.symbol])
            self._fundamentals_read[instrument.symbol] = time.monotonic()
            self._submit(self.engine.fundamentals(instrument, now_ms()))

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

    def _submit(self, triggers: list[Trigger]) -> None:
        with self._lock:
            self.counts.fired += len(triggers)
            self._pending += [self._pool.submit(self._deliver, trigger) for trigger in triggers]

    def _deliver(self, trigger: Trigger) -> str:
        status, detail = self.delivery.deliver(self.notifiers.get(trigger.notification_method), trigger)
        self._deliveries.put((trigger, status, detail if status == "sent" else None))
        return status

    def _record(self) -> None:
        """The recorder thread: deliveries written in batches until the None that close() sends."""
        while True:
            batch = [self._deliveries.get()]
            while len(batch) < RECORD_BATCH:
                try:
                    batch.append(self._deliveries.get_nowait())
                except queue.Empty:
                    break
            deliveries = [delivered for delivered in batch if delivered is not None]
            try:
                if deliveries:  # deliveries of alerts deleted meanwhile are skipped: their history goes too
                    self.db.alerts.record_triggers(deliveries)
            except AlexdbError as exc:  # kept and reported; the thread must outlive a failing database
                with self._lock:
                    self.counts.errors.append(f"recording {len(deliveries)} deliveries failed: {exc}")
            finally:
                for _ in batch:
                    self._deliveries.task_done()
            if len(deliveries) < len(batch):
                return

    def settle(self) -> Counts:
        """Write the open bars, and wait for the deliveries under way and their records; sent and failed
        then count them."""
        with self._engine_lock:
            self._write_bars([], force=True)
        with self._lock:
            pending, self._pending = self._pending, []
        for future in pending:
            if future.result() == "sent":
                self.counts.sent += 1
            else:
                self.counts.failed += 1
        self._deliveries.join()
        return self.counts

    def close(self) -> Counts:
        """Settle, then stop the pool, the recorder and the bar timer; the counts are then final."""
        self.settle()
        with self._engine_lock:
            self._closed = True
            if self._bar_timer is not None:
                self._bar_timer.cancel()
                self._bar_timer = None
        self._pool.shutdown()
        if self._recorder.is_alive():
            self._deliveries.put(None)
            self._recorder.join()
        return self.counts
