"""The speed layer's data on SQL: alert configurations, realtime ticks, notification history."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, insert, select, update

from alexdb.adapters.sql.bulk import PreparedInsert
from alexdb.adapters.sql.engine import UnitOfWork
from alexdb.adapters.sql.paging import keyset_rows
from alexdb.adapters.sql.schema import alert_configurations, alert_notifications_history, realtime_ticks
from alexdb.adapters.sql.upsert import insert_for
from alexdb.domain.alerts import TICK_TTL_MS, Alert, AlertEntry, Notification, Tick, stored_entry
from alexdb.domain.instants import now_ms
from alexdb.domain.paging import Bookmark
from alexdb.domain.speed_rules import SETTINGS
from alexdb.domain.speed_state import Pending
from alexdb.domain.ticks import TickRow
from alexdb.ports import Rows


def _alert(row: Row[Any]) -> Alert:
    return Alert.model_validate(dict(row._mapping))


def _entry(row: Any) -> AlertEntry:
    return stored_entry(*row)  # the columns settings_page selects, in its order


class SqlAlerts:
    """AlertRecords on SQLite and PostgreSQL."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def insert_alert(self, alert: Alert) -> None:
        """Insert a new alert."""
        with self._uow.begin(write=True) as conn:
            conn.execute(insert(alert_configurations).values(**alert.model_dump()))

    def get_alert(self, alert_id: uuid.UUID) -> Alert | None:
        """The alert, or None."""
        with self._uow.begin() as conn:
            row = conn.execute(select(alert_configurations).where(alert_configurations.c.alert_id == alert_id)).first()
        return None if row is None else _alert(row)

    def replace_settings(self, alert: Alert, expected: datetime) -> Alert | None:
        """Set the settings only where updated_at is still expected; trigger bookkeeping is left as stored."""
        a = alert_configurations
        with self._uow.begin(write=True) as conn:
            if not conn.execute(update(a).where(a.c.alert_id == alert.alert_id, a.c.updated_at == expected)
                                .values(**alert.model_dump(include=set(SETTINGS)))).rowcount:
                return None
            return _alert(conn.execute(select(a).where(a.c.alert_id == alert.alert_id)).one())

    def delete_alert(self, alert_id: uuid.UUID) -> bool:
        """Delete; False when there is none."""
        with self._uow.begin(write=True) as conn:
            a = alert_configurations
            return bool(conn.execute(delete(a).where(a.c.alert_id == alert_id)).rowcount)

    def user_page(self, user_id: str, after: Bookmark | None, size: int) -> Rows:
        """A user's alerts, newest first."""
        statement = select(alert_configurations).where(alert_configurations.c.user_id == user_id)
        keys = [alert_configurations.c.created_at, alert_configurations.c.alert_id]
        with self._uow.begin() as conn:
            return keyset_rows(conn, statement, keys, size, after, _alert, descending=True)

    def symbol_page(self, symbol: str, after: Bookmark | None, size: int) -> Rows:
        """Alerts on a symbol, by user."""
        statement = select(alert_configurations).where(alert_configurations.c.symbol == symbol)
        keys = [alert_configurations.c.user_id, alert_configurations.c.alert_id]
        with self._uow.begin() as conn:
            return keyset_rows(conn, statement, keys, size, after, _alert)

    def settings_page(self, symbol: str, after: Bookmark | None, size: int) -> Rows:
        """Alerts' settings on a symbol as AlertEntry, by user: the settings columns only."""
        a = alert_configurations
        statement = select(a.c.alert_id, a.c.user_id, a.c.symbol, a.c.condition_type, a.c.condition,
                           a.c.notification_method, a.c.cooldown_seconds, a.c.enabled, a.c.updated_at,
                           a.c.armed_at).where(a.c.symbol == symbol)
        with self._uow.begin() as conn:
            return keyset_rows(conn, statement, [a.c.user_id, a.c.alert_id], size, after, _entry)

    def record_notifications(self, pending: Sequence[Pending]) -> list[Notification]:
        """Record notifications and their alerts' bookkeeping in one transaction; see record_pending."""
        with self._uow.begin(write=True) as conn:
            return record_pending(conn, pending)


