"""db.instruments: every rule about instruments and their price history, over any backend's InstrumentStore."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from alexdb.domain.errors import ConflictError, NotFoundError, ValidationError
from alexdb.domain.instants import next_stamp, optional_instant, to_instant, utcnow
from alexdb.domain.ledger import Split
from alexdb.domain.models import Instrument, NewInstrument, PricePoint, normalise_symbol
from alexdb.domain.paging import Bookmark, Cursors, Results, scope
from alexdb.domain.validate import build, check_fields, price_row
from alexdb.domain.vocabulary import INSTRUMENT_TYPES
from alexdb.ports import Columns, InstrumentStore, Rows, SplitRecords
from alexdb.services.records import until_written

UPDATABLE = frozenset({"name", "instrument_type", "allocation_regions", "allocation_sectors",
                       "allocation_asset_class"})
MAX_QUERY = 255


def newest_per_symbol(points: Iterable[PricePoint]) -> dict[str, PricePoint]:
    """Each symbol's newest point (the last given wins a tie, as it is the one written last)."""
    newest: dict[str, PricePoint] = {}
    for point in points:
        if point.symbol not in newest or point.at >= newest[point.symbol].at:
            newest[point.symbol] = point
    return newest


class InstrumentService:
    """The public instrument API; owns validation, the current-price rule and the lifecycle."""

    def __init__(self, store: InstrumentStore, splits: SplitRecords, cursors: Cursors) -> None:
        self._store, self._splits, self._cursors = store, splits, cursors

    def record_split(self, symbol: str, numerator: Any, denominator: Any, at: Any, name: str | None = None) -> Split:
        """Record a split of symbol at an instant: numerator new shares for every denominator (2-for-1 is 2, 1).

        One write, however many accounts hold the symbol: holdings, lots and sales after it apply it when
        they read. Splits are recorded before the trades after them: a split dated at or before a recorded
        change of the symbol in any account is refused (that change was recorded in the old units).
        """
        split = build(Split, {"symbol": symbol, "numerator": numerator, "denominator": denominator,
                              "at": None if at is None else to_instant(at), "name": name})
        if split.numerator == split.denominator:
            raise ValidationError("numerator", numerator, "a split of 1 for 1 changes nothing")
        if any(known.at == split.at for known in self.get_splits(split.symbol)):
            raise ConflictError(f"{split.symbol} already has a split at {split.at.isoformat()}")
        later = self._splits.insert_split(split)
        if later is not None:
            raise ValidationError("at", split.at.isoformat(), (
                f"account {later[0]} has a change of {split.symbol} at {later[1].isoformat()}, at or after the "
                "split; record splits before the trades after them"))
        return split

    def get_splits(self, symbol: str) -> list[Split]:
        """A symbol's splits, oldest first."""
        key = normalise_symbol(symbol)
        return self._splits.splits_of([key]).get(key, [])

    def _insert(self, new: NewInstrument) -> Instrument | None:
        now = utcnow()
        instrument = Instrument(**new.model_dump(), current_price_at=now if new.current_price is not None else None,
                                created_at=now, updated_at=now)
        first = None if new.current_price is None else PricePoint(symbol=new.symbol, price=new.current_price, at=now)
        return instrument if self._store.insert_instrument(instrument, first) else None

    def create_instrument(self, data: NewInstrument | Mapping[str, Any]) -> Instrument:
        """Create an instrument; ConflictError if the symbol exists. A given price is recorded now."""
        new = build(NewInstrument, data)
        created = self._insert(new)
        if created is None:
            raise ConflictError(f"instrument {new.symbol!r} already exists")
        return created

    def upsert_instrument(self, data: NewInstrument | Mapping[str, Any]) -> Instrument:
        """Create or replace an instrument's description; a changed price is recorded now."""
        new = build(NewInstrument, data)

        def attempt() -> tuple[Instrument, bool] | None:
            current = self._store.get_instrument(new.symbol)
            if current is None:
                created = self._insert(new)
                return None if created is None else (created, True)
            return self._describe(current, new.model_dump(exclude={"symbol", "current_price"}))

        instrument, created = until_written(f"instrument {new.symbol!r}", attempt)
        if not created and new.current_price is not None and new.current_price != instrument.current_price:
            self.record_price(new.symbol, new.current_price)
            return self.get_instrument(new.symbol)
        return instrument

    def _describe(self, current: Instrument, fields: Mapping[str, Any]) -> tuple[Instrument, bool] | None:
        merged = build(NewInstrument, {**current.model_dump(include=set(NewInstrument.model_fields)), **fields})
        described = Instrument(**merged.model_dump(), current_price_at=current.current_price_at,
                               created_at=current.created_at, updated_at=next_stamp(current.updated_at))
        return (described, False) if self._store.replace_description(described, current.updated_at) else None

    def update_instrument(self, symbol: str, /, **fields: Any) -> Instrument:
        """Change some of an instrument's description (name, type, allocations); prices go through record_price.

        Concurrent updates of different fields all land (each is written only onto the state it read).
        """
        check_fields(NewInstrument, fields, set(UPDATABLE))
        key = normalise_symbol(symbol)

        def attempt() -> tuple[Instrument, bool] | None:
            return self._describe(self.get_instrument(key), fields)

        return until_written(f"instrument {key!r}", attempt)[0]

    def find_by_symbol(self, symbol: str) -> Instrument | None:
        """The instrument with this symbol (any case), or None."""
        return self._store.get_instrument(normalise_symbol(symbol))

    def get_instrument(self, symbol: str) -> Instrument:
        """The instrument with this symbol; NotFoundError if there is none."""
        found = self.find_by_symbol(symbol)
        if found is None:
            raise NotFoundError("instrument", symbol)
        return found

    def find_all(self, limit: int | None = None, cursor: str | None = None) -> Results[Instrument]:
        """Every instrument by symbol (with limit: one page of them)."""
        return self._typed(None, limit, cursor)

    def find_by_type(self, instrument_type: str, limit: int | None = None,
                     cursor: str | None = None) -> Results[Instrument]:
        """Instruments of one type by symbol (with limit: one page of them)."""
        if instrument_type not in INSTRUMENT_TYPES:
            raise ValidationError("instrument_type", instrument_type, f"must be one of {', '.join(INSTRUMENT_TYPES)}")
        return self._typed(instrument_type, limit, cursor)

    def _typed(self, instrument_type: str | None, limit: int | None, cursor: str | None) -> Results[Instrument]:
        def read(after: Bookmark | None, size: int) -> Rows:
            return self._store.instrument_page(instrument_type, after, size)

        return Results(read, scope("instruments", instrument_type), self._cursors, limit, cursor)

    def search(self, query: str, limit: int | None = None, cursor: str | None = None) -> Results[Instrument]:
        """Instruments whose symbol or name contains query, ignoring case, by symbol."""
        if not isinstance(query, str) or not query.strip() or len(query) > MAX_QUERY:
            raise ValidationError("query", query, f"must be 1-{MAX_QUERY} characters")
        needle = query.strip().lower()

        def read(after: Bookmark | None, size: int) -> Rows:
            return self._store.search_page(needle, after, size)

        return Results(read, scope("instruments.search", needle), self._cursors, limit, cursor)

    def record_price(self, symbol: str, price: Any, at: Any = None) -> PricePoint:
        """Record one price; the instrument's current_price follows if it is the newest."""
        point = price_row({"symbol": symbol, "price": price, "at": at})
        self._write([point])
        return point

    def record_prices(self, rows: Iterable[Any]) -> int:
        """Record many prices; a bad row or an unknown symbol refuses the whole batch."""
        points = [price_row(row) for row in rows]
        self._write(points)
        return len(points)

    def _write(self, points: Sequence[PricePoint]) -> None:
        if not points:
            return
        missing = self._store.write_prices(points, newest_per_symbol(points))
        if missing:
            raise NotFoundError("instrument", missing[0])

    def get_price_at(self, symbol: str, at: Any) -> PricePoint | None:
        """The last price recorded at or before at, or None."""
        return self._store.price_at(normalise_symbol(symbol), to_instant(at))

    def get_price_history(self, symbol: str, start: Any = None, end: Any = None, limit: int | None = None,
                          cursor: str | None = None) -> Results[PricePoint]:
        """Prices of one symbol between start and end inclusive, oldest first (with limit: one page)."""
        key = normalise_symbol(symbol)
        begin, finish = optional_instant(start, "start"), optional_instant(end, "end")

        def read(after: Bookmark | None, size: int) -> Rows:
            return self._store.price_page(key, begin, finish, after, size)

        return Results(read, scope("prices", key, begin, finish), self._cursors, limit, cursor)

    def prices_at(self, symbols: Sequence[str], at: datetime) -> dict[str, PricePoint]:
        """Each symbol's last price at or before an instant."""
        return self._store.prices_at(symbols, at) if symbols else {}

    def price_points_at(self, symbols: Sequence[str], instants: Sequence[datetime]) -> Columns:
        """Each symbol's last price at or before each instant (time-ordered), as columns: what a sweep reads."""
        return self._store.price_points_at(symbols, instants) if symbols and instants else ([], [], [])
