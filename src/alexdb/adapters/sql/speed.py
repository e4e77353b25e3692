"""The speed layer's data on SQL: alert configurations, realtime ticks, notification history."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, insert, select, update

from alexdb.adapters.sql.bulk import PreparedInsert
from alexdb.adapters.sql.engine import UnitOfWork
from alexdb.adapters.sql.paging import keyset_page
from alexdb.adapters.sql.schema import alert_configurations, alert_notifications_history, realtime_ticks
from alexdb.adapters.sql.upsert import insert_for
from alexdb.domain.alerts import TICK_TTL_MS, Alert, Notification, Tick, Trigger
from alexdb.domain.errors import NotFoundError
from alexdb.domain.instants import now_ms
from alexdb.domain.models import normalise_symbol
from alexdb.domain.paging import Page, check_limit
from alexdb.domain.speed_rules import Delivered, check_delivery, new_alert, updated_alert
from alexdb.domain.ticks import parse_ticks
from alexdb.domain.validate import parse_id


def _alert(row: Row[Any]) -> Alert:
    return Alert.model_validate(dict(row._mapping))


class SqlAlerts:
    """db.alerts on SQLite and PostgreSQL."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def create_alert(self, user_id: str, symbol: str, condition: Any, **fields: Any) -> Alert:
        """Create an alert; one that could never fire is refused."""
        alert = new_alert(user_id, symbol, condition, **fields)
        with self._uow.begin(write=True) as conn:
            conn.execute(insert(alert_configurations).values(**alert.model_dump()))
        return alert

    def get_alert(self, alert_id: uuid.UUID | str) -> Alert:
        """The alert; NotFoundError if there is none."""
        key = parse_id("alert", alert_id)
        with self._uow.begin() as conn:
            row = conn.execute(select(alert_configurations).where(alert_configurations.c.alert_id == key)).first()
        if row is None:
            raise NotFoundError("alert", alert_id)
        return _alert(row)

    def update_alert(self, alert_id: uuid.UUID | str, **fields: Any) -> Alert:
        """Change an alert's condition, method, cooldown or enabled flag (validated as a whole)."""
        key = parse_id("alert", alert_id)
        with self._uow.begin(write=True) as conn:
            row = conn.execute(select(alert_configurations).where(alert_configurations.c.alert_id == key)
                               .with_for_update()).first()
            if row is None:
                raise NotFoundError("alert", alert_id)
            changed = updated_alert(_alert(row), fields)
            conn.execute(update(alert_configurations).where(alert_configurations.c.alert_id == key).values(
                **changed.model_dump(exclude={"alert_id", "user_id", "symbol", "created_at"})))
        return changed

    def enable(self, alert_id: uuid.UUID | str) -> Alert:
        """Turn an alert on."""
        return self.update_alert(alert_id, enabled=True)

    def disable(self, alert_id: uuid.UUID | str) -> Alert:
        """Turn an alert off (kept, not evaluated)."""
        return self.update_alert(alert_id, enabled=False)

    def delete_alert(self, alert_id: uuid.UUID | str) -> None:
        """Delete an alert (its notification history stays)."""
        key = parse_id("alert", alert_id)
        with self._uow.begin(write=True) as conn:
            if not conn.execute(delete(alert_configurations).where(alert_configurations.c.alert_id == key)).rowcount:
                raise NotFoundError("alert", alert_id)

    def find_by_user(self, user_id: str, limit: int | None = None, cursor: str | None = None) -> Page[Alert]:
        """A user's alerts, newest first."""
        statement = select(alert_configurations).where(alert_configurations.c.user_id == user_id)
        keys = [alert_configurations.c.created_at, alert_configurations.c.alert_id]
        with self._uow.begin() as conn:
            return keyset_page(conn, statement, keys, limit, cursor, _alert, descending=True)

    def find_by_symbol(self, symbol: str, limit: int | None = None, cursor: str | None = None) -> Page[Alert]:
        """Alerts on a symbol, by user."""
        statement = select(alert_configurations).where(alert_configurations.c.symbol == normalise_symbol(symbol))
        keys = [alert_configurations.c.user_id, alert_configurations.c.alert_id]
        with self._uow.begin() as conn:
            return keyset_page(conn, statement, keys, limit, cursor, _alert)

    def record_trigger(self, trigger: Trigger, delivery_status: str, message_id: str | None = None) -> Notification:
        """The history record and the alert's last_triggered / trigger_count, in one transaction."""
        notification = check_delivery(trigger, delivery_status, message_id)
        with self._uow.begin(write=True) as conn:
            counted = conn.execute(update(alert_configurations)
                                   .where(alert_configurations.c.alert_id == trigger.alert_id)
                                   .values(last_triggered=notification.triggered_at,
                                           trigger_count=alert_configurations.c.trigger_count + 1)).rowcount
            if not counted:
                raise NotFoundError("alert", str(trigger.alert_id))
            conn.execute(insert(alert_notifications_history).values(**notification.model_dump()))
        return notification

    def record_triggers(self, deliveries: Sequence[Delivered]) -> list[Notification]:
        """Many deliveries in one transaction; those of alerts deleted meanwhile are skipped."""
        notifications = [check_delivery(*delivered) for delivered in deliveries]
        a = alert_configurations
        with self._uow.begin(write=True) as conn:
            keys = list({n.alert_id for n in notifications})
            live = set(conn.execute(select(a.c.alert_id).where(a.c.alert_id.in_(keys)).with_for_update()).scalars())
            kept = [n for n in notifications if n.alert_id in live]
            if kept:
                conn.execute(update(a).where(a.c.alert_id == bindparam("key")).values(
                    last_triggered=bindparam("at"), trigger_count=a.c.trigger_count + 1),
                    [{"key": n.alert_id, "at": n.triggered_at} for n in kept])
                conn.execute(insert(alert_notifications_history), [n.model_dump() for n in kept])
        return kept


