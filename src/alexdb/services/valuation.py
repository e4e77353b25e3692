"""Valuation arithmetic, storage-neutral: an account's worth from its holdings and prices at an instant."""

from __future__ import annotations

import uuid
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal, localcontext

from alexdb.domain.instants import instant_text
from alexdb.domain.models import AccountValuation, HoldingValue, PricePoint, UnpricedHolding, ValuePoint
from alexdb.ports import Columns

ZERO = Decimal(0)
# A holding has up to 24 digits and a price up to 20: their product needs 44, and the default context
# keeps 28 (it would round a large value silently). Sums of such products stay exact well inside 60.
EXACT = 60


def value_holdings(
    account_id: uuid.UUID, at: datetime, cash: Decimal,
    holdings: Mapping[str, Decimal], prices: Mapping[str, PricePoint],
) -> AccountValuation:
    """Price each holding with its last price at or before at; a holding without one is listed as unpriced."""
    with localcontext(prec=EXACT):
        return _value_holdings(account_id, at, cash, holdings, prices)


def _value_holdings(
    account_id: uuid.UUID, at: datetime, cash: Decimal,
    holdings: Mapping[str, Decimal], prices: Mapping[str, PricePoint],
) -> AccountValuation:
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
    changes: Columns,
    prices: Columns,
    start: datetime, end: datetime, step: timedelta,
) -> list[ValuePoint]:
    """Values at start, start+step, ... <= end, in one forward sweep over time-ordered changes and prices.

    Streams carry instants as canonical text (instant_text), so comparing text compares time. Each
    stream is read once; within a step only the last quantity and price of a symbol matter, so rows
    are coalesced first and the exact Decimal arithmetic runs once per symbol that moved. A running
    total swaps a symbol's old contribution for its new one, so a step costs what moved, not what is held.
    """
    with localcontext(prec=EXACT):
        return _value_series(cash, changes, prices, start, end, step)


def _value_series(
    cash: Decimal, changes: Columns, prices: Columns, start: datetime, end: datetime, step: timedelta,
) -> list[ValuePoint]:
    change_symbols, change_at, change_quantity = changes
    price_symbols, price_at, price_value = prices
    steps: list[datetime] = []
    instant = start
    while instant <= end:
        steps.append(instant)
        instant += step
    held: dict[str, Decimal] = {}
    last_price: dict[str, Decimal] = {}
    contribution: dict[str, Decimal] = {}  # quantity x price of each priced holding
    unpriced: set[str] = set()
    holdings_value = ZERO
    ci = pi = 0
    series: list[ValuePoint] = []
    construct = ValuePoint.model_construct
    for instant in steps:
        mark = instant_text(instant)
        # Rows up to this step are found by bisection and applied slice-wise (in C); the last row of a
        # symbol in the slice wins, which is its state at this step.
        change_end = bisect_right(change_at, mark, ci)
        price_end = bisect_right(price_at, mark, pi)
        if change_end == ci and price_end == pi:
            moved: Iterable[str] = ()
        else:
            moved = set(change_symbols[ci:change_end])
            moved.update(price_symbols[pi:price_end])
            held.update(zip(change_symbols[ci:change_end], change_quantity[ci:change_end], strict=True))
            last_price.update(zip(price_symbols[pi:price_end], price_value[pi:price_end], strict=True))
            ci, pi = change_end, price_end
        for symbol in moved:
            price_now = last_price.get(symbol)
            if price_now is None:
                if held.get(symbol):
                    unpriced.add(symbol)
                else:
                    unpriced.discard(symbol)
                continue
            if unpriced:
                unpriced.discard(symbol)
            value = held.get(symbol, ZERO) * price_now
            holdings_value += value - contribution.get(symbol, ZERO)
            contribution[symbol] = value
        # Every field was computed here from validated data: skip re-validating thousands of points.
        series.append(construct(
            at=instant, cash=cash, holdings_value=holdings_value, total=cash + holdings_value,
            unpriced=sorted(unpriced) if unpriced else [],
        ))
    return series
