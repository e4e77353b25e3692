"""Valuation arithmetic, storage-neutral: an account's worth from its holdings, cash and prices over time."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, localcontext
from typing import NamedTuple

from alexdb.domain.models import AccountValuation, HoldingValue, PricePoint, UnpricedHolding, ValuePoint
from alexdb.services.sweep import Sweep

ZERO = Decimal(0)
# A holding has up to 24 digits and a price up to 20: their product needs 44, and the default context
# keeps 28 (it would round a large value silently). Sums of such products stay exact well inside 60.
EXACT = 60


class HoldingAt(NamedTuple):
    """A holding at an instant, splits applied: quantity and total cost (None: unknown)."""

    quantity: Decimal
    cost: Decimal | None


def steps(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    """start, start+step, ... up to end."""
    instants: list[datetime] = []
    instant = start
    while instant <= end:
        instants.append(instant)
        instant += step
    return instants


def value_holdings(
    account_id: uuid.UUID, at: datetime, cash: Decimal,
    holdings: Mapping[str, HoldingAt], prices: Mapping[str, PricePoint],
) -> AccountValuation:
    """Price each holding with its last price at or before at; a holding without one is listed as unpriced."""
    with localcontext(prec=EXACT):
        priced: list[HoldingValue] = []
        unpriced: list[UnpricedHolding] = []
        for symbol in sorted(holdings):
            quantity, cost = holdings[symbol]
            point = prices.get(symbol)
            if point is None:
                unpriced.append(UnpricedHolding(symbol=symbol, quantity=quantity, cost_basis=cost))
                continue
            value = quantity * point.price
            priced.append(HoldingValue(
                symbol=symbol, quantity=quantity, price=point.price, price_at=point.at, value=value,
                cost_basis=cost, unrealized_gain=None if cost is None else value - cost,
            ))
        holdings_value = sum((item.value for item in priced), ZERO)
        return AccountValuation(
            account_id=account_id, at=at, cash=cash, holdings_value=holdings_value,
            total=cash + holdings_value, holdings=priced, unpriced=unpriced,
        )


def value_points(instants: Sequence[datetime], swept: Sweep) -> list[ValuePoint]:
    """A sweep's results as the series' points."""
    # Every field was computed from validated data: skip re-validating thousands of points.
    construct = ValuePoint.model_construct
    return [construct(at=at, cash=cash, holdings_value=value, total=total, contributions=put_in, unpriced=unpriced)
            for at, cash, value, total, put_in, unpriced in zip(
                instants, swept.cash, swept.holdings_value, swept.total, swept.contributions, swept.unpriced,
                strict=True)]
