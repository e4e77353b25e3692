"""Each symbol's speed cursor on SQLite and PostgreSQL, advanced with its notifications in one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, select, update

from alexdb.adapters.sql.engine import UnitOfWork
from alexdb.adapters.sql.schema import alert_configurations, speed_cursors
from alexdb.adapters.sql.speed import record_pending
from alexdb.adapters.sql.upsert import insert_for
from alexdb.domain.alerts import Notification
from alexdb.domain.speed_state import SymbolCursor
from alexdb.ports import CursorStep


def _cursor(row: Row[Any] | None) -> SymbolCursor | None:
    return None if row is None else SymbolCursor(**row._mapping)


class SqlCursors:
    """CursorRecords on SQL: the cursor row is locked for the step, so ingestors of one symbol take turns."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def cursor(self, symbol: str) -> SymbolCursor | None:
        """The symbol's cursor, or None before its first tick."""
        with self._uow.begin() as conn:
            return _cursor(conn.execute(select(speed_cursors).where(speed_cursors.c.symbol == symbol)).first())

    def advance(self, symbol: str, step: CursorStep) -> list[Notification]:
        """Run step on the locked cursor; its new cursor, notifications and armed alerts commit together."""
        c = speed_cursors
        with self._uow.begin(write=True) as conn:
            # FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers.
            current = _cursor(conn.execute(select(c).where(c.c.symbol == symbol).with_for_update()).first())
            advance = step(current)
            recorded = record_pending(conn, advance.pending)
            if advance.armed:
                a = alert_configurations
                conn.execute(update(a).where(a.c.alert_id == bindparam("key"), a.c.updated_at == bindparam("version"))
                             .values(armed_at=bindparam("version")),
                             [{"key": key, "version": version} for key, version in advance.armed])
            if advance.cursor is not None:
                values = {name: getattr(advance.cursor, name) for name in SymbolCursor.__slots__}
                statement = insert_for(conn, c).values(**values)
                conn.execute(statement.on_conflict_do_update(index_elements=["symbol"], set_=values))
        return recorded
