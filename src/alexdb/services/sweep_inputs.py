"""What a value sweep reads, kept in this process and checked against the store on every call.

A ten-year daily series of an active account reads every change and price of the ten years: hundreds of
thousands of rows, most of a second, where the arithmetic over columns takes milliseconds. So each
account's changes (per symbol), its cash ledger and each symbol's prices are kept as numeric columns,
within a byte budget (least recently used first out). Every call still asks the store what changed, and
always reads the store's mark before the data it guards, so data newer than a mark only makes the next
call read again, and nothing stale is ever used:
- a symbol's changes are reused while its holding state and its splits are what they were: history is
  recorded in time order per (account, symbol), so a change leaves a different last state unless it
  leaves the very same state at the very same last instant, which no sweep can tell apart;
- the cash ledger is appended in time order, so only movements at or after the last one held are read;
- prices (where the store keeps marks, see ports.PriceMarks) are reused while the symbol's revision holds,
  and extended by the points after the newest one held.
"""

from __future__ import annotations

import uuid
from bisect import bisect_right
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from alexdb.domain.instants import instant_text
from alexdb.domain.ledger import CashMovement, Split
from alexdb.domain.trading import HeldState
from alexdb.ports import Columns, PositionStore, PriceMarks, PriceReader, SplitRecords
from alexdb.services.cash import LedgerReader
from alexdb.services.kept import KeptBytes
from alexdb.services.sweep import Holding, Ledger, Line, blocks, holding, joined, ledger, line

CACHE_BYTES = 128 * 2**20
MOVEMENT_BYTES = 800  # a CashMovement model with its Decimals, datetimes and UUID, roughly


class SweepInputs(NamedTuple):
    """An account's changes per symbol, its symbols' prices and its cash ledger, as a sweep takes them."""

    holdings: dict[str, Holding]
    prices: dict[str, Line]
    ledger: Ledger
    movements: Sequence[CashMovement]


class _Changes(NamedTuple):
    state: HeldState
    splits: tuple[tuple[datetime, int, int], ...]
    holding: Holding


class _Prices(NamedTuple):
    revision: int
    newest: datetime
    line: Line


class _Cash(NamedTuple):
    movements: tuple[CashMovement, ...]
    ledger: Ledger


class SweepReader:
    """Reads sweep inputs through a per-process cache that the store's marks keep exact."""

    def __init__(self, positions: PositionStore, ledger: LedgerReader, splits: SplitRecords, prices: PriceReader,
                 marks: PriceMarks | None, budget: int = CACHE_BYTES) -> None:
        self._positions, self._ledger_reader, self._splits, self._prices = positions, ledger, splits, prices
        self._marks = marks
        self._kept = KeptBytes(budget)
        self._get, self._put = self._kept.get, self._kept.put

    def inputs(self, key: uuid.UUID, instants: Sequence[datetime]) -> SweepInputs:
        """The account's inputs for a sweep whose prices must cover these instants (time-ordered)."""
        states = self._positions.states(key)
        symbols = sorted(states)
        splits = self._splits.splits_of(symbols) if symbols else {}
        holdings = self._holdings(key, states, splits)
        prices = self._price_lines(symbols, instants) if symbols else {}
        cash = self._ledger(key)
        return SweepInputs(holdings, prices, cash.ledger, cash.movements)

    def _holdings(self, key: uuid.UUID, states: dict[str, HeldState],
                  splits: dict[str, list[Split]]) -> dict[str, Holding]:
        found: dict[str, Holding] = {}
        marks = {symbol: (state, tuple((s.at, s.numerator, s.denominator) for s in splits.get(symbol, ())))
                 for symbol, state in states.items()}
        for symbol, (state, split_marks) in marks.items():
            cached = self._get(("changes", key, symbol))
            if cached is not None and cached.state == state and cached.splits == split_marks:
                found[symbol] = cached.holding
        stale = [symbol for symbol in sorted(states) if symbol not in found]
        if not stale:
            return found
        names, at, quantity, cash = self._positions.changes_of(key, None if len(stale) == len(states) else stale)
        for symbol, (low, high) in blocks(names).items():
            if symbol in marks and symbol not in found:
                state, split_marks = marks[symbol]
                made = holding(list(at[low:high]), list(quantity[low:high]), list(cash[low:high]),
                               splits.get(symbol, ()))
                found[symbol] = made
                self._put(("changes", key, symbol), _Changes(state, split_marks, made), _holding_bytes(made))
        return found

    def _price_lines(self, symbols: list[str], instants: Sequence[datetime]) -> dict[str, Line]:
        if self._marks is None:
            return _lines(self._prices.price_points_at(symbols, instants))
        marks = self._marks.price_marks(symbols)
        found: dict[str, Line] = {}
        whole: list[str] = []  # read from their first point
        extended: dict[str, _Prices] = {}  # kept, and read on from the newest point kept
        newest = {symbol: mark.newest for symbol, mark in marks.items() if mark.newest is not None}
        for symbol in symbols:
            if symbol not in newest:
                continue  # no points at all
            mark, cached = marks[symbol], self._get(("prices", symbol))
            if cached is None or cached.revision != mark.revision or cached.newest > newest[symbol]:
                whole.append(symbol)
            elif cached.newest == newest[symbol]:
                found[symbol] = cached.line
            else:
                extended[symbol] = cached
        # One read for the symbols read whole, one for those read on (from the oldest point any needs).
        for wanted, after in ((whole, None), (list(extended), min((c.newest for c in extended.values()),
                                                                   default=None))):
            if not wanted:
                continue
            names, at, price = self._marks.price_columns(wanted, after, max(newest[symbol] for symbol in wanted))
            found_blocks = blocks(names)
            for symbol in wanted:
                held = extended.get(symbol)
                low, high = found_blocks.get(symbol, (0, 0))
                # Points past the symbol's own mark were written after it was read (the next call takes them);
                # points up to what is kept of it are kept already.
                high = bisect_right(at, instant_text(newest[symbol]), low, high)
                if held is not None:
                    low = bisect_right(at, instant_text(held.newest), low, high)
                made = line(at[low:high], price[low:high], "price")
                if held is not None:
                    made = joined(held.line, made)
                kept = _Prices(marks[symbol].revision, newest[symbol], made)
                self._put(("prices", symbol), kept, _line_bytes(kept.line))
                found[symbol] = kept.line
        return found

    def _ledger(self, key: uuid.UUID) -> _Cash:
        cached: _Cash | None = self._get(("cash", key))
        held = () if cached is None else cached.movements
        # The ledger is appended in time order and each append takes the next seq: what comes after the
        # last movement kept starts at its instant and has a greater seq.
        last = held[-1] if held else None
        newer = [m for m in self._ledger_reader.movements(key, None if last is None else last.at)
                 if last is None or m.seq > last.seq]
        if cached is not None and not newer:
            return cached
        movements = held + tuple(newer)
        made = _Cash(movements, ledger(movements))
        self._put(("cash", key), made, len(movements) * MOVEMENT_BYTES)
        return made


def _holding_bytes(made: Holding) -> int:
    return made.at.nbytes + made.quantity.values.nbytes + made.cash.values.nbytes


def _line_bytes(made: Line) -> int:
    return made.at.nbytes + made.value.values.nbytes


def _lines(prices: Columns) -> dict[str, Line]:
    """(symbol, instant text, price) columns ordered by symbol, then time, as one line per symbol."""
    names, at, price = prices
    return {symbol: line(at[low:high], price[low:high], "price") for symbol, (low, high) in blocks(names).items()}
