"""Valuation arithmetic, storage-neutral: an account's worth from its holdings and prices at an instant."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from alexdb.domain.instants import instant_text
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
    changes: Iterable[tuple[str, str, Decimal]],
    prices: Iterable[tuple[str, str, Decimal]],
    start: datetime, end: datetime, step: timedelta,
) -> list[ValuePoint]:
    """Values at start, start+step, ... <= end, in one forward sweep over time-ordered changes and prices.

    Streams carry instants as canonical text (instant_text), so comparing text compares time. Each
    stream is read once; within a step only the last quantity and price of a symbol matter, so rows
    are coalesced first and the exact Decimal arithmetic runs once per symbol that moved. A running
    total swaps a symbol's old contribution for its new one, so a step costs what moved, not what is held.
    """
    change_rows, price_rows = list(changes), list(prices)
    held: dict[str, Decimal] = {}
    last_price: dict[str, Decimal] = {}
    unpriced: set[str] = set()
    holdings_value = ZERO
    ci = pi = 0
    series: list[ValuePoint] = []
    instant = start
    while instant <= end:
        mark = instant_text(instant)
        moved_quantity: dict[str, Decimal] = {}
        while ci < len(change_rows) and change_rows[ci][1] <= mark:
            symbol, _, quantity = change_rows[ci]
            moved_quantity[symbol] = quantity
            ci += 1
        moved_price: dict[str, Decimal] = {}
        while pi < len(price_rows) and price_rows[pi][1] <= mark:
            moved_price[price_rows[pi][0]] = price_rows[pi][2]
            pi += 1
        for symbol in moved_quantity.keys() | moved_price.keys():
            old_quantity, old_price = held.get(symbol, ZERO), last_price.get(symbol)
            quantity = moved_quantity.get(symbol, old_quantity)
            new_price = moved_price.get(symbol, old_price)
            if new_price is not None:
                old_value = ZERO if old_price is None else old_quantity * old_price
                holdings_value += quantity * new_price - old_value
                last_price[symbol] = new_price
                unpriced.discard(symbol)
            elif quantity:
                unpriced.add(symbol)
            else:
                unpriced.discard(symbol)
            held[symbol] = quantity
        # Every field was computed here from validated data: skip re-validating thousands of points.
        series.append(ValuePoint.model_construct(
            at=instant, cash=cash, holdings_value=holdings_value, total=cash + holdings_value,
            unpriced=sorted(unpriced),
        ))
        instant += step
    return series