class SqlNotifications:
    """db.notifications on SQLite and PostgreSQL."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def find_by_user(self, user_id: str, limit: int | None = None, cursor: str | None = None) -> Page[Notification]:
        """A user's notifications, newest first."""
        h = alert_notifications_history
        with self._uow.begin() as conn:
            return keyset_page(conn, select(h).where(h.c.user_id == user_id), [h.c.triggered_at, h.c.notification_id],
                               limit, cursor, lambda row: Notification.model_validate(dict(row._mapping)),
                               descending=True)


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

    def record_ticks(self, batch: Iterable[Any]) -> int:
        """Store ticks (validated first: a bad one refuses the batch, naming its record number); the last
        tick of a symbol in one millisecond wins."""
        ticks = parse_ticks(batch)
        if not ticks:
            return 0
        # Rows are inserted one by one in order, so a later tick of the same millisecond updates the earlier.
        symbol, price, timestamp, volume, source = map(list, zip(*ticks, strict=True))
        columns = {"symbol": symbol, "timestamp": timestamp, "price": price, "volume": volume, "source": source,
                   "expires_at": [at + TICK_TTL_MS for at in timestamp]}
        with self._uow.begin(write=True) as conn:
            if time.monotonic() >= self._next_purge:
                conn.execute(delete(realtime_ticks).where(realtime_ticks.c.expires_at <= now_ms()))
                self._next_purge = time.monotonic() + self.purge_every_s
            self._prepared(conn).run(conn, columns)
        return len(ticks)

    def _prepared(self, conn: Connection) -> PreparedInsert:
        if self._insert is None:
            statement = insert_for(conn, realtime_ticks)
            statement = statement.on_conflict_do_update(
                index_elements=["symbol", "timestamp"],
                set_={c: statement.excluded[c] for c in ("price", "volume", "source", "expires_at")})
            self._insert = PreparedInsert.compile(conn.dialect, statement, TICK_COLUMNS)
        return self._insert

    def latest(self, symbol: str) -> Tick | None:
        """The newest live tick of a symbol."""
        found = self.window(symbol, 0, 2**62, limit=1, newest_first=True)
        return found[0] if found else None

    def window(self, symbol: str, start_ms: int, end_ms: int, limit: int | None = None,
               newest_first: bool = False) -> list[Tick]:
        """Live ticks of a symbol with start_ms <= timestamp <= end_ms (expired ones never come back)."""
        t = realtime_ticks
        order = t.c.timestamp.desc() if newest_first else t.c.timestamp
        statement = (select(t.c.symbol, t.c.timestamp, t.c.price, t.c.volume, t.c.source)
                     .where(t.c.symbol == normalise_symbol(symbol), t.c.timestamp >= start_ms,
                            t.c.timestamp <= end_ms, t.c.expires_at > now_ms())
                     .order_by(order).limit(check_limit(limit or 1000)))
        with self._uow.begin() as conn:
            return [Tick.model_validate(dict(row._mapping)) for row in conn.execute(statement)]

    def purge_expired(self) -> int:
        """Delete expired ticks; returns how many."""
        with self._uow.begin(write=True) as conn:
            return int(conn.execute(delete(realtime_ticks).where(realtime_ticks.c.expires_at <= now_ms())).rowcount)



