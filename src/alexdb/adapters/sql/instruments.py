"""Instruments and their price history on SQL: the primitives behind db.instruments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, case, func, insert, literal, or_, select, union_all, update

from alexdb.adapters.sql.bulk import instant_text_column, text_instant_columns
from alexdb.adapters.sql.engine import UnitOfWork
from alexdb.adapters.sql.paging import between, keyset_rows
from alexdb.adapters.sql.schema import instruments, price_history
from alexdb.adapters.sql.upsert import insert_for
from alexdb.domain.errors import ConflictError
from alexdb.domain.models import Instrument, PricePoint
from alexdb.domain.paging import Bookmark
from alexdb.ports import Columns, PriceMark, Rows

DESCRIPTION = ("name", "instrument_type", "allocation_regions", "allocation_sectors", "allocation_asset_class",
               "updated_at")


def _instrument(row: Row[Any]) -> Instrument:
    fields = dict(row._mapping)
    del fields["price_revision"]  # the store's bookkeeping, not the instrument's
    return Instrument.model_validate(fields)


def _point(row: Any) -> PricePoint:
    return PricePoint(symbol=row.symbol, price=row.price, at=row.at)


class SqlInstruments:
    """InstrumentStore on SQLite and PostgreSQL."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def get_instrument(self, symbol: str) -> Instrument | None:
        """The instrument, or None."""
        with self._uow.begin() as conn:
            row = conn.execute(select(instruments).where(instruments.c.symbol == symbol)).first()
        return None if row is None else _instrument(row)

    def insert_instrument(self, instrument: Instrument, first: PricePoint | None) -> bool:
        """The instrument and its first price point in one transaction; False when the symbol exists."""
        try:
            with self._uow.begin(write=True) as conn:
                conn.execute(insert(instruments).values(**instrument.model_dump()))
                if first is not None:
                    conn.execute(insert(price_history).values(symbol=first.symbol, at=first.at, price=first.price))
        except ConflictError:
            return False
        return True

    def replace_description(self, instrument: Instrument, expected: datetime) -> bool:
        """Update the description only where updated_at is still expected."""
        with self._uow.begin(write=True) as conn:
            return bool(conn.execute(
                update(instruments)
                .where(instruments.c.symbol == instrument.symbol, instruments.c.updated_at == expected)
                .values(**instrument.model_dump(include=set(DESCRIPTION)))).rowcount)

    def instrument_page(self, instrument_type: str | None, after: Bookmark | None, size: int) -> Rows:
        """Instruments (of one type) by symbol after a position."""
        statement = select(instruments)
        if instrument_type is not None:
            statement = statement.where(instruments.c.instrument_type == instrument_type)
        with self._uow.begin() as conn:
            return keyset_rows(conn, statement, [instruments.c.symbol], size, after, _instrument)

    def search_page(self, needle: str, after: Bookmark | None, size: int) -> Rows:
        """Instruments whose symbol or name contains needle, ignoring case (% and _ match literally)."""
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = select(instruments).where(or_(
            instruments.c.symbol.ilike(pattern, escape="\\"), instruments.c.name.ilike(pattern, escape="\\")))
        with self._uow.begin() as conn:
            return keyset_rows(conn, statement, [instruments.c.symbol], size, after, _instrument)

    def write_prices(self, points: Sequence[PricePoint], newest: Mapping[str, PricePoint]) -> list[str]:
        """Points and current prices in one transaction, after checking every symbol exists."""
        with self._uow.begin(write=True) as conn:
            known = set(conn.execute(
                select(instruments.c.symbol).where(instruments.c.symbol.in_(list(newest)))).scalars())
            missing = [symbol for symbol in newest if symbol not in known]
            if missing:
                return missing
            statement = insert_for(conn, price_history)
            # Recording the same instant twice corrects that point rather than failing the batch.
            statement = statement.on_conflict_do_update(
                index_elements=["symbol", "at"], set_={"price": statement.excluded.price})
            conn.execute(statement, [{"symbol": p.symbol, "at": p.at, "price": p.price} for p in points])
            oldest: dict[str, datetime] = {}
            for point in points:
                oldest[point.symbol] = min(point.at, oldest.get(point.symbol, point.at))
            for point in newest.values():
                current = instruments.c.current_price_at
                # Only a point at least as new as the current one moves current_price; updated_at is the
                # description's version and stays (as on DynamoDB, where the price lives in its own item).
                # A point at or before the newest one (a correction, a backfill) moves the revision, so a
                # process holding this symbol's points reads them again (ports.PriceMark).
                advances = or_(current.is_(None), current <= point.at)
                conn.execute(
                    update(instruments)
                    .where(instruments.c.symbol == point.symbol)
                    .values(current_price=case((advances, literal(point.price, instruments.c.current_price.type)),
                                               else_=instruments.c.current_price),
                            current_price_at=case((advances, literal(point.at, current.type)), else_=current),
                            price_revision=instruments.c.price_revision + case(
                                (and_(current.is_not(None), current >= oldest[point.symbol]), 1), else_=0))
                )
        return []

    def price_at(self, symbol: str, at: datetime) -> PricePoint | None:
        """The last price at or before at: one index seek."""
        with self._uow.begin() as conn:
            row = conn.execute(
                select(price_history).where(price_history.c.symbol == symbol, price_history.c.at <= at)
                .order_by(price_history.c.at.desc()).limit(1)
            ).first()
        return None if row is None else _point(row)

    def price_page(
        self, symbol: str, start: datetime | None, end: datetime | None, after: Bookmark | None, size: int
    ) -> Rows:
        """Prices of one symbol between start and end, oldest first, after a position."""
        statement = between(select(price_history).where(price_history.c.symbol == symbol), price_history.c.at,
                            start, end)
        with self._uow.begin() as conn:
            return keyset_rows(conn, statement, [price_history.c.at], size, after, _point)

    def prices_at(self, symbols: Sequence[str], at: datetime) -> dict[str, PricePoint]:
        """For each symbol, its last price at or before at: one query, one index seek per symbol."""
        last = price_history.alias("last")
        latest = (
            select(last.c.at).where(last.c.symbol == instruments.c.symbol, last.c.at <= at)
            .order_by(last.c.at.desc()).limit(1).correlate(instruments).scalar_subquery()
        )
        statement = (
            select(price_history.c.symbol, price_history.c.at, price_history.c.price)
            .select_from(instruments)
            .join(price_history, and_(price_history.c.symbol == instruments.c.symbol, price_history.c.at == latest))
            .where(instruments.c.symbol.in_(list(symbols)))
        )
        with self._uow.begin() as conn:
            return {row.symbol: _point(row) for row in conn.execute(statement)}

    def price_points_at(self, symbols: Sequence[str], instants: Sequence[datetime]) -> Columns:
        """(symbol, instant text, price): each symbol's last price at or before the first instant, then every
        price up to the last instant, in time order (one statement; the (symbol, at) key serves both parts)."""
        p, first, last = price_history, instants[0], instants[-1]
        with self._uow.begin() as conn:
            floor = (select(p.c.symbol, func.max(p.c.at).label("at"))
                     .where(p.c.symbol.in_(list(symbols)), p.c.at <= first).group_by(p.c.symbol).subquery())
            at = instant_text_column(conn, p.c.at).label("at_text")
            opening = (select(p.c.symbol, at, p.c.price)
                       .join(floor, and_(p.c.symbol == floor.c.symbol, p.c.at == floor.c.at)))
            rest = select(p.c.symbol, at, p.c.price).where(p.c.symbol.in_(list(symbols)), p.c.at > first,
                                                           p.c.at <= last)
            union = union_all(opening, rest).subquery()
            statement = select(union.c.symbol, union.c.at_text, union.c.price).order_by(union.c.symbol,
                                                                                       union.c.at_text)
            return text_instant_columns(conn, statement)

    def price_marks(self, symbols: Sequence[str]) -> dict[str, PriceMark]:
        """Each known symbol's price revision and newest point (current_price_at): one statement."""
        i = instruments
        with self._uow.begin() as conn:
            rows = conn.execute(select(i.c.symbol, i.c.price_revision, i.c.current_price_at)
                                .where(i.c.symbol.in_(list(symbols)))).all()
        return {row.symbol: PriceMark(row.price_revision, row.current_price_at) for row in rows}

    def price_columns(self, symbols: Sequence[str], after: datetime | None, until: datetime) -> Columns:
        """Points in (after, until] ordered by symbol, then time: one range of the (symbol, at) key each."""
        p = price_history
        with self._uow.begin() as conn:
            statement = select(p.c.symbol, instant_text_column(conn, p.c.at), p.c.price).where(
                p.c.symbol.in_(list(symbols)), p.c.at <= until)
            if after is not None:
                statement = statement.where(p.c.at > after)
            return text_instant_columns(conn, statement.order_by(p.c.symbol, p.c.at))
