"""Exact decimal field types: money, prices, quantities and percentages never pass through float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

# LLM-tagged allocation data is imprecise; the original Alex loosened its check to this tolerance.
ALLOCATION_TOLERANCE = Decimal("3")


def exact_decimal(value: Any) -> Any:
    """Accept Decimal, int or numeric str; refuse float (already inexact) and bool."""
    if isinstance(value, bool | float):
        raise ValueError("floats are inexact: pass a Decimal, int or numeric string")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation as exc:
            raise ValueError("not a number") from exc
        return parsed
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError("must be a finite number")
    return value


_Exact = BeforeValidator(exact_decimal)


def whole_number(value: Any) -> Any:
    """Accept an int, or an integral Decimal (as DynamoDB returns numbers); refuse bool, float, text, fractions."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValueError("must be a whole number")
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            raise ValueError("must be a whole number")
        return int(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(whole_number)]
"""An integer that may arrive as an integral Decimal."""

Money = Annotated[Decimal, _Exact, Field(ge=0, max_digits=18, decimal_places=2)]
"""A non-negative amount of money with at most 2 decimal places."""

Price = Annotated[Decimal, _Exact, Field(gt=0, max_digits=20, decimal_places=8)]
"""A strictly positive price with at most 8 decimal places."""

Quantity = Annotated[Decimal, _Exact, Field(gt=0, max_digits=24, decimal_places=8)]
"""A strictly positive traded or held quantity with at most 8 decimal places."""

Holding = Annotated[Decimal, _Exact, Field(ge=0, max_digits=24, decimal_places=8)]
"""A held quantity, which may have reached zero."""

Rate = Annotated[Decimal, _Exact, Field(ge=0, le=1, decimal_places=4)]
"""An interest rate as a fraction between 0 and 1 with at most 4 decimal places."""

Percent = Annotated[Decimal, _Exact, Field(ge=0, le=100, decimal_places=4)]
"""One share of an allocation map, in percent."""


def check_allocation(name: str, allocation: dict[str, Decimal]) -> dict[str, Decimal]:
    """Refuse an empty allocation map or one not summing to 100 within ALLOCATION_TOLERANCE."""
    if not allocation:
        raise ValueError(f"{name} must not be empty")
    total = sum(allocation.values(), Decimal(0))
    if abs(total - 100) > ALLOCATION_TOLERANCE:
        raise ValueError(f"{name} sums to {total}, not 100 (tolerance {ALLOCATION_TOLERANCE})")
    return allocation
