"""The account ledger: cash movements, splits and the rounding rules money follows. Pure; no I/O."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any, Literal, NamedTuple, get_args

from pydantic import AwareDatetime, BeforeValidator, Field

from alexdb.domain.errors import ValidationError
from alexdb.domain.models import Name, Record, Symbol, Text
from alexdb.domain.numbers import WholeNumber, digits, exact_decimal

CashKind = Literal["DEPOSIT", "WITHDRAWAL", "DIVIDEND", "INTEREST", "FEE", "TAX", "ADJUSTMENT"]
CASH_KINDS: tuple[str, ...] = get_args(CashKind)
EXTERNAL = frozenset({"DEPOSIT", "WITHDRAWAL"})
"""The flows that bring money in or take it out: every return treats these, and only these, as external."""
INCOME = frozenset({"DIVIDEND", "INTEREST"})
COSTS = frozenset({"FEE", "TAX"})
OUTGOING = frozenset({"WITHDRAWAL", "FEE", "TAX"})

_Exact = BeforeValidator(exact_decimal)
CENT = Decimal("0.01")
SHARE_UNIT = Decimal("0.00000001")  # quantities keep 8 decimal places

Amount = Annotated[Decimal, _Exact, digits(18, 2)]
"""A signed amount of money with at most 2 decimal places."""
PositiveAmount = Annotated[Decimal, _Exact, Field(gt=0), digits(18, 2)]
"""A strictly positive amount of money with at most 2 decimal places."""
Fee = Annotated[Decimal, _Exact, Field(ge=0), digits(18, 2)]
"""A trade's fee: >= 0, at most 2 decimal places."""
Ratio = Annotated[WholeNumber, Field(gt=0, le=1_000_000)]
"""One side of a split ratio."""


MAX_RUNNING_TOTAL = Decimal(10) ** 16


def running_total(total: Decimal, field: str, given: Any) -> Decimal:
    """total, checked before it is written: a stored running total of cash or cost must read back as the
    18-digit, 2-place amount it is. A ValidationError naming the field and value that would break it."""
    if abs(total) >= MAX_RUNNING_TOTAL:
        raise ValidationError(field, given, "would take a running total of cash or cost past 16 digits")
    return total


def cents(value: Decimal) -> Decimal:
    """value rounded to the cent, half to even (how a broker settles a trade's gross amount)."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def signed(kind: str, amount: Decimal) -> Decimal:
    """The effect on cash of a movement of kind: the kind gives the sign (an ADJUSTMENT carries its own)."""
    return -amount if kind in OUTGOING else amount


class NewCashMovement(Record):
    """What a caller records: the amount is > 0 and the kind gives its sign (an ADJUSTMENT may be < 0)."""

    kind: CashKind
    amount: Amount
    symbol: Symbol | None = None
    note: Text | None = None


class CashMovement(NewCashMovement):
    """One stored movement of an account's cash (not trades: their cash lives with the trade)."""

    account_id: uuid.UUID
    seq: WholeNumber
    balance_after: Amount
    at: AwareDatetime


class CashEntry(Record):
    """One line of an account's cash history: a movement, or the cash side of a BUY or SELL with a price."""

    at: AwareDatetime
    kind: str
    amount: Decimal
    balance: Decimal
    symbol: str | None = None
    note: str | None = None
    fee: Decimal | None = None


class Split(Record):
    """A stock split of symbol at an instant: numerator new shares for every denominator old ones."""

    symbol: Symbol
    at: AwareDatetime
    numerator: Ratio
    denominator: Ratio
    name: Name | None = None

    @property
    def ratio(self) -> Decimal:
        """New shares per old share (exact for the ratios people use; shown, never used to compute)."""
        return Decimal(self.numerator) / Decimal(self.denominator)


def split_quantity(quantity: Decimal, split: Split) -> Decimal:
    """A holding after a split: quantity x numerator / denominator, to 8 places (half to even)."""
    scaled = quantity * split.numerator
    if split.denominator != 1:
        scaled = scaled / split.denominator
    return scaled.quantize(SHARE_UNIT, rounding=ROUND_HALF_EVEN)


def splits_between(splits: Sequence[Split], after: datetime | None, until: datetime) -> list[Split]:
    """The splits in (after, until], oldest first: those a holding last changed at `after` has not seen."""
    return [s for s in splits if (after is None or s.at > after) and s.at <= until]


def adjusted(quantity: Decimal, splits: Iterable[Split]) -> Decimal:
    """quantity carried through splits in order."""
    for split in splits:
        quantity = split_quantity(quantity, split)
    return quantity


class PlannedCash(NamedTuple):
    """One movement a cash store appends: the signed amount and the ledger balance it leaves."""

    kind: str
    amount: Decimal
    balance_after: Decimal
    at: datetime
    symbol: str | None
    note: str | None


CashPlan = Callable[[Decimal, "datetime | None", datetime], PlannedCash]
"""Given the ledger's balance, its last movement's instant (None: none yet) and now, read under the
account's lock: the movement to append; raises to refuse it."""
