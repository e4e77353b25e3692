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


def _lookup(at: Ints, values: Ints, grid: Ints) -> tuple[Ints, Ints]:
    """Each grid instant's last value at or before it (0 before the first), and whether there was one."""
    index = np.searchsorted(at, grid, side="right") - 1
    found = index >= 0
    if not values.size:
        return np.zeros(grid.size, dtype=values.dtype), found
    picked = values[np.maximum(index, 0)]
    picked[~found] = 0
    return picked, found


def sweep(grid: Sequence[datetime], holdings: Mapping[str, Holding], prices: Mapping[str, Line],
          cash: Ledger) -> Sweep:
    """Cash, holdings value, total, contributions and unpriced holdings at each instant of the grid."""
    at = np.array([epoch_micros(instant) for instant in grid], dtype=np.int64)
    products: list[tuple[Ints, Ints, int, int]] = []  # quantities, prices, their bound, scale of the product
    unpriced: list[tuple[str, list[bool]]] = []
    cash_terms: list[tuple[Ints, int, int]] = [(_lookup(cash.at, cash.balance.values, at)[0], cash.balance.largest,
                                                cash.balance.scale)]
    for symbol in sorted(holdings):
        held = holdings[symbol]
        cash_terms.append((_lookup(held.at, held.cash.values, at)[0], held.cash.largest, held.cash.scale))
        quantity = _lookup(held.at, held.quantity.values, at)[0]
        price_line = prices.get(symbol)
        if price_line is None:
            price, priced = np.zeros(at.size, dtype=np.int64), np.zeros(at.size, dtype=bool)
        else:
            price, priced = _lookup(price_line.at, price_line.value.values, at)
            products.append((quantity, price, held.quantity.largest * price_line.value.largest,
                             held.quantity.scale + price_line.value.scale))
        missing = (quantity != 0) & ~priced
        if missing.any():
            unpriced.append((symbol, missing.tolist()))
    value_scale = max((scale for *_, scale in products), default=0)
    value = _total([(q * p if q.dtype == p.dtype == np.int64 and bound < INT64_SAFE else
                     q.astype(object) * p.astype(object), bound, scale) for q, p, bound, scale in products],
                   value_scale, at.size)
    cash_scale = max(scale for *_, scale in cash_terms)
    cash_now = _total(cash_terms, cash_scale, at.size)
    scale = max(value_scale, cash_scale)
    total = _total([(value, _largest(value), value_scale), (cash_now, _largest(cash_now), cash_scale)], scale, at.size)
    contributions = _lookup(cash.at, cash.contributions.values, at)[0]
    missing_at = [[symbol for symbol, mask in unpriced if mask[i]] for i in range(at.size)]
    return Sweep(_decimals(cash_now, cash_scale), _decimals(value, value_scale), _decimals(total, scale),
                 _decimals(contributions, cash.contributions.scale), missing_at)


def _total(terms: Sequence[tuple[Ints, int, int]], scale: int, size: int) -> Ints:
    """The sum of (values, largest magnitude, scale) terms at one scale: in int64 when a bound allows it."""
    exact = sum(largest * 10 ** (scale - own) for _, largest, own in terms) >= INT64_SAFE
    total: Ints = np.zeros(size, dtype=object if exact else np.int64)
    for values, _, own in terms:
        term = values.astype(object) if exact and values.dtype != object else values
        total = total + (term * 10 ** (scale - own) if own != scale else term)
    return total


def _largest(values: Ints) -> int:
    return int(np.abs(values).max()) if values.size else 0


def _decimals(values: Ints, scale: int) -> list[Decimal]:
    return [Decimal(value).scaleb(-scale, EXACT) for value in values.tolist()]


def blocks(keys: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Where each key's rows start and end in a column sorted by key."""
    found: dict[str, tuple[int, int]] = {}
    start = 0
    while start < len(keys):
        end = bisect_right(keys, keys[start], start)
        found[keys[start]] = (start, end)
        start = end
    return found
