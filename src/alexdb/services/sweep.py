"""Value sweeps column-wise: exact decimals as scaled integers in numpy arrays, one lookup per symbol.

Every stored quantity, price and amount has at most 8 decimal places (domain.numbers), so each column is
held as integers times 10**-scale. A sweep finds, for every instant of a grid at once, each symbol's last
change and last price at or before it (numpy.searchsorted), multiplies and sums. Arithmetic runs in int64
when a bound computed first says no product or sum can overflow, and on Python integers (numpy object
arrays) otherwise: exact either way, never rounded, never float.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Context, Decimal, localcontext
from math import gcd
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from alexdb.domain.errors import BackendError
from alexdb.domain.instants import epoch_micros, instant_text
from alexdb.domain.ledger import EXTERNAL, CashMovement, Split, split_quantity

PLACES = 8
INT64_SAFE = 2**62  # a bound below this leaves int64 room for one more addition
EXACT = Context(prec=80)  # 24 digits before the point and 8 after, with room: scaleb never rounds here
Ints = npt.NDArray[Any]  # int64, or object holding Python ints


class Scaled(NamedTuple):
    """Exact decimals as integers times 10**-scale, with the largest magnitude (for overflow bounds)."""

    values: Ints
    scale: int
    largest: int

    def at_scale(self, scale: int) -> Ints:
        """The values times 10**(scale - self.scale), as Python integers when int64 could overflow."""
        factor = 10 ** (scale - self.scale)
        values = self.values
        if values.dtype != object and self.largest * factor >= INT64_SAFE:
            values = values.astype(object)
        return values * factor if factor != 1 else values


def scaled(numbers: Sequence[Decimal], field: str) -> Scaled:
    """A column of stored decimals as scaled integers; a value with more than 8 places is a damaged row."""
    ints = [int(number.scaleb(PLACES, EXACT)) for number in numbers]
    # int() truncates toward zero, so any digit past the 8th place makes the magnitudes' sum come up short.
    with localcontext(EXACT):
        short = sum(map(abs, ints)) != sum(map(abs, numbers), Decimal(0)).scaleb(PLACES)
    if short:
        bad = next(n for n, i in zip(numbers, ints, strict=True) if Decimal(i).scaleb(-PLACES, EXACT) != n)
        raise BackendError(f"a stored {field} has more than {PLACES} decimal places: {bad}")
    try:
        values: Ints = np.array(ints, dtype=np.int64)
    except OverflowError:
        values = np.array(ints, dtype=object)
    trailing = _common_zeros(values)
    if trailing:
        values //= 10 ** trailing
    largest = int(np.abs(values).max()) if values.size else 0
    return Scaled(values, PLACES - trailing, largest)


def _common_zeros(values: Ints) -> int:
    """How many trailing decimal zeros every value has (up to PLACES): the scale they do not need."""
    if not values.size:
        return PLACES
    common = int(np.gcd.reduce(values)) if values.dtype != object else _gcd(values)
    zeros = 0
    while zeros < PLACES and common % 10 == 0 and common:
        common //= 10
        zeros += 1
    return zeros if common else PLACES


def _gcd(values: Iterable[int]) -> int:
    common = 0
    for value in values:
        common = gcd(common, int(value))
    return common


def micros(texts: Sequence[str]) -> Ints:
    """Canonical instant texts (instants.instant_text) as int64 microseconds since the epoch."""
    return np.array([text[:26] for text in texts], dtype="datetime64[us]").view(np.int64)


class Line(NamedTuple):
    """One symbol's values over time: int64 microsecond instants (ascending) and scaled values."""

    at: Ints
    value: Scaled

    def at_or_before(self, instant: datetime) -> Decimal | None:
        """The value of the last point at or before an instant, or None before the first."""
        index = int(np.searchsorted(self.at, epoch_micros(instant), side="right")) - 1
        return None if index < 0 else Decimal(int(self.value.values[index])).scaleb(-self.value.scale, EXACT)


def line(texts: Sequence[str], numbers: Sequence[Decimal], field: str) -> Line:
    """A line from instant texts and decimals in time order."""
    return Line(micros(texts), scaled(numbers, field))


def joined(first: Line, second: Line) -> Line:
    """first's points, then second's (all later)."""
    scale = max(first.value.scale, second.value.scale)
    values = [first.value.at_scale(scale), second.value.at_scale(scale)]
    if any(part.dtype == object for part in values):
        values = [part.astype(object) for part in values]
    largest = max(first.value.largest * 10 ** (scale - first.value.scale),
                  second.value.largest * 10 ** (scale - second.value.scale))
    return Line(np.concatenate([first.at, second.at]), Scaled(np.concatenate(values), scale, largest))


class Holding(NamedTuple):
    """One symbol's changes, splits as rows of their own: instants, quantity after, trade cash after."""

    at: Ints
    quantity: Scaled
    cash: Scaled


