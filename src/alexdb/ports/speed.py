"""The speed layer's primitives: alerts, symbol cursors, notifications, ticks."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from alexdb.domain.alerts import Alert, Notification
from alexdb.domain.paging import Bookmark
from alexdb.domain.speed_state import Advance, Pending, SymbolCursor
from alexdb.domain.ticks import TickRow
from alexdb.ports.portfolio import Rows


class AlertRecords(Protocol):
    """The primitives behind db.alerts: every rule lives in services/speed.py."""

    def insert_alert(self, alert: Alert) -> None:
        """Store a new alert."""
        ...
    def get_alert(self, alert_id: uuid.UUID) -> Alert | None:
        """The alert, or None."""
        ...
    def replace_settings(self, alert: Alert, expected: datetime) -> Alert | None:
        """Store the settings only if updated_at is still expected, keeping trigger bookkeeping; else None."""
        ...
    def delete_alert(self, alert_id: uuid.UUID) -> bool:
        """Delete; False when there is none."""
        ...
    def user_page(self, user_id: str, after: Bookmark | None, size: int) -> Rows:
        """Up to size of a user's alerts, newest first."""
        ...
    def symbol_page(self, symbol: str, after: Bookmark | None, size: int) -> Rows:
        """Up to size alerts on a symbol, by user."""
        ...
    def settings_page(self, symbol: str, after: Bookmark | None, size: int) -> Rows:
        """Up to size alerts' settings (AlertEntry: no trigger bookkeeping) on a symbol, by user."""
        ...
    def record_notifications(self, pending: Sequence[Pending]) -> list[Notification]:
        """Store notifications not stored yet, with their alerts' last_triggered and trigger_count, all or
        nothing; those of deleted alerts, or of alerts that fired after their not_before, are skipped."""
        ...


CursorStep = Callable[[str, SymbolCursor | None], Advance]
"""Given a symbol and its cursor (None before its first tick): what the ticks applied after it did."""


class CursorRecords(Protocol):
    """Each symbol's speed cursor: the store lets one ingestor at a time advance it."""

    def cursor(self, symbol: str) -> SymbolCursor | None:
        """The cursor, or None before the symbol's first tick."""
        ...
    def advance(self, symbols: Sequence[str], step: CursorStep) -> list[Notification]:
        """Run step on each symbol's current cursor while no other ingestor can advance it; record the new
        cursors, the notifications (as record_notifications does) and the alerts' armed_at, so that none is
        lost if a cursor moves. Returns the notifications recorded now: those the caller delivers."""
        ...


class NotificationRecords(Protocol):
    """The primitives behind db.notifications."""

    def user_page(self, user_id: str, after: Bookmark | None, size: int) -> Rows:
        """Up to size of a user's notifications, newest first."""
        ...
    def mark(self, notifications: Sequence[Notification]) -> None:
        """Store each one's delivery status, message id, attempts, last error and next attempt."""
        ...
    def due(self, now: datetime, size: int) -> list[Notification]:
        """Up to size deliveries whose next attempt is at or before now, the most overdue first."""
        ...
    def claim(self, notification: Notification, until: datetime) -> bool:
        """Move a due delivery's next attempt to until if it is still as read; False if another moved it."""
        ...


class TickRecords(Protocol):
    """The primitives behind db.ticks (kept 24 hours)."""

    def write_ticks(self, ticks: Sequence[TickRow]) -> None:
        """Store checked ticks; the last of a symbol in one millisecond wins."""
        ...
    def tick_page(self, symbol: str, start_ms: int, end_ms: int, newest_first: bool, after: Bookmark | None,
                  size: int) -> Rows:
        """Up to size live ticks of a symbol between two instants (ms), after a position."""
        ...
    def purge_expired(self) -> int:
        """Delete expired ticks where the engine does not; how many."""
        ...
