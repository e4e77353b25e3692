"""Ingestion: ticks are stored and evaluated; each trigger is delivered off the hot path and recorded."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from alexdb.domain.alerts import Trigger
from alexdb.domain.speed_rules import validate_ticks
from alexdb.speed.engine import AlertEngine
from alexdb.speed.notifiers import Delivery, Notifier


@dataclass
class Counts:
    """What a run did."""

    accepted: int = 0
    rejected: int = 0
    fired: int = 0
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class Ingestor:
    """Stores ticks, runs them through the engine, and delivers and records every trigger.

    Deliveries run on a small thread pool, so a slow or failing notifier never blocks ingestion; each
    delivery is recorded (delivery_status and message id) together with the alert's trigger bookkeeping.
    """

    def __init__(self, db: Any, notifiers: Mapping[str, Notifier], delivery: Delivery | None = None,
                 engine: AlertEngine | None = None, workers: int = 4) -> None:
        self.db, self.notifiers = db, dict(notifiers)
        self.delivery = delivery or Delivery()
        self.engine = engine or AlertEngine()
        self.counts = Counts()
        self._pool = ThreadPoolExecutor(max_workers=workers)
        self._pending: list[Future[str]] = []

    def load_alerts(self, symbols: Iterable[str]) -> int:
        """Hold the enabled alerts of these symbols in the engine; returns how many."""
        loaded = 0
        for symbol in symbols:
            cursor = None
            while True:
                page = self.db.alerts.find_by_symbol(symbol, cursor=cursor)
                for alert in page:
                    if alert.enabled:
                        self.engine.upsert(alert)
                        loaded += 1
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
        return loaded

    def ingest(self, ticks: Iterable[Any]) -> Counts:
        """One batch: a malformed batch is rejected whole with its first bad record named; ingestion goes on."""
        batch = list(ticks)
        try:
            valid = validate_ticks(batch)
        except Exception as exc:
            self.counts.rejected += len(batch)
            self.counts.errors.append(str(exc))
            return self.counts
        self.db.ticks.record_ticks(valid)
        self.counts.accepted += len(valid)
        for trigger in self.engine.process_many((t.symbol, t.price, t.timestamp) for t in valid):
            self.counts.fired += 1
            self._pending.append(self._pool.submit(self._deliver, trigger))
        return self.counts

    def _deliver(self, trigger: Trigger) -> str:
        status, detail = self.delivery.deliver(self.notifiers.get(trigger.notification_method), trigger)
        self.db.alerts.record_trigger(trigger, status, detail if status == "sent" else None)
        return status

    def close(self) -> Counts:
        """Wait for every delivery; the counts are then final."""
        for future in self._pending:
            if future.result() == "sent":
                self.counts.sent += 1
            else:
                self.counts.failed += 1
        self._pending.clear()
        self._pool.shutdown()
        return self.counts
