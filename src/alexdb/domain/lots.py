"""Tax lots and realized gains, booked from a holding's history and splits. Pure; no I/O.

Every addition opens a lot (its cost: the gross rounded to the cent plus the fee; unknown without a
price). Every disposal takes quantity from the open lots in the order the booking method gives and
carries their cost with it: a partly taken lot gives up its share of the cost rounded to the cent and
keeps the rest, so the cost that left plus the cost that remains is always the cost that came in. A
split changes each lot's quantity, never its cost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal, localcontext
from typing import Literal, get_args

from alexdb.domain.ledger import SHARE_UNIT, Split, cents, split_quantity
from alexdb.domain.models import PositionChange, Record
from alexdb.domain.validate import one_of

Method = Literal["fifo", "lifo", "hifo", "average"]
METHODS: tuple[str, ...] = get_args(Method)
ZERO = Decimal(0)
LONG_TERM_DAYS = 365


class Lot(Record):
    """An open lot: what is left of one acquisition (or, under average cost, of the pooled holding)."""

    symbol: str
    quantity: Decimal
    cost: Decimal | None
    """The lot's total cost, fees included; None when it was acquired without a price."""
    acquired_at: datetime

    @property
    def cost_per_unit(self) -> Decimal | None:
        """Cost per unit, to 8 places (shown; totals are kept exact in `cost`)."""
        if self.cost is None or not self.quantity:
            return None
        with localcontext(prec=60):
            return (self.cost / self.quantity).quantize(SHARE_UNIT)


class LotSlice(Record):
    """The part of one lot a disposal took."""

    quantity: Decimal
    cost: Decimal | None
    acquired_at: datetime
    holding_days: int


class Disposal(Record):
    """One SELL: what it took from which lots, and what it realized."""

    symbol: str
    at: datetime
    quantity: Decimal
    proceeds: Decimal | None
    """Gross rounded to the cent, less the fee; None for a sale recorded without its price."""
    cost: Decimal | None
    gain: Decimal | None
    holding_days: int
    """Days from the earliest lot taken to the sale."""
    long_term: bool
    """Every lot taken was held more than a year."""
    lots: list[LotSlice]


def check_method(method: str) -> str:
    """A known booking method (case-insensitive)."""
    return one_of("method", method, METHODS, "lower")


class _Open:
    __slots__ = ("acquired_at", "cost", "quantity")

    def __init__(self, quantity: Decimal, cost: Decimal | None, acquired_at: datetime) -> None:
        self.quantity, self.cost, self.acquired_at = quantity, cost, acquired_at


class Book:
    """The lots of one symbol as its history is replayed in time order."""

    def __init__(self, symbol: str, method: str) -> None:
        self.symbol, self.method = symbol, check_method(method)
        self.lots: list[_Open] = []
        self.disposals: list[Disposal] = []

    def split(self, split: Split) -> None:
        """Scale every lot; the last absorbs the rounding, so the lots still sum to the holding's quantity."""
        if not self.lots:
            return
        total = split_quantity(sum((lot.quantity for lot in self.lots), ZERO), split)
        for lot in self.lots:
            lot.quantity = split_quantity(lot.quantity, split)
        self.lots[-1].quantity += total - sum((lot.quantity for lot in self.lots), ZERO)

    def apply(self, change: PositionChange) -> None:
        """Book one history record."""
        if change.delta > 0:
            cost = None if change.price is None else cents(change.delta * change.price) + (change.fee or ZERO)
            if self.method == "average" and self.lots:
                pool = self.lots[0]
                pool.cost = None if pool.cost is None or cost is None else pool.cost + cost
                pool.quantity += change.delta
            else:
                self.lots.append(_Open(change.delta, cost, change.at))
        elif change.delta < 0:
            taken = self._take(-change.delta, change.at)
            if change.action == "SELL":
                self.disposals.append(self._disposal(change, taken))

    def _order(self) -> list[_Open]:
        if self.method == "lifo":
            return list(reversed(self.lots))
        if self.method == "hifo":  # highest cost per unit first; lots of unknown cost go last
            return sorted(self.lots, key=lambda lot: (lot.cost is None, -(lot.cost or ZERO) / lot.quantity))
        return list(self.lots)

    def _take(self, quantity: Decimal, at: datetime) -> list[LotSlice]:
        taken: list[LotSlice] = []
        remaining = quantity
        for lot in self._order():
            if not remaining:
                break
            part = min(remaining, lot.quantity)
            if part == lot.quantity:
                cost = lot.cost
                lot.quantity = ZERO
            else:
                cost = None if lot.cost is None else cents(lot.cost * part / lot.quantity)
                lot.quantity -= part
                if lot.cost is not None and cost is not None:
                    lot.cost -= cost
            remaining -= part
            taken.append(LotSlice(quantity=part, cost=cost, acquired_at=lot.acquired_at,
                                  holding_days=(at - lot.acquired_at).days))
        self.lots = [lot for lot in self.lots if lot.quantity]
        return taken

    def _disposal(self, change: PositionChange, taken: Sequence[LotSlice]) -> Disposal:
        quantity = -change.delta
        proceeds = None if change.price is None else cents(quantity * change.price) - (change.fee or ZERO)
        costs = [piece.cost for piece in taken]
        cost = None if any(c is None for c in costs) else sum((c for c in costs if c is not None), ZERO)
        return Disposal(
            symbol=self.symbol, at=change.at, quantity=quantity, proceeds=proceeds, cost=cost,
            gain=None if proceeds is None or cost is None else proceeds - cost,
            holding_days=max((piece.holding_days for piece in taken), default=0),
            long_term=bool(taken) and all(piece.holding_days > LONG_TERM_DAYS for piece in taken), lots=list(taken))

    def open_lots(self) -> list[Lot]:
        """The lots still open, in acquisition order."""
        return [Lot(symbol=self.symbol, quantity=lot.quantity, cost=lot.cost, acquired_at=lot.acquired_at)
                for lot in self.lots]


def replay(symbol: str, changes: Iterable[PositionChange], splits: Sequence[Split], method: str,
           until: datetime | None = None) -> Book:
    """The book of one symbol after its changes (time order) and splits up to an instant."""
    book = Book(symbol, method)
    pending = list(splits)
    with localcontext(prec=60):
        for change in changes:
            if until is not None and change.at > until:
                break
            while pending and pending[0].at <= change.at:  # a split sorts before a change at its instant
                book.split(pending.pop(0))
            book.apply(change)
        for split in pending:
            if until is None or split.at <= until:
                book.split(split)
    return book
