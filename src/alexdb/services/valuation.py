"""Valuation arithmetic, storage-neutral: an account's worth from its holdings, cash and prices over time."""

from __future__ import annotations

import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, localcontext
from typing import NamedTuple

from alexdb.domain.instants import instant_text
from alexdb.domain.ledger import Split, split_quantity
from alexdb.domain.models import AccountValuation, HoldingValue, PricePoint, UnpricedHolding, ValuePoint
from alexdb.ports import ChangeColumns, Columns

ZERO = Decimal(0)
# A holding has up to 24 digits and a price up to 20: their product needs 44, and the default context
# keeps 28 (it would round a large value silently). Sums of such products stay exact well inside 60.
EXACT = 60


class HoldingAt(NamedTuple):
    """A holding at an instant, splits applied: quantity and total cost (None: unknown)."""

    quantity: Decimal
    cost: Decimal | None


class LedgerColumns(NamedTuple):
    """The cash ledger in time order: instant text, balance after, net contributions after."""

    at: Sequence[str]
    balance: Sequence[Decimal]
    contributions: Sequence[Decimal]


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


def with_splits(changes: ChangeColumns, splits: Mapping[str, Sequence[Split]]) -> ChangeColumns:
    """The change stream with one more row per split a holding lived through: its quantity after the split.

    History records keep the units of their own instant, so a sweep that carries quantities forward needs
    the split as an event of its own. A split sorts before any change at its very instant (those were
    recorded in the new units).
    """
    symbols, at = list(changes[0]), list(changes[1])
    quantity, cash = list(changes[2]), list(changes[3])
    for symbol, symbol_splits in splits.items():
        for split in symbol_splits:
            mark = instant_text(split.at)
            position = bisect_left(at, mark)
            held = last_cash = None
            for index in range(position - 1, -1, -1):  # the symbol's last change before the split
                if symbols[index] == symbol:
                    held, last_cash = quantity[index], cash[index]
                    break
            if held is None or last_cash is None:
                continue
            # Each split is applied in order of instant, so a later split sees the earlier one's row.
            symbols.insert(position, symbol)
            at.insert(position, mark)
            quantity.insert(position, split_quantity(held, split))
            cash.insert(position, last_cash)
    return symbols, at, quantity, cash


def value_series(
    ledger: LedgerColumns, changes: ChangeColumns, prices: Columns, instants: Sequence[datetime],
) -> list[ValuePoint]:
    """Values at each instant, in one forward sweep over time-ordered ledger, changes and prices.

    Streams carry instants as canonical text (instant_text), so comparing text compares time. Each
    stream is read once; within a step only the last row of a symbol matters, so rows are coalesced
    first and the exact Decimal arithmetic runs once per symbol that moved. Running totals swap a
    symbol's old contribution for its new one, so a step costs what moved, not what is held.
    """
    with localcontext(prec=EXACT):
        return _value_series(ledger, changes, prices, instants)


def _value_series(
    ledger: LedgerColumns, changes: ChangeColumns, prices: Columns, instants: Sequence[datetime],
) -> list[ValuePoint]:
    change_symbols, change_at, change_quantity, change_cash = changes
    price_symbols, price_at, price_value = prices
    held: dict[str, Decimal] = {}
    symbol_cash: dict[str, Decimal] = {}
    last_price: dict[str, Decimal] = {}
    contribution: dict[str, Decimal] = {}  # quantity x price of each priced holding
    unpriced: set[str] = set()
    holdings_value = trade_cash = ZERO
    ci = pi = 0
    series: list[ValuePoint] = []
    construct = ValuePoint.model_construct
    for instant in instants:
        mark = instant_text(instant)
        # Rows up to this step are found by bisection and applied slice-wise (in C); the last row of a
        # symbol in the slice wins, which is its state at this step.
        change_end = bisect_right(change_at, mark, ci)
        price_end = bisect_right(price_at, mark, pi)
        if change_end == ci and price_end == pi:
            moved: Iterable[str] = ()
        else:
            moved = set(change_symbols[ci:change_end])
            for symbol, cash in dict(zip(change_symbols[ci:change_end], change_cash[ci:change_end],
                                         strict=True)).items():
                trade_cash += cash - symbol_cash.get(symbol, ZERO)
                symbol_cash[symbol] = cash
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
        li = bisect_right(ledger.at, mark) - 1
        cash_now = trade_cash + (ledger.balance[li] if li >= 0 else ZERO)
        # Every field was computed here from validated data: skip re-validating thousands of points.
        series.append(construct(
            at=instant, cash=cash_now, holdings_value=holdings_value, total=cash_now + holdings_value,
            contributions=ledger.contributions[li] if li >= 0 else ZERO,
            unpriced=sorted(unpriced) if unpriced else [],
        ))
    return series
