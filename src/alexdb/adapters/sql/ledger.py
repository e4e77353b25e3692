"""The cash ledger and splits on SQL: the primitives behind db.cash and db.instruments.record_split."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, insert, select

from alexdb.adapters.sql.engine import UnitOfWork
from alexdb.adapters.sql.paging import between, keyset_rows
from alexdb.adapters.sql.schema import accounts, cash_movements, instruments, position_history, splits
from alexdb.domain.errors import NotFoundError
from alexdb.domain.instants import utcnow
from alexdb.domain.ledger import CashMovement, CashPlan, PlannedCash, Split
from alexdb.domain.paging import Bookmark
from alexdb.ports import Rows

ZERO = Decimal(0)


def _movement(row: Row[Any]) -> CashMovement:
    return CashMovement.model_validate(dict(row._mapping))


def write_movement(conn: Connection, account_id: uuid.UUID, planned: PlannedCash) -> CashMovement:
    """Append one planned movement inside the caller's transaction (which holds the account's lock)."""
    values = {"account_id": account_id, **planned._asdict()}
    seq = conn.execute(insert(cash_movements).values(**values).returning(cash_movements.c.seq)).scalar_one()
    return CashMovement(account_id=account_id, seq=seq, **planned._asdict())


def splits_of(conn: Connection, symbols: Sequence[str]) -> dict[str, list[Split]]:
    """Each symbol's splits, oldest first, inside the caller's transaction."""
    found: dict[str, list[Split]] = {}
    for row in conn.execute(select(splits).where(splits.c.symbol.in_(list(symbols))).order_by(splits.c.at)):
        found.setdefault(row.symbol, []).append(Split.model_validate(dict(row._mapping)))
    return found


class SqlCash:
    """CashRecords on SQLite and PostgreSQL."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def append_cash(self, account_id: uuid.UUID, plan: CashPlan) -> CashMovement | None:
        """Lock the account, read the ledger's last movement, append plan's, in one transaction."""
        with self._uow.begin(write=True) as conn:
            # The account row is the ledger's lock (FOR UPDATE on PostgreSQL; SQLite writers are serialised by
            # BEGIN IMMEDIATE): two movements of one account never both plan from the same balance.
            locked = conn.execute(select(accounts.c.id).where(accounts.c.id == account_id).with_for_update()).first()
            if locked is None:
                return None
            last = conn.execute(
                select(cash_movements.c.balance_after, cash_movements.c.at)
                .where(cash_movements.c.account_id == account_id)
                .order_by(cash_movements.c.at.desc(), cash_movements.c.seq.desc()).limit(1)).first()
            planned = plan(ZERO if last is None else last.balance_after, None if last is None else last.at, utcnow())
            return write_movement(conn, account_id, planned)

    def cash_page(self, account_id: uuid.UUID, start: datetime | None, end: datetime | None,
                  after: Bookmark | None, size: int) -> Rows:
        """Movements in time order between start and end, one page at a time."""
        statement = between(select(cash_movements).where(cash_movements.c.account_id == account_id),
                            cash_movements.c.at, start, end)
        with self._uow.begin() as conn:
            return keyset_rows(conn, statement, [cash_movements.c.at, cash_movements.c.seq], size, after, _movement)

    def cash_balance_at(self, account_id: uuid.UUID, at: datetime) -> Decimal:
        """The balance after the last movement at or before at: one index seek."""
        with self._uow.begin() as conn:
            balance = conn.execute(
                select(cash_movements.c.balance_after)
                .where(cash_movements.c.account_id == account_id, cash_movements.c.at <= at)
                .order_by(cash_movements.c.at.desc(), cash_movements.c.seq.desc()).limit(1)).scalar()
        return ZERO if balance is None else balance


class SqlSplits:
    """SplitRecords on SQLite and PostgreSQL."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def insert_split(self, split: Split) -> tuple[uuid.UUID, datetime] | None:
        """Lock the instrument (trades of it share that lock), check no change is at or after the split, insert."""
        with self._uow.begin(write=True) as conn:
            found = conn.execute(select(instruments.c.symbol).where(instruments.c.symbol == split.symbol)
                                 .with_for_update()).first()
            if found is None:
                raise NotFoundError("instrument", split.symbol)
            later = conn.execute(
                select(position_history.c.account_id, position_history.c.at)
                .where(position_history.c.symbol == split.symbol, position_history.c.at >= split.at)
                .order_by(position_history.c.at).limit(1)).first()
            if later is not None:
                return later.account_id, later.at
            conn.execute(insert(splits).values(**split.model_dump()))
        return None

    def splits_of(self, symbols: Sequence[str]) -> dict[str, list[Split]]:
        """Each symbol's splits, oldest first."""
        with self._uow.begin() as conn:
            return splits_of(conn, symbols)
