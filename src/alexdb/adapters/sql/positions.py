"""Current positions and their history on SQL; change() is the one atomic write."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, and_, insert, or_, select, update

from alexdb.adapters.sql.bulk import instant_text_column, numeric_columns
from alexdb.adapters.sql.engine import UnitOfWork
from alexdb.adapters.sql.ledger import splits_of
from alexdb.adapters.sql.paging import between, keyset_rows
from alexdb.adapters.sql.schema import accounts, instruments, position_history, positions
from alexdb.adapters.sql.upsert import insert_for
from alexdb.domain.errors import NotFoundError
from alexdb.domain.instants import utcnow
from alexdb.domain.models import Position, PositionChange
from alexdb.domain.paging import Bookmark
from alexdb.domain.trading import NEVER_HELD, HeldState, Mutation, Plan, Planned, change_instant, final_holdings
from alexdb.ports import ChangeColumns, Rows

ZERO = Decimal(0)


def _change(row: Row[Any]) -> PositionChange:
    return PositionChange.model_validate(dict(row._mapping))


def _state(row: Any) -> HeldState:
    return HeldState(row.quantity, row.last_change_at, row.cash, row.cost)


def _history_row(account_id: uuid.UUID, change: Planned) -> dict[str, Any]:
    return {"account_id": account_id, "symbol": change.symbol, "action": change.action, "delta": change.delta,
            "quantity_after": change.after, "price": change.price, "at": change.at, "fee": change.fee,
            "cash_after": change.cash_after, "cost_after": change.cost_after}


def _holding(change: Planned) -> dict[str, Any]:
    return {"quantity": change.after, "last_change_at": change.at, "cash": change.cash_after,
            "cost": change.cost_after}


class SqlPositionStore:
    """The SQL primitives behind db.positions."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    @staticmethod
    def _check(conn: Connection, account_id: uuid.UUID, symbols: Sequence[str]) -> None:
        if conn.execute(select(accounts.c.id).where(accounts.c.id == account_id)).first() is None:
            raise NotFoundError("account", str(account_id))
        # FOR SHARE on PostgreSQL: a split of the symbol (FOR UPDATE) waits for this trade, or it for the split.
        known = set(conn.execute(select(instruments.c.symbol).where(instruments.c.symbol.in_(list(symbols)))
                                 .with_for_update(read=True)).scalars())
        for symbol in symbols:
            if symbol not in known:
                raise NotFoundError("instrument", symbol)

    def change(self, account_id: uuid.UUID, symbol: str, mutation: Mutation, at: datetime | None) -> PositionChange:
        """Apply mutation to the holding and append the history record, in one transaction."""
        with self._uow.begin(write=True) as conn:
            self._check(conn, account_id, [symbol])
            now = utcnow()
            # Make sure the row exists, then lock it: concurrent traders of one position queue on
            # this row (FOR UPDATE on PostgreSQL; SQLite writers are already serialised by BEGIN IMMEDIATE).
            conn.execute(insert_for(conn, positions).values(
                account_id=account_id, symbol=symbol, quantity=ZERO, version=0, last_change_at=at or now,
                updated_at=now, cash=ZERO, cost=ZERO,
            ).on_conflict_do_nothing(index_elements=["account_id", "symbol"]))
            held = conn.execute(
                select(positions).where(positions.c.account_id == account_id, positions.c.symbol == symbol)
                .with_for_update()
            ).one()
            state = _state(held) if held.version else NEVER_HELD
            instant = change_instant(symbol, at, state.last, now)  # "now" read under the row lock
            change = mutation(state, instant, splits_of(conn, [symbol]).get(symbol, []))
            conn.execute(
                update(positions)
                .where(positions.c.account_id == account_id, positions.c.symbol == symbol)
                .values(**_holding(change), version=held.version + 1, updated_at=now)
            )
            row = _history_row(account_id, change)
            seq = conn.execute(insert(position_history).values(**row).returning(position_history.c.seq)).scalar_one()
        return PositionChange(seq=seq, **{k: v for k, v in row.items() if k != "account_id"}, account_id=account_id)

    def change_many(self, account_id: uuid.UUID, symbols: Sequence[str], plan: Plan) -> int:
        """One transaction: lock the symbols' positions, plan from them, write history and positions."""
        with self._uow.begin(write=True) as conn:
            self._check(conn, account_id, symbols)
            now = utcnow()
            existing = {row.symbol: row for row in conn.execute(
                select(positions).where(positions.c.account_id == account_id, positions.c.symbol.in_(symbols))
                .with_for_update())}
            planned = plan({s: _state(existing[s]) if s in existing and existing[s].version else NEVER_HELD
                            for s in symbols}, splits_of(conn, symbols))
            if planned:
                conn.execute(insert(position_history), [_history_row(account_id, c) for c in planned])
            for symbol, last in final_holdings(planned).items():
                values = {**_holding(last), "updated_at": now}
                if symbol in existing:
                    conn.execute(update(positions).where(
                        positions.c.account_id == account_id, positions.c.symbol == symbol,
                    ).values(**values, version=existing[symbol].version + 1))
                else:
                    conn.execute(insert(positions).values(account_id=account_id, symbol=symbol, version=1, **values))
        return len(planned)

    def states(self, account_id: uuid.UUID) -> dict[str, HeldState]:
        """Every symbol the account has ever held (a position row outlives its last sale)."""
        with self._uow.begin() as conn:
            rows = conn.execute(select(positions).where(positions.c.account_id == account_id,
                                                        positions.c.version > 0)).all()
        return {row.symbol: _state(row) for row in rows}

    def current(self, account_id: uuid.UUID) -> list[tuple[Position, HeldState]]:
        """Holdings with a non-zero quantity, joined with their instrument."""
        statement = (
            select(positions, instruments.c.name.label("instrument_name"), instruments.c.instrument_type,
                   instruments.c.current_price)
            .join(instruments, instruments.c.symbol == positions.c.symbol)
            .where(positions.c.account_id == account_id)
            .order_by(positions.c.symbol)
        )
        with self._uow.begin() as conn:
            rows = conn.execute(statement).all()
        return [(Position(account_id=row.account_id, symbol=row.symbol, quantity=row.quantity,
                          updated_at=row.updated_at, instrument_name=row.instrument_name,
                          instrument_type=row.instrument_type, current_price=row.current_price), _state(row))
                for row in rows if row.quantity != ZERO]

    def history_page(
        self, account_id: uuid.UUID, symbol: str | None, start: datetime | None, end: datetime | None,
        after: Bookmark | None, size: int,
    ) -> Rows:
        """The audit trail in time order, one page at a time."""
        statement = select(position_history).where(position_history.c.account_id == account_id)
        if symbol is not None:
            statement = statement.where(position_history.c.symbol == symbol)
        statement = between(statement, position_history.c.at, start, end)
        keys = [position_history.c.at, position_history.c.seq]
        with self._uow.begin() as conn:
            return keyset_rows(conn, statement, keys, size, after, _change)

    def holdings_at(self, account_id: uuid.UUID, at: datetime) -> dict[str, HeldState]:
        """Every symbol's holding as of at (its last change then): one index seek per symbol, in one query."""
        h, last = position_history, position_history.alias("last")
        latest = (
            select(last.c.seq)
            .where(last.c.account_id == positions.c.account_id, last.c.symbol == positions.c.symbol, last.c.at <= at)
            .order_by(last.c.at.desc(), last.c.seq.desc()).limit(1).correlate(positions).scalar_subquery()
        )
        statement = (
            select(h.c.symbol, h.c.quantity_after, h.c.at, h.c.cash_after, h.c.cost_after)
            .select_from(positions).join(h, and_(h.c.seq == latest))
            .where(positions.c.account_id == account_id)
        )
        with self._uow.begin() as conn:
            return {row.symbol: HeldState(row.quantity_after, row.at, row.cash_after, row.cost_after)
                    for row in conn.execute(statement)}

    def transfers(self, account_id: uuid.UUID, start: datetime, end: datetime) -> list[PositionChange]:
        """Changes that moved no cash between start and end, in time order."""
        h = position_history
        statement = (select(h).where(h.c.account_id == account_id, h.c.at >= start, h.c.at <= end,
                                     or_(h.c.action.not_in(["BUY", "SELL"]), h.c.price.is_(None)))
                     .order_by(h.c.at, h.c.seq))
        with self._uow.begin() as conn:
            return [_change(row) for row in conn.execute(statement)]

    def changes_of(self, account_id: uuid.UUID, symbols: Sequence[str] | None) -> ChangeColumns:
        """(symbol, instant text, quantity after, cash after) of every change, by symbol, then time."""
        h = position_history
        with self._uow.begin() as conn:
            statement = (
                select(h.c.symbol, instant_text_column(conn, h.c.at), h.c.quantity_after, h.c.cash_after)
                .where(h.c.account_id == account_id)
                .order_by(h.c.symbol, h.c.at, h.c.seq)
            )
            if symbols is not None:
                statement = statement.where(h.c.symbol.in_(list(symbols)))
            # Read fully inside the transaction: an open cursor would pin the (possibly shared) connection.
            names, instants, (quantities, cash) = numeric_columns(conn, statement, 2)
            return names, instants, quantities, cash
