"""Each symbol's speed cursor on SQLite and PostgreSQL, advanced with its notifications in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam, select, update

from alexdb.adapters.sql.engine import UnitOfWork
from alexdb.adapters.sql.schema import alert_configurations, speed_cursors
from alexdb.adapters.sql.speed import record_pending
from alexdb.adapters.sql.upsert import insert_for
from alexdb.domain.alerts import Notification
from alexdb.domain.errors import ConflictError
from alexdb.domain.speed_state import SymbolCursor
from alexdb.ports import CursorStep


def _cursor(row: Row[Any] | None) -> SymbolCursor | None:
    return None if row is None else SymbolCursor(**row._mapping)


ATTEMPTS = 5


class SqlCursors:
    """CursorRecords on SQL: the cursor row is locked for the step, so ingestors of one symbol take turns."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def cursor(self, symbol: str) -> SymbolCursor | None:
        """The symbol's cursor, or None before its first tick."""
        with self._uow.begin() as conn:
            return _cursor(conn.execute(select(speed_cursors).where(speed_cursors.c.symbol == symbol)).first())

    def advance(self, symbols: Sequence[str], step: CursorStep) -> list[Notification]:
        """Run step on each locked cursor; the new cursors, notifications and armed alerts commit together,
        in one transaction for the batch's symbols."""
        for _ in range(ATTEMPTS):
            try:
                return self._advance(sorted(set(symbols)), step)
            except _NewCursorRaceError:
                continue  # another ingestor created a cursor this one found missing: read it, apply after it
        raise ConflictError(f"speed cursors of {', '.join(symbols)} kept being created by other ingestors")

    def _advance(self, symbols: list[str], step: CursorStep) -> list[Notification]:
        c, a = speed_cursors, alert_configurations
        with self._uow.begin(write=True) as conn:
            # FOR UPDATE (in one order, so two ingestors never wait on each other in a cycle) on PostgreSQL;
            # SQLite's BEGIN IMMEDIATE already serialises writers.
            current = {row.symbol: _cursor(row) for row in conn.execute(
                select(c).where(c.c.symbol.in_(symbols)).order_by(c.c.symbol).with_for_update())}
            pending, armed, moved = [], [], []
            for symbol in symbols:
                advance = step(symbol, current.get(symbol))
                pending += advance.pending
                armed += advance.armed
                if advance.cursor is not None:
                    moved.append(advance.cursor)
            recorded = record_pending(conn, pending)
            if armed:
                conn.execute(update(a).where(a.c.alert_id == bindparam("key"), a.c.updated_at == bindparam("version"))
                             .values(armed_at=bindparam("version")),
                             [{"key": key, "version": version} for key, version in armed])
            values = [{name: getattr(cursor, name) for name in SymbolCursor.__slots__} for cursor in moved]
            known = [v for v in values if v["symbol"] in current]
            if known:
                conn.execute(update(c).where(c.c.symbol == bindparam("key")).values(
                    {name: bindparam(name) for name in SymbolCursor.__slots__ if name != "symbol"}),
                    [{**v, "key": v["symbol"]} for v in known])
            for new in (v for v in values if v["symbol"] not in current):
                # A row nobody had: on PostgreSQL another transaction may be creating it (no row to lock).
                created = conn.execute(insert_for(conn, c).values(**new).on_conflict_do_nothing()
                                       .returning(c.c.symbol)).first()
                if created is None:
                    raise _NewCursorRaceError
        return recorded


class _NewCursorRaceError(Exception):
    """Another ingestor created a cursor this transaction found missing: it rolls back and starts again."""
