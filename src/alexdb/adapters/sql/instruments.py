"""Instruments and their price history on SQL."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, insert, or_, select, update

from alexdb.adapters.sql.bulk import instant_text_column, text_instant_columns
from alexdb.adapters.sql.engine import UnitOfWork
from alexdb.adapters.sql.paging import keyset_page
from alexdb.adapters.sql.schema import instruments, price_history
from alexdb.adapters.sql.upsert import insert_for
from alexdb.domain.errors import ConflictError, NotFoundError, ValidationError
from alexdb.domain.instants import optional_instant, to_instant, utcnow
from alexdb.domain.models import Instrument, NewInstrument, PricePoint, normalise_symbol
from alexdb.domain.paging import Page
from alexdb.domain.validate import build, price_row
from alexdb.domain.vocabulary import INSTRUMENT_TYPES
from alexdb.ports import Columns

PRICE_PAGE = 1000


def _instrument(row: Row[Any]) -> Instrument:
    return Instrument.model_validate(dict(row._mapping))


def _point(row: Any) -> PricePoint:
    return PricePoint(symbol=row.symbol, price=row.price, at=row.at)


class SqlInstruments:
    """db.instruments on SQLite and PostgreSQL."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def create_instrument(self, data: NewInstrument | Mapping[str, Any]) -> Instrument:
        """Create an instrument; ConflictError if the symbol exists. A given price is recorded now."""
        new = build(NewInstrument, data)
        with self._uow.begin(write=True) as conn:
            if self._exists(conn, new.symbol):
                raise ConflictError(f"instrument {new.symbol!r} already exists")
            return self._write(conn, new, created=True)

    def upsert_instrument(self, data: NewInstrument | Mapping[str, Any]) -> Instrument:
        """Create or replace an instrument's description; a changed price is recorded now."""
        new = build(NewInstrument, data)
        with self._uow.begin(write=True) as conn:
            return self._write(conn, new, created=not self._exists(conn, new.symbol))

    def _exists(self, conn: Connection, symbol: str) -> bool:
        return conn.execute(select(instruments.c.symbol).where(instruments.c.symbol == symbol)).first() is not None

    def _write(self, conn: Connection, new: NewInstrument, created: bool) -> Instrument:
        now = utcnow()
        fields = new.model_dump(exclude={"current_price"})
        if created:
            conn.execute(insert(instruments).values(**fields, created_at=now, updated_at=now))
        else:
            conn.execute(update(instruments).where(instruments.c.symbol == new.symbol).values(**fields, updated_at=now))
        if new.current_price is not None:
            current = conn.execute(
                select(instruments.c.current_price).where(instruments.c.symbol == new.symbol)
            ).scalar()
            if current != new.current_price:
                self._store_prices(conn, [PricePoint(symbol=new.symbol, price=new.current_price, at=now)])
        return _instrument(conn.execute(select(instruments).where(instruments.c.symbol == new.symbol)).one())

    def find_by_symbol(self, symbol: str) -> Instrument | None:
        """The instrument with this symbol (any case), or None."""
        key = normalise_symbol(symbol)
        with self._uow.begin() as conn:
            row = conn.execute(select(instruments).where(instruments.c.symbol == key)).first()
        return None if row is None else _instrument(row)

    def get_instrument(self, symbol: str) -> Instrument:
        """The instrument with this symbol; NotFoundError if there is none."""
        found = self.find_by_symbol(symbol)
        if found is None:
            raise NotFoundError("instrument", symbol)
        return found

    def find_all(self, limit: int | None = None, cursor: str | None = None) -> Page[Instrument]:
        """All instruments by symbol, one page at a time."""
        with self._uow.begin() as conn:
            return keyset_page(conn, select(instruments), [instruments.c.symbol], limit, cursor, _instrument)

    def find_by_type(
        self, instrument_type: str, limit: int | None = None, cursor: str | None = None
    ) -> Page[Instrument]:
        """Instruments of one type by symbol."""
        if instrument_type not in INSTRUMENT_TYPES:
            raise ValidationError("instrument_type", instrument_type, f"must be one of {', '.join(INSTRUMENT_TYPES)}")
        statement = select(instruments).where(instruments.c.instrument_type == instrument_type)
        with self._uow.begin() as conn:
            return keyset_page(conn, statement, [instruments.c.symbol], limit, cursor, _instrument)

    def search(self, query: str, limit: int | None = None, cursor: str | None = None) -> Page[Instrument]:
        """Instruments whose symbol or name contains query, ignoring case (% and _ match literally)."""
        if not isinstance(query, str) or not query.strip() or len(query) > 255:
            raise ValidationError("query", query, "must be 1-255 characters")
        pattern = "%" + query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = select(instruments).where(or_(
            instruments.c.symbol.ilike(pattern, escape="\\"), instruments.c.name.ilike(pattern, escape="\\")))
        with self._uow.begin() as conn:
            return keyset_page(conn, statement, [instruments.c.symbol], limit, cursor, _instrument)

    def record_price(self, symbol: str, price: Any, at: Any = None) -> PricePoint:
        """Record one price; the instrument's current_price follows if it is the newest."""
        point = price_row({"symbol": symbol, "price": price, "at": at})
        with self._uow.begin(write=True) as conn:
            self._store_prices(conn, [point])
        return point

    def record_prices(self, rows: Iterable[Any]) -> int:
        """Record many prices in one transaction; any bad row refuses the whole batch."""
        points = [price_row(row) for row in rows]
        with self._uow.begin(write=True) as conn:
            self._store_prices(conn, points)
        return len(points)

    def _store_prices(self, conn: Connection, points: Sequence[PricePoint]) -> None:
        if not points:
            return
        newest: dict[str, PricePoint] = {}
        for point in points:
            if point.symbol not in newest or point.at >= newest[point.symbol].at:
                newest[point.symbol] = point
        known = set(conn.execute(select(instruments.c.symbol).where(instruments.c.symbol.in_(list(newest)))).scalars())
        for symbol in newest:
            if symbol not in known:
                raise NotFoundError("instrument", symbol)
        stmt = insert_for(conn, price_history)
        # Recording the same instant twice corrects that point rather than failing the batch.
        stmt = stmt.on_conflict_do_update(index_elements=["symbol", "at"], set_={"price": stmt.excluded.price})
        conn.execute(stmt, [{"symbol": p.symbol, "at": p.at, "price": p.price} for p in points])
        for point in newest.values():
            # Only a point at least as new as the current one moves current_price.
            conn.execute(
                update(instruments)
                .where(instruments.c.symbol == point.symbol)
                .where(or_(instruments.c.current_price_at.is_(None), instruments.c.current_price_at <= point.at))
                .values(current_price=point.price, current_price_at=point.at, updated_at=utcnow())
            )

    def get_price_at(self, symbol: str, at: Any) -> PricePoint | None:
        """The last price recorded at or before at, or None."""
        key, instant = normalise_symbol(symbol), to_instant(at)
        with self._uow.begin() as conn:
            row = conn.execute(
                select(price_history).where(price_history.c.symbol == key, price_history.c.at <= instant)
                .order_by(price_history.c.at.desc()).limit(1)
            ).first()
        return None if row is None else _point(row)

    def get_price_history(
        self, symbol: str, start: Any = None, end: Any = None,
        limit: int | None = PRICE_PAGE, cursor: str | None = None,
    ) -> Page[PricePoint]:
        """Prices of one symbol between start and end inclusive, oldest first."""
        key = normalise_symbol(symbol)
        statement = select(price_history).where(price_history.c.symbol == key)
        if (begin := optional_instant(start, "start")) is not None:
            statement = statement.where(price_history.c.at >= begin)
        if (finish := optional_instant(end, "end")) is not None:
            statement = statement.where(price_history.c.at <= finish)
        with self._uow.begin() as conn:
            return keyset_page(conn, statement, [price_history.c.at], limit, cursor, _point)

    def prices_at(self, symbols: Sequence[str], at: datetime) -> dict[str, PricePoint]:
        """For each symbol, its last price at or before at: one query, one index seek per symbol."""
        if not symbols:
            return {}
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

    def price_points_until(self, symbols: Sequence[str], end: datetime) -> Columns:
        """(symbol, instant text, price) of every price of these symbols up to end, in time order."""
        p = price_history
        if not symbols:
            return [], [], []
        with self._uow.begin() as conn:
            statement = (
                select(p.c.symbol, instant_text_column(conn, p.c.at), p.c.price)
                .where(p.c.symbol.in_(list(symbols)), p.c.at <= end)
                .order_by(p.c.at)
            )
            return text_instant_columns(conn, statement)