def holding(at: list[str], quantity: list[Decimal], cash: list[Decimal], splits: Sequence[Split]) -> Holding:
    """A symbol's change rows (time order) with one more row per split it lived through.

    History records keep the units of their own instant, so a sweep that carries quantities forward needs
    the split as an event of its own: the quantity after it. A split sorts before any change at its very
    instant (those were recorded in the new units); splits apply oldest first, each seeing the one before.
    """
    for split in splits:
        mark = instant_text(split.at)
        position = bisect_left(at, mark)
        if position == 0:
            continue  # nothing held before it
        at.insert(position, mark)
        quantity.insert(position, split_quantity(quantity[position - 1], split))
        cash.insert(position, cash[position - 1])
    return Holding(micros(at), scaled(quantity, "quantity"), scaled(cash, "trade cash"))


class Ledger(NamedTuple):
    """The cash ledger: instants, balance after each movement, net contributions after each."""

    at: Ints
    balance: Scaled
    contributions: Scaled


def ledger(movements: Sequence[CashMovement]) -> Ledger:
    """The ledger's columns, net contributions being deposits less withdrawals so far."""
    put_in, contributions = Decimal(0), []
    for movement in movements:
        if movement.kind in EXTERNAL:
            put_in += movement.amount
        contributions.append(put_in)
    at = np.array([epoch_micros(movement.at) for movement in movements], dtype=np.int64)
    return Ledger(at, scaled([movement.balance_after for movement in movements], "cash balance"),
                  scaled(contributions, "contribution"))


class Sweep(NamedTuple):
    """A value sweep's results, one entry per instant of its grid."""

    cash: list[Decimal]
    holdings_value: list[Decimal]
    total: list[Decimal]
    contributions: list[Decimal]
    unpriced: list[list[str]]


def sweep(grid: Sequence[datetime], holdings: Mapping[str, Holding], prices: Mapping[str, Line],
          cash: Ledger) -> Sweep:
    """Cash, holdings value, total, contributions and unpriced holdings at each instant of the grid."""
    at = np.array([epoch_micros(instant) for instant in grid], dtype=np.int64)
    values: list[Scaled] = []  # each priced holding's quantity x price
    unpriced: list[tuple[str, list[bool]]] = []
    cash_terms = [_looked_up(cash.balance, cash.at, at)]
    for symbol in sorted(holdings):
        held = holdings[symbol]
        cash_terms.append(_looked_up(held.cash, held.at, at))
        quantity = _looked_up(held.quantity, held.at, at)
        price_line = prices.get(symbol)
        priced = np.zeros(at.size, dtype=bool)
        if price_line is not None and price_line.at.size:
            priced = at >= price_line.at[0]  # a price exists from the line's first point on
            values.append(_product(quantity, _looked_up(price_line.value, price_line.at, at)))
        missing = (quantity.values != 0) & ~priced
        if missing.any():
            unpriced.append((symbol, missing.tolist()))
    value = _total(values, at.size)
    cash_now = _total(cash_terms, at.size)
    total = _total([value, cash_now], at.size)
    contributions = _looked_up(cash.contributions, cash.at, at)
    missing_at = [[symbol for symbol, mask in unpriced if mask[i]] for i in range(at.size)]
    return Sweep(_decimals(cash_now), _decimals(value), _decimals(total), _decimals(contributions), missing_at)


def _looked_up(column: Scaled, at: Ints, grid: Ints) -> Scaled:
    """Each grid instant's last value of a column at or before it (0 before the first)."""
    index = np.searchsorted(at, grid, side="right") - 1
    if not column.values.size:
        return Scaled(np.zeros(grid.size, dtype=column.values.dtype), column.scale, 0)
    picked = column.values[np.maximum(index, 0)]
    picked[index < 0] = 0
    return Scaled(picked, column.scale, column.largest)


def _product(first: Scaled, second: Scaled) -> Scaled:
    """Exact products, in int64 when the product of the largest magnitudes allows it."""
    largest = first.largest * second.largest
    if largest >= INT64_SAFE or first.values.dtype == object or second.values.dtype == object:
        return Scaled(first.values.astype(object) * second.values.astype(object), first.scale + second.scale,
                      largest)
    return Scaled(first.values * second.values, first.scale + second.scale, largest)


def _total(terms: Sequence[Scaled], size: int) -> Scaled:
    """The sum of terms at the finest scale among them: in int64 when the sum of their bounds allows it."""
    scale = max((term.scale for term in terms), default=0)
    largest = sum(term.largest * 10 ** (scale - term.scale) for term in terms)
    exact = largest >= INT64_SAFE
    total: Ints = np.zeros(size, dtype=object if exact else np.int64)
    for term in terms:
        part = term.at_scale(scale)
        total = total + (part.astype(object) if exact and part.dtype != object else part)
    return Scaled(total, scale, largest)


def _decimals(column: Scaled) -> list[Decimal]:
    return [Decimal(value).scaleb(-column.scale, EXACT) for value in column.values.tolist()]


def blocks(keys: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Where each key's rows start and end in a column sorted by key."""
    found: dict[str, tuple[int, int]] = {}
    start = 0
    while start < len(keys):
        end = bisect_right(keys, keys[start], start)
        found[keys[start]] = (start, end)
        start = end
    return found
