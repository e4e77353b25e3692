"""db.alerts, db.notifications and db.ticks: the speed layer's rules, over any backend's records."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from alexdb.domain.alerts import Alert, AlertEntry, Notification, Tick, Trigger
from alexdb.domain.errors import NotFoundError, ValidationError
from alexdb.domain.instants import utcnow
from alexdb.domain.models import normalise_symbol, user_key
from alexdb.domain.paging import MAX_LIMIT, Bookmark, Cursors, Results, scope
from alexdb.domain.speed_rules import Delivered, check_delivery, new_alert, updated_alert
from alexdb.domain.speed_state import Pending, SymbolCursor, after_attempt
from alexdb.domain.ticks import merge_same_millisecond, parse_ticks
from alexdb.domain.validate import parse_id
from alexdb.ports import AlertRecords, CursorRecords, CursorStep, NotificationRecords, Rows, TickRecords
from alexdb.services.records import until_written

NEWEST = 2**62  # a millisecond timestamp after any real one


class AlertService:
    """The public alert API; owns validation, settings updates and trigger bookkeeping."""

    def __init__(self, records: AlertRecords, speed_cursors: CursorRecords, cursors: Cursors) -> None:
        self._records, self._speed_cursors, self._cursors = records, speed_cursors, cursors

    def create_alert(self, user_id: str, symbol: str, condition: Any, /, **fields: Any) -> Alert:
        """Create an alert; one that could never fire is refused."""
        alert = new_alert(user_id, symbol, condition, **fields)
        self._records.insert_alert(alert)
        return alert

    def get_alert(self, alert_id: uuid.UUID | str) -> Alert:
        """The alert; NotFoundError if there is none."""
        alert = self._records.get_alert(parse_id("alert", alert_id))
        if alert is None:
            raise NotFoundError("alert", alert_id)
        return alert

    def update_alert(self, alert_id: uuid.UUID | str, /, **fields: Any) -> Alert:
        """Change an alert's condition, method, cooldown or enabled flag (validated as a whole).

        Trigger bookkeeping written meanwhile is kept, and concurrent updates of different settings all land.
        """

        def attempt() -> Alert | None:
            current = self.get_alert(alert_id)
            return self._records.replace_settings(updated_alert(current, fields), current.updated_at)

        return until_written(f"alert {alert_id}", attempt)

    def enable(self, alert_id: uuid.UUID | str) -> Alert:
        """Turn an alert on."""
        return self.update_alert(alert_id, enabled=True)

    def disable(self, alert_id: uuid.UUID | str) -> Alert:
        """Turn an alert off (kept, not evaluated)."""
        return self.update_alert(alert_id, enabled=False)

    def delete_alert(self, alert_id: uuid.UUID | str) -> None:
        """Delete an alert (its notification history stays)."""
        if not self._records.delete_alert(parse_id("alert", alert_id)):
            raise NotFoundError("alert", alert_id)

    def find_by_user(self, user_id: str, limit: int | None = None, cursor: str | None = None) -> Results[Alert]:
        """A user's alerts, newest first (with limit: one page)."""
        user_id = user_key(user_id)

        def read(after: Bookmark | None, size: int) -> Rows:
            return self._records.user_page(user_id, after, size)

        return Results(read, scope("alerts", user_id), self._cursors, limit, cursor)

    def find_by_symbol(self, symbol: str, limit: int | None = None, cursor: str | None = None) -> Results[Alert]:
        """Alerts on a symbol, by user (with limit: one page; without, read MAX_LIMIT at a time)."""
        key = normalise_symbol(symbol)

        def read(after: Bookmark | None, size: int) -> Rows:
            return self._records.symbol_page(key, after, size)

        return Results(read, scope("alerts.symbol", key), self._cursors, limit, cursor, page_size=MAX_LIMIT)

    def settings_for_symbol(self, symbol: str) -> Results[AlertEntry]:
        """The settings of every alert on a symbol, by user, without trigger bookkeeping: what an ingestor
        loads (on DynamoDB an index that triggers never rewrite serves it)."""
        key = normalise_symbol(symbol)

        def read(after: Bookmark | None, size: int) -> Rows:
            return self._records.settings_page(key, after, size)

        return Results(read, scope("alerts.settings", key), self._cursors, page_size=MAX_LIMIT)

    def record_trigger(self, trigger: Trigger, delivery_status: str, message_id: str | None = None) -> Notification:
        """The history record and the alert's last_triggered / trigger_count, together."""
        recorded = self._records.record_notifications([Pending(check_delivery(trigger, delivery_status, message_id))])
        if not recorded:
            raise NotFoundError("alert", str(trigger.alert_id))
        return recorded[0]

    def record_triggers(self, deliveries: Sequence[Delivered]) -> list[Notification]:
        """Many deliveries with their alerts' bookkeeping; those of alerts deleted meanwhile are skipped.

        Every delivery is checked before anything is written: a bad one refuses the batch.
        """
        return self._records.record_notifications([Pending(check_delivery(*delivered)) for delivered in deliveries])

    def record_pending(self, pending: Sequence[Pending]) -> list[Notification]:
        """Record notifications to deliver (pending), each at most once by its id, with their alerts'
        bookkeeping; those of deleted alerts or inside a cooldown are skipped. Returns those recorded now."""
        return self._records.record_notifications(pending)

    def cursor(self, symbol: str) -> SymbolCursor | None:
        """How far the symbol's ticks have been applied to its alerts (None before its first tick)."""
        return self._speed_cursors.cursor(normalise_symbol(symbol))

    def advance(self, symbols: Sequence[str], step: CursorStep) -> list[Notification]:
        """Apply ticks to symbols' alerts as the only ingestor doing so: step gets each symbol and its cursor
        and returns the next one with the notifications to record; returns those recorded now (the caller
        delivers them). Every notification is pending until settle() settles it."""
        return self._speed_cursors.advance([normalise_symbol(symbol) for symbol in symbols], step)