def _parts(values: list[Any], size: int = 5000) -> Iterator[list[Any]]:
    """values in slices that stay within the drivers' bound-parameter limits."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def record_pending(conn: Connection, pending: Sequence[Pending]) -> list[Notification]:
    """Insert the notifications not recorded yet, with their alerts' last_triggered and trigger_count;
    those of alerts deleted meanwhile, or that last fired after their not_before, or arrival firings of
    settings checked already, are skipped (see Pending). The alert
    rows are locked first, so two transactions never both pass one cooldown."""
    a, h = alert_configurations, alert_notifications_history
    if not pending:
        return []
    keys = sorted({p.notification.alert_id for p in pending})  # one lock order for every transaction
    rows = [row for part in _parts(keys) for row in conn.execute(
        select(a.c.alert_id, a.c.last_triggered, a.c.updated_at, a.c.armed_at)
        .where(a.c.alert_id.in_(part)).order_by(a.c.alert_id).with_for_update())]
    last = {row.alert_id: row.last_triggered for row in rows}
    unchecked = {row.alert_id: row.updated_at for row in rows if row.armed_at != row.updated_at}
    ids = [p.notification.notification_id for p in pending]
    known = {found for part in _parts(ids)
             for found in conn.execute(select(h.c.notification_id).where(h.c.notification_id.in_(part))).scalars()}
    kept: list[Notification] = []
    for p in pending:
        n = p.notification
        if n.alert_id not in last or n.notification_id in known:
            continue
        previous = last[n.alert_id]
        if p.not_before is not None and previous is not None and previous > p.not_before:
            continue  # inside the cooldown of a firing recorded by any ingestor
        if p.arming is not None and unchecked.pop(n.alert_id, None) != p.arming:
            continue  # an arrival firing of settings already checked (or replaced since)
        last[n.alert_id] = n.triggered_at if previous is None else max(previous, n.triggered_at)
        known.add(n.notification_id)
        kept.append(n)
    if kept:
        conn.execute(update(a).where(a.c.alert_id == bindparam("key")).values(
            last_triggered=bindparam("at"), trigger_count=a.c.trigger_count + 1),
            [{"key": n.alert_id, "at": last[n.alert_id]} for n in kept])
        conn.execute(insert(h), [n.model_dump() for n in kept])
        recorded = {n.notification_id for n in kept}
        armed = [{"key": p.notification.alert_id, "version": p.arming} for p in pending
                 if p.arming is not None and p.notification.notification_id in recorded]
        if armed:
            conn.execute(update(a).where(a.c.alert_id == bindparam("key")).values(armed_at=bindparam("version")),
                         armed)
    return kept


class SqlNotifications:
    """NotificationRecords on SQLite and PostgreSQL: the history and its delivery schedule."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def user_page(self, user_id: str, after: Bookmark | None, size: int) -> Rows:
        """A user's notifications, newest first."""
        h = alert_notifications_history
        with self._uow.begin() as conn:
            return keyset_rows(conn, select(h).where(h.c.user_id == user_id), [h.c.triggered_at, h.c.notification_id],
                               size, after, lambda row: Notification.model_validate(dict(row._mapping)),
                               descending=True)

    def mark(self, notifications: Sequence[Notification]) -> None:
        """Write each notification's delivery status, message id, attempts, error and next attempt."""
        h = alert_notifications_history
        fields = ("delivery_status", "message_id", "attempts", "next_attempt_at", "last_error")
        if not notifications:
            return
        with self._uow.begin(write=True) as conn:
            conn.execute(update(h).where(h.c.notification_id == bindparam("key"))
                         .values({name: bindparam(name) for name in fields}),
                         [{"key": n.notification_id, **n.model_dump(include=set(fields))} for n in notifications])

    def due(self, now: datetime, size: int) -> list[Notification]:
        """Up to size deliveries whose next attempt is due, the most overdue first."""
        h = alert_notifications_history
        with self._uow.begin() as conn:
            rows = conn.execute(select(h).where(h.c.next_attempt_at <= now)
                                .order_by(h.c.next_attempt_at, h.c.notification_id).limit(size))
            return [Notification.model_validate(dict(row._mapping)) for row in rows]

    def claim(self, notification: Notification, until: datetime) -> bool:
        """Move a due delivery's next attempt to until, if no one else has moved it since it was read."""
        h = alert_notifications_history
        if notification.next_attempt_at is None:
            return False  # settled: nothing to claim
        with self._uow.begin(write=True) as conn:
            return bool(conn.execute(update(h).where(h.c.notification_id == notification.notification_id,
                                                     h.c.next_attempt_at == notification.next_attempt_at)
                                     .values(next_attempt_at=until)).rowcount)


