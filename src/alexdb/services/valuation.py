"""Valuation arithmetic, storage-neutral: an account's worth from its holdings and prices at an instant."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from alexdb.domain.models import AccountValuation, HoldingValue, PricePoint, UnpricedHolding, ValuePoint

ZERO = Decimal(0)


def value_holdings(
    account_id: uuid.UUID, at: datetime, cash: Decimal,
    holdings: Mapping[str, Decimal], prices: Mapping[str, PricePoint],
) -> AccountValuation:
    """Price each holding with its last price at or before at; a holding without one is listed as unpriced."""
    priced: list[HoldingValue] = []
    unpriced: list[UnpricedHolding] = []
    for symbol in sorted(holdings):
        quantity = holdings[symbol]
        point = prices.get(symbol)
        if point is None:
            unpriced.append(UnpricedHolding(symbol=symbol, quantity=quantity))
        else:
            priced.append(HoldingValue(
                symbol=symbol, quantity=quantity, price=point.price, price_at=point.at, value=quantity * point.price,
            ))
    holdings_value = sum((item.value for item in priced), ZERO)
    return AccountValuation(
        account_id=account_id, at=at, cash=cash, holdings_value=holdings_value,
        total=cash + holdings_value, holdings=priced, unpriced=unpriced,
    )


def value_series(
    cash: Decimal,
    changes: Iterator[tuple[str, datetime, Decimal]],
    prices: Iterator[tuple[str, datetime, Decimal]],
    start: datetime, end: datetime, step: timedelta,
) -> list[ValuePoint]:
    """Values at start, start+step, ... <= end, in one forward sweep over time-ordered changes and prices.

    Each stream is read once; at every step only the holdings and prices that moved since the previous
    step are applied, so the cost is (changes + prices + steps x held symbols), not steps x history.
    """
    held: dict[str, Decimal] = {}
    last_price: dict[str, Decimal] = {}
    next_change = next(changes, None)
    next_price = next(prices, None)
    series: list[ValuePoint] = []
    instant = start
    while instant <= end:
        while next_change is not None and next_change[1] <= instant:
            symbol, _, quantity = next_change
            if quantity == ZERO:
                held.pop(symbol, None)
            else:
                held[symbol] = quantity
            next_change = next(changes, None)
        while next_price is not None and next_price[1] <= instant:
            last_price[next_price[0]] = next_price[2]
            next_price = next(prices, None)
        holdings_value = ZERO
        unpriced: list[str] = []
        for symbol, quantity in held.items():
            price = last_price.get(symbol)
            if price is None:
                unpriced.append(symbol)
            else:
                holdings_value += quantity * price
        series.append(ValuePoint(
            at=instant, cash=cash, holdings_value=holdings_value, total=cash + holdings_value,
            unpriced=sorted(unpriced),
        ))
        instant += step
    return series
