"""Deliveries of recorded notifications: sent off the ingestion path, their outcome written in batches, and
the retry worker that resends what a crash or a failing channel left pending or failed."""

from __future__ import annotations

import queue
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime

from alexdb.domain.alerts import Notification
from alexdb.domain.errors import AlexdbError
from alexdb.domain.instants import utcnow
from alexdb.domain.speed_state import DELIVERY_LEASE, as_trigger
from alexdb.services.speed import NotificationService
from alexdb.speed.notifiers import Delivery, Notifier

RECORD_BATCH = 500
PER_TASK = 50
Attempt = tuple[Notification, str, str | None]


class Outbox:
    """Sends recorded notifications on a small thread pool (a slow channel never blocks ingestion) and
    writes each outcome (sent with its message id, or failed with its error and next attempt) from one
    recorder thread, many to a transaction."""

    def __init__(self, notifications: NotificationService, notifiers: Mapping[str, Notifier], delivery: Delivery,
                 workers: int = 4) -> None:
        self._notifications, self._notifiers, self._delivery = notifications, dict(notifiers), delivery
        self._pool, self._workers = ThreadPoolExecutor(max_workers=workers), workers
        self._futures: list[Future[int]] = []
        self._handed = 0  # deliveries handed to the pool since the last wait()
        self._lock = threading.Lock()
        self._outcomes: queue.Queue[Attempt | None] = queue.Queue()
        self.errors: list[str] = []
        self._recorder = threading.Thread(target=self._record, name="alexdb-recorder", daemon=True)
        self._recorder.start()

    def send(self, notifications: list[Notification]) -> None:
        """Deliver these (recorded as pending) in the background, a few to a task (a burst of 20,000 is
        then hundreds of tasks, not 20,000)."""
        size = max(1, min(PER_TASK, len(notifications) // (2 * self._workers) or 1))
        with self._lock:
            self._handed += len(notifications)
            self._futures += [self._pool.submit(self._send, notifications[start:start + size])
                              for start in range(0, len(notifications), size)]

    def _send(self, notifications: list[Notification]) -> int:
        sent = 0
        for notification in notifications:
            trigger = as_trigger(notification)
            status, detail = self._delivery.deliver(self._notifiers.get(trigger.notification_method), trigger,
                                                    str(notification.notification_id))
            self._outcomes.put((notification, status, detail))
            sent += status == "sent"
        return sent

    def retry_due(self, now: datetime | None = None, limit: int = 100) -> int:
        """The retry worker's round: each due delivery that this worker claims (another worker may take
        it first) is sent again now and its outcome written. Returns how many it sent or tried."""
        moment = now or utcnow()
        claimed = [n for n in self._notifications.due(moment, limit)
                   if self._notifications.claim(n, moment + DELIVERY_LEASE)]
        # The claim moved next_attempt_at: the outcome must be written over the claimed state.
        self.send([n.model_copy(update={"next_attempt_at": moment + DELIVERY_LEASE}) for n in claimed])
        return len(claimed)

    def _record(self) -> None:
        """The recorder thread: outcomes written in batches until the None that close() sends."""
        while True:
            batch = [self._outcomes.get()]
            while len(batch) < RECORD_BATCH:
                try:
                    batch.append(self._outcomes.get_nowait())
                except queue.Empty:
                    break
            attempts = [attempt for attempt in batch if attempt is not None]
            try:
                if attempts:
                    self._notifications.settle_many(attempts)
            except AlexdbError as exc:  # kept and reported: the deliveries stay due and the worker resends them
                with self._lock:
                    self.errors.append(f"recording {len(attempts)} delivery outcomes failed: {exc}")
            finally:
                for _ in batch:
                    self._outcomes.task_done()
            if len(attempts) < len(batch):
                return

    def wait(self) -> tuple[int, int]:
        """Wait for the deliveries under way and their outcomes' records: (sent, failed) among them."""
        with self._lock:
            futures, self._futures = self._futures, []
            handed, self._handed = self._handed, 0
        sent = sum(future.result() for future in futures)
        self._outcomes.join()
        return sent, handed - sent

    def close(self) -> None:
        """Stop the pool and the recorder (after wait())."""
        self._pool.shutdown()
        if self._recorder.is_alive():
            self._outcomes.put(None)
            self._recorder.join()
