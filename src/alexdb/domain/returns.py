"""Return arithmetic: true time-weighted (linked sub-periods) and money-weighted (XIRR). Pure; no I/O.

One definition of an external flow serves every figure: deposits and withdrawals of cash, and securities
that came in or went out without cash (transfers, holdings set without a price), valued at the market.
Dividends, interest, fees and taxes are performance, never flows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation, localcontext
from typing import NamedTuple

from alexdb.domain.models import Record

ZERO, ONE = Decimal(0), Decimal(1)
PRECISION = 34
RATE_PLACES = Decimal("1e-10")


class Figure(Record):
    """A return figure, or why it is unavailable (never a 0 or a NaN standing in for "unknown")."""

    value: Decimal | None
    reason: str | None = None

    @property
    def available(self) -> bool:
        """True when the figure was computed."""
        return self.value is not None


def unavailable(reason: str) -> Figure:
    """A figure that could not be computed, with the reason."""
    return Figure(value=None, reason=reason)


class SubPeriod(NamedTuple):
    """Market value at the start and end of a sub-period, and the external flows inside it."""

    start_value: Decimal
    end_value: Decimal
    inflows: Decimal
    outflows: Decimal


def link(periods: Sequence[SubPeriod]) -> tuple[list[Decimal | None], str | None]:
    """Cumulative time-weighted return after each sub-period, each r = (MV_end + out) / (MV_start + in) - 1.

    A sub-period with nothing invested and nothing left at its end is skipped (no money, no return); one
    with nothing invested but value at its end cannot be measured, and neither can anything after it.
    Returns the cumulative figures (None where not measurable) and the first reason something was not.
    """
    cumulative: list[Decimal | None] = []
    growth, measured, reason = ONE, False, None
    with localcontext(prec=PRECISION):
        for period in periods:
            base = period.start_value + period.inflows
            end = period.end_value + period.outflows
            if reason is None:
                if base > 0:
                    growth *= end / base
                    measured = True
                elif base == 0 and end == 0:
                    pass
                else:
                    reason = "a sub-period starts with nothing invested but ends with value (or below zero)"
            cumulative.append(growth - ONE if measured and reason is None else None)
    return cumulative, reason


def annualised(total: Decimal, days: int) -> Decimal:
    """A cumulative return over days as a yearly rate (Actual/365)."""
    with localcontext(prec=PRECISION):
        return _power(ONE + total, Decimal(365) / Decimal(days)) - ONE


def _power(base: Decimal, exponent: Decimal) -> Decimal:
    if base <= 0:
        raise InvalidOperation("no real power of a non-positive base")
    return base ** exponent


def xirr(flows: Sequence[tuple[date, Decimal]], iterations: int = 200) -> Figure:
    """The annual rate r with sum(cf / (1 + r) ** (days / 365)) = 0 (Actual/365, dated by day), to 10 places.

    A rate is not money: it is solved in binary floating point (Newton's method from 10%, falling back to
    bisection whenever a step would leave the bracket that holds the root) and reported as a Decimal.
    """
    if not any(cf > 0 for _, cf in flows) or not any(cf < 0 for _, cf in flows):
        return unavailable("a money-weighted return needs flows both in and out")
    first = min(day for day, _ in flows)
    terms = [((day - first).days / 365.0, float(cf)) for day, cf in flows]
    scale = max(abs(cf) for _, cf in terms)

    def npv(rate: float) -> float:
        return math.fsum(cf / (1.0 + rate) ** t for t, cf in terms) / scale

    def slope(rate: float) -> float:
        return math.fsum(-t * cf / (1.0 + rate) ** (t + 1.0) for t, cf in terms) / scale

    low, high = -0.999999, 1e6
    try:
        at_low, at_high = npv(low), npv(high)
    except OverflowError:
        return unavailable("the flows span too long a time for a rate near -100%")
    if at_low * at_high > 0:
        return unavailable("no rate in (-99.9999%, 1e8%) makes the flows' present value zero")
    rate = 0.1
    for _ in range(iterations):
        value = npv(rate)
        if abs(value) < 1e-15 or high - low < 1e-15:
            return Figure(value=Decimal(repr(rate)).quantize(RATE_PLACES))
        if (value > 0) == (at_low > 0):
            low = rate
        else:
            high = rate
        derivative = slope(rate)
        step = rate - value / derivative if derivative else low
        rate = step if low < step < high else (low + high) / 2
    return unavailable(f"the money-weighted return did not converge in {iterations} iterations")
