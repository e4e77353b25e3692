"""Exact decimal field types: money, prices, quantities and percentages never pass through float."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

# LLM-tagged allocation data is imprecise; the original Alex loosened its check to this tolerance.
ALLOCATION_TOLERANCE = Decimal("3")

# Bounds checked before any conversion: converting 1e400000 to an int takes seconds (quadratic, holding
# the GIL), and no field of alexdb needs more than 24 digits. Each check costs a few comparisons.
MAX_NUMBER_TEXT = 64  # characters of a number given as text
MAX_MAGNITUDE = 40  # decimal exponent: |value| < 10**40, and no finer than 10**-40
MAX_DIGITS = 38  # significant digits: DynamoDB stores no more, so no backend is given more
MAX_INT_BITS = 126  # 10**38 > 2**126


def bounded(value: Any) -> Any:
    """value unchanged if it is small enough to convert cheaply; ValueError (a clear reason) if not."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > MAX_INT_BITS:
            raise ValueError(f"is too large (more than {MAX_DIGITS} digits)")
    elif isinstance(value, Decimal) and value.is_finite() and value:
        if not -MAX_MAGNITUDE <= value.adjusted() < MAX_MAGNITUDE:
            raise ValueError(f"is out of range (more than {MAX_MAGNITUDE} digits either side of the point)")
        if len(value.as_tuple().digits) > MAX_DIGITS:
            raise ValueError(f"has more than {MAX_DIGITS} significant digits")
    elif isinstance(value, str) and len(value) > MAX_NUMBER_TEXT:
        raise ValueError(f"is longer than {MAX_NUMBER_TEXT} characters for a number")
    return value


def exact_decimal(value: Any) -> Any:
    """Accept Decimal, int or numeric str; refuse float (already inexact) and bool."""
    if isinstance(value, bool | float):
        raise ValueError("floats are inexact: pass a Decimal, int or numeric string")
    bounded(value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation as exc:
            raise ValueError("not a number") from exc
        return bounded(parsed)
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError("must be a finite number")
    return value


_Exact = BeforeValidator(exact_decimal)


def whole_number(value: Any) -> Any:
    """Accept an int, or an integral Decimal (as DynamoDB returns numbers); refuse bool, float, text, fractions."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValueError("must be a whole number")
    bounded(value)
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            raise ValueError("must be a whole number")
        return int(value)  # cheap: bounded() let through at most 40 digits
    return value


def digits(max_digits: int | None, places: int) -> AfterValidator:
    """At most places digits after the point and max_digits in all (so max_digits - places before it).

    Pydantic's own max_digits/decimal_places run in Python and take the digits apart twice per value;
    on the tick path (10^5 prices a second) that was half of all validation. Two C-level comparisons do.
    """
    return AfterValidator(digits_check(max_digits, places))


def digits_check(max_digits: int | None, places: int) -> Callable[[Decimal], Decimal]:
    """The check digits() applies: the value, or ValueError saying which bound it passes."""
    unit = Decimal(1).scaleb(-places)
    limit = None if max_digits is None else Decimal(10) ** (max_digits - places)

    def check(value: Decimal) -> Decimal:
        if limit is not None and abs(value) >= limit:
            raise ValueError(f"has more than {max_digits - places} digits before the point")  # type: ignore[operator]
        try:
            exact = value == value.quantize(unit)
        except InvalidOperation:  # more digits than the context holds: certainly too many places
            exact = False
        if not exact:
            raise ValueError(f"has more than {places} decimal places")
        return value

    return check


WholeNumber = Annotated[int, BeforeValidator(whole_number)]
"""An integer that may arrive as an integral Decimal."""

Money = Annotated[Decimal, _Exact, Field(ge=0), digits(18, 2)]
"""A non-negative amount of money with at most 2 decimal places."""

_price_digits = digits_check(20, 8)
Price = Annotated[Decimal, _Exact, Field(gt=0), AfterValidator(_price_digits)]
"""A strictly positive price with at most 8 decimal places."""


def stored_price(value: Any) -> Decimal | None:
    """value if it is a Price as stored (a finite Decimal, or an int as JSON keeps a whole number), else None:
    the Price rules without a model's validation machinery, for reading back what was validated on write."""
    if type(value) is int and value.bit_length() <= MAX_INT_BITS:
        value = Decimal(value)
    if type(value) is not Decimal or not value.is_finite() or not value > 0:
        return None
    try:
        return _price_digits(value)
    except ValueError:
        return None

Volume = Annotated[Decimal, _Exact, Field(ge=0), digits(24, 8)]
"""A traded volume: exact, >= 0, at most 8 decimal places."""

Quantity = Annotated[Decimal, _Exact, Field(gt=0), digits(24, 8)]
"""A strictly positive traded or held quantity with at most 8 decimal places."""

Holding = Annotated[Decimal, _Exact, Field(ge=0), digits(24, 8)]
"""A held quantity, which may have reached zero."""

Rate = Annotated[Decimal, _Exact, Field(ge=0, le=1), digits(None, 4)]
"""An interest rate as a fraction between 0 and 1 with at most 4 decimal places."""

Percent = Annotated[Decimal, _Exact, Field(ge=0, le=100), digits(None, 4)]
"""One share of an allocation map, in percent."""


def check_allocation(name: str, allocation: dict[str, Decimal]) -> dict[str, Decimal]:
    """Refuse an empty allocation map or one not summing to 100 within ALLOCATION_TOLERANCE."""
    if not allocation:
        raise ValueError(f"{name} must not be empty")
    total = sum(allocation.values(), Decimal(0))
    if abs(total - 100) > ALLOCATION_TOLERANCE:
        raise ValueError(f"{name} sums to {total}, not 100 (tolerance {ALLOCATION_TOLERANCE})")
    return allocation