class NotificationService:
    """The public notification-history API."""

    def __init__(self, records: NotificationRecords, cursors: Cursors) -> None:
        self._records, self._cursors = records, cursors

    def find_by_user(self, user_id: str, limit: int | None = None,
                     cursor: str | None = None) -> Results[Notification]:
        """A user's notifications, newest first (with limit: one page)."""
        user_id = user_key(user_id)

        def read(after: Bookmark | None, size: int) -> Rows:
            return self._records.user_page(user_id, after, size)

        return Results(read, scope("notifications", user_id), self._cursors, limit, cursor)

    def due(self, now: datetime | None = None, limit: int = 100) -> list[Notification]:
        """Deliveries pending or failed whose next attempt is due (the retry worker's queue), oldest first."""
        return self._records.due(now or utcnow(), limit)

    def claim(self, notification: Notification, until: datetime) -> bool:
        """Take a due delivery until then (False if another worker took it since it was read)."""
        return self._records.claim(notification, until)

    def settle(self, notification: Notification, status: str, detail: str | None, now: datetime | None = None
               ) -> Notification:
        """Record one delivery attempt: sent (detail is the message id), or failed (detail is the error),
        to be tried again on the retry schedule until MAX_ATTEMPTS."""
        return self.settle_many([(notification, status, detail)], now)[0]

    def settle_many(self, attempts: Sequence[tuple[Notification, str, str | None]],
                    now: datetime | None = None) -> list[Notification]:
        """settle, for many deliveries in one go."""
        moment = now or utcnow()
        settled = [after_attempt(n, status, detail, moment) for n, status, detail in attempts]
        if settled:
            self._records.mark(settled)
        return settled


class TickService:
    """The public tick API: ticks are kept 24 hours after their timestamp, and never read once expired."""

    def __init__(self, records: TickRecords, cursors: Cursors) -> None:
        self._records, self._cursors = records, cursors

    def record_ticks(self, batch: Iterable[Any]) -> int:
        """Store ticks (each checked first: a bad one refuses the batch, naming its record number); returns
        the rows stored. Ticks are kept per symbol and millisecond: trades of one millisecond in a batch
        become one row (the last price and source, the volumes added), and a later batch's tick of a stored
        millisecond replaces it (so a redelivered batch counts once)."""
        ticks = merge_same_millisecond(parse_ticks(batch))
        if ticks:
            self._records.write_ticks(ticks)
        return len(ticks)

    def latest(self, symbol: str) -> Tick | None:
        """The newest live tick of a symbol."""
        found, _ = self._records.tick_page(normalise_symbol(symbol), 0, NEWEST, True, None, 1)
        return found[0] if found else None

    def window(self, symbol: str, start_ms: int, end_ms: int, limit: int | None = None,
               newest_first: bool = False, cursor: str | None = None) -> Results[Tick]:
        """Live ticks of a symbol with start_ms <= timestamp <= end_ms, in time order (with limit: one page)."""
        key = normalise_symbol(symbol)
        for name, value in (("start_ms", start_ms), ("end_ms", end_ms)):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= NEWEST:
                raise ValidationError(name, value, "must be a whole number of milliseconds since 1970")

        def read(after: Bookmark | None, size: int) -> Rows:
            return self._records.tick_page(key, start_ms, end_ms, newest_first, after, size)

        # A whole window is read MAX_LIMIT ticks at a time: a second of SPY is 1,000 of them.
        return Results(read, scope("ticks", key, start_ms, end_ms, newest_first), self._cursors, limit, cursor,
                       page_size=MAX_LIMIT)

    def purge_expired(self) -> int:
        """Delete expired ticks now (SQL; DynamoDB's TTL does it there); how many."""
        return self._records.purge_expired()