TICK_COLUMNS = ("symbol", "timestamp", "price", "volume", "source", "expires_at")


class SqlTicks:
    """db.ticks on SQLite and PostgreSQL: ticks expire 24 hours after their timestamp.

    Writes purge expired ticks as they go, at most every purge_every_s seconds (reads never return an
    expired tick either way).
    """

    def __init__(self, uow: UnitOfWork, purge_every_s: float = 60.0) -> None:
        self._uow = uow
        self.purge_every_s = purge_every_s
        self._next_purge = 0.0
        self._insert: PreparedInsert | None = None

    def write_ticks(self, ticks: Sequence[TickRow]) -> None:
        """Insert in order (a later tick of the same millisecond updates the earlier), purging as it goes."""
        symbol, price, timestamp, volume, source = map(list, zip(*ticks, strict=True))
        columns = {"symbol": symbol, "timestamp": timestamp, "price": price, "volume": volume, "source": source,
                   "expires_at": [at + TICK_TTL_MS for at in timestamp]}
        with self._uow.begin(write=True) as conn:
            if time.monotonic() >= self._next_purge:
                conn.execute(delete(realtime_ticks).where(realtime_ticks.c.expires_at <= now_ms()))
                self._next_purge = time.monotonic() + self.purge_every_s
            self._prepared(conn).run(conn, columns)

    def _prepared(self, conn: Connection) -> PreparedInsert:
        if self._insert is None:
            statement = insert_for(conn, realtime_ticks)
            statement = statement.on_conflict_do_update(
                index_elements=["symbol", "timestamp"],
                set_={c: statement.excluded[c] for c in ("price", "volume", "source", "expires_at")})
            self._insert = PreparedInsert.compile(conn.dialect, statement, TICK_COLUMNS)
        return self._insert

    def tick_page(self, symbol: str, start_ms: int, end_ms: int, newest_first: bool, after: Bookmark | None,
                  size: int) -> Rows:
        """Live ticks of a symbol with start_ms <= timestamp <= end_ms (expired ones never come back)."""
        t = realtime_ticks
        statement = (select(t.c.symbol, t.c.timestamp, t.c.price, t.c.volume, t.c.source)
                     .where(t.c.symbol == symbol, t.c.timestamp >= start_ms, t.c.timestamp <= end_ms,
                            t.c.expires_at > now_ms()))
        with self._uow.begin() as conn:
            return keyset_rows(conn, statement, [t.c.timestamp], size, after,
                               lambda row: Tick.model_validate(dict(row._mapping)), descending=newest_first)

    def purge_expired(self) -> int:
        """Delete expired ticks; returns how many."""
        with self._uow.begin(write=True) as conn:
            return int(conn.execute(delete(realtime_ticks).where(realtime_ticks.c.expires_at <= now_ms())).rowcount)



