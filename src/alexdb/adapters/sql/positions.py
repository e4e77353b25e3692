"""Current positions and their history on SQL; change() is the one atomic write."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, and_, insert, select, update

from alexdb.adapters.sql.bulk import instant_text_column, text_instant_columns
from alexdb.adapters.sql.engine import UnitOfWork
from alexdb.adapters.sql.paging import keyset_rows
from alexdb.adapters.sql.schema import accounts, instruments, position_history, positions
from alexdb.adapters.sql.upsert import insert_for
from alexdb.domain.errors import NotFoundError
from alexdb.domain.instants import utcnow
from alexdb.domain.models import Position, PositionChange
from alexdb.domain.paging import Bookmark
from alexdb.domain.trading import Plan, change_instant, final_holdings
from alexdb.ports import Columns, Mutation, Rows

ZERO = Decimal(0)


def _change(row: Row[Any]) -> PositionChange:
    return PositionChange.model_validate(dict(row._mapping))


class SqlPositionStore:
    """The SQL primitives behind db.positions."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def change(
        self, account_id: uuid.UUID, symbol: str, action: str, mutation: Mutation,
        at: datetime | None, price: Decimal | None,
    ) -> PositionChange:
        """Apply mutation to the held quantity and append the history record, in one transaction."""
        with self._uow.begin(write=True) as conn:
            if conn.execute(select(accounts.c.id).where(accounts.c.id == account_id)).first() is None:
                raise NotFoundError("account", str(account_id))
            if conn.execute(select(instruments.c.symbol).where(instruments.c.symbol == symbol)).first() is None:
                raise NotFoundError("instrument", symbol)
            now = utcnow()
            # Make sure the row exists, then lock it: concurrent traders of one position queue on
            # this row (FOR UPDATE on PostgreSQL; SQLite writers are already serialised by BEGIN IMMEDIATE).
            conn.execute(insert_for(conn, positions).values(
                account_id=account_id, symbol=symbol, quantity=ZERO, version=0, last_change_at=at or now,
                updated_at=now,
            ).on_conflict_do_nothing(index_elements=["account_id", "symbol"]))
            held = conn.execute(
                select(positions.c.quantity, positions.c.version, positions.c.last_change_at)
                .where(positions.c.account_id == account_id, positions.c.symbol == symbol)
                .with_for_update()
            ).one()
            at = change_instant(symbol, at, held.last_change_at, now)  # "now" read under the row lock
            delta, after = mutation(held.quantity)
            conn.execute(
                update(positions)
                .where(positions.c.account_id == account_id, positions.c.symbol == symbol)
                .values(quantity=after, version=held.version + 1, last_change_at=at, updated_at=now)
            )
            seq = conn.execute(insert(position_history).values(
                account_id=account_id, symbol=symbol, action=action, delta=delta,
                quantity_after=after, price=price, at=at,
            ).returning(position_history.c.seq)).scalar_one()
        return PositionChange(
            account_id=account_id, symbol=symbol, action=action, delta=delta,
            quantity_after=after, at=at, price=price, seq=seq,
        )

    def change_many(self, account_id: uuid.UUID, symbols: Sequence[str], plan: Plan) -> int:
        """One transaction: lock the symbols' positions, plan from them, write history and positions."""
        with self._uow.begin(write=True) as conn:
            if conn.execute(select(accounts.c.id).where(accounts.c.id == account_id)).first() is None:
                raise NotFoundError("account", str(account_id))
            known = set(conn.execute(select(instruments.c.symbol).where(instruments.c.symbol.in_(symbols))).scalars())
            for symbol in symbols:
                if symbol not in known:
                    raise NotFoundError("instrument", symbol)
            now = utcnow()
            existing = {row.symbol: row for row in conn.execute(
                select(positions).where(positions.c.account_id == account_id, positions.c.symbol.in_(symbols))
                .with_for_update())}
            planned = plan({s: (existing[s].quantity, existing[s].last_change_at) if s in existing else (ZERO, None)
                            for s in symbols})
            if planned:
                conn.execute(insert(position_history), [
                    {"account_id": account_id, "symbol": c.symbol, "action": c.action, "delta": c.delta,
                     "quantity_after": c.after, "price": c.price, "at": c.at} for c in planned])
            for symbol, last in final_holdings(planned).items():
                values = {"quantity": last.after, "last_change_at": last.at, "updated_at": now}
                if symbol in existing:
                    conn.execute(update(positions).where(
                        positions.c.account_id == account_id, positions.c.symbol == symbol,
                    ).values(**values, version=existing[symbol].version + 1))
                else:
                    conn.execute(insert(positions).values(account_id=account_id, symbol=symbol, version=1, **values))
        return len(planned)

    def symbols(self, account_id: uuid.UUID) -> list[str]:
        """Every symbol the account has ever held (a position row outlives its last sale)."""
        with self._uow.begin() as conn:
            statement = select(positions.c.symbol).where(positions.c.account_id == account_id)
            return sorted(conn.execute(statement).scalars())

    def current(self, account_id: uuid.UUID) -> list[Position]:
        """Holdings with a non-zero quantity, joined with their instrument."""
        statement = (
            select(positions.c.account_id, positions.c.symbol, positions.c.quantity, positions.c.updated_at,
                   instruments.c.name.label("instrument_name"), instruments.c.instrument_type,
                   instruments.c.current_price)
            .join(instruments, instruments.c.symbol == positions.c.symbol)
            .where(positions.c.account_id == account_id)
            .order_by(positions.c.symbol)
        )
        with self._uow.begin() as conn:
            rows = conn.execute(statement).all()
        return [Position.model_validate(dict(row._mapping)) for row in rows if row.quantity != ZERO]

    def history_page(
        self, account_id: uuid.UUID, symbol: str | None, start: datetime | None, end: datetime | None,
        after: Bookmark | None, size: int,
    ) -> Rows:
        """The audit trail in time order, one page at a time."""
        statement = select(position_history).where(position_history.c.account_id == account_id)
        if symbol is not None:
            statement = statement.where(position_history.c.symbol == symbol)
        if start is not None:
            statement = statement.where(position_history.c.at >= start)
        if end is not None:
            statement = statement.where(position_history.c.at <= end)
        keys = [position_history.c.at, position_history.c.seq]
        with self._uow.begin() as conn:
            return keyset_rows(conn, statement, keys, size, after, _change)

    def holdings_at(self, account_id: uuid.UUID, at: datetime) -> dict[str, Decimal]:
        """Quantity of every symbol ever held, as of at: one index seek per symbol, in one query."""
        h, last = position_history, position_history.alias("last")
        latest = (
            select(last.c.seq)
            .where(last.c.account_id == positions.c.account_id, last.c.symbol == positions.c.symbol, last.c.at <= at)
            .order_by(last.c.at.desc(), last.c.seq.desc()).limit(1).correlate(positions).scalar_subquery()
        )
        statement = (
            select(h.c.symbol, h.c.quantity_after)
            .select_from(positions).join(h, and_(h.c.seq == latest))
            .where(positions.c.account_id == account_id)
        )
        with self._uow.begin() as conn:
            return {row.symbol: row.quantity_after for row in conn.execute(statement) if row.quantity_after != ZERO}

    def changes_until(self, account_id: uuid.UUID, end: datetime) -> Columns:
        """(symbol, instant text, quantity after) of every change up to end, in time order."""
        h = position_history
        with self._uow.begin() as conn:
            statement = (
                select(h.c.symbol, instant_text_column(conn, h.c.at), h.c.quantity_after)
                .where(h.c.account_id == account_id, h.c.at <= end)
                .order_by(h.c.at, h.c.seq)
            )
            # Read fully inside the transaction: an open cursor would pin the (possibly shared) connection.
            return text_instant_columns(conn, statement)
