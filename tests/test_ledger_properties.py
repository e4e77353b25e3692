"""Hypothesis: cash, holdings, lots and realized gains always equal an independent naive replay, and the
books balance.

The identity tested, for an account whose only flows are cash movements and priced BUYs and SELLs:

    realized gains + unrealized gains
        = value - (deposits - withdrawals) - (dividends + interest) + (fees + taxes)

Every cent a trade moved is either still in a lot's cost (unrealized) or was matched against proceeds
(realized), so what the account gained beyond the money put in and the income received is its gains.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alexdb import Database, InsufficientQuantityError
from tests.conftest import instrument

BASE = datetime(2023, 1, 2, tzinfo=UTC)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
CENT, UNIT = Decimal("0.01"), Decimal("0.00000001")
EXAMPLES = itertools.count()

trade = st.tuples(st.just("trade"), st.integers(0, 1), st.sampled_from(["BUY", "BUY", "SELL"]),
                  st.integers(1, 40), st.integers(1, 50_000), st.integers(0, 999))
cash = st.tuples(st.just("cash"), st.sampled_from(["DEPOSIT", "WITHDRAWAL", "DIVIDEND", "INTEREST", "FEE", "TAX"]),
                 st.integers(1, 1_000_000))
split = st.tuples(st.just("split"), st.integers(0, 1), st.sampled_from([(2, 1), (3, 1), (1, 2), (3, 2), (1, 3), (2, 3)]))
events = st.lists(st.one_of(trade, trade, cash, split), max_size=30)


def _scaled(quantity: Decimal, numerator: int, denominator: int) -> Decimal:
    return (quantity * numerator / denominator).quantize(UNIT, rounding=ROUND_HALF_EVEN)


class Naive:
    """The replay: FIFO lots as [quantity, cost], cash as a running sum."""

    def __init__(self) -> None:
        self.lots: dict[str, list[list[Decimal]]] = {}
        self.cash: list[tuple[datetime, Decimal]] = []
        self.gains: list[tuple[Decimal, Decimal]] = []  # proceeds, cost
        self.flows = {"external": Decimal(0), "income": Decimal(0), "costs": Decimal(0)}
        self.held_at: list[tuple[datetime, dict[str, Decimal]]] = []
        self.average: dict[str, Decimal] = {}  # average-cost booking: each holding's total cost

    def held(self, symbol: str) -> Decimal:
        return sum((lot[0] for lot in self.lots.get(symbol, [])), Decimal(0))

    def split(self, symbol: str, numerator: int, denominator: int) -> None:
        lots = self.lots.get(symbol, [])
        if lots:
            total = _scaled(self.held(symbol), numerator, denominator)
            for lot in lots:
                lot[0] = _scaled(lot[0], numerator, denominator)
            lots[-1][0] += total - self.held(symbol)
            self.lots[symbol] = [lot for lot in lots if lot[0]]

    def buy(self, symbol: str, quantity: Decimal, price: Decimal, fee: Decimal) -> Decimal:
        cost = (quantity * price).quantize(CENT, rounding=ROUND_HALF_EVEN) + fee
        self.average[symbol] = self.average.get(symbol, Decimal(0)) + cost if self.held(symbol) else cost
        self.lots.setdefault(symbol, []).append([quantity, cost])
        return -cost

    def sell(self, symbol: str, quantity: Decimal, price: Decimal, fee: Decimal) -> Decimal:
        proceeds = (quantity * price).quantize(CENT, rounding=ROUND_HALF_EVEN) - fee
        held = self.held(symbol)
        pooled = self.average[symbol]
        self.average[symbol] = Decimal(0) if quantity == held else pooled - (pooled * quantity / held).quantize(
            CENT, rounding=ROUND_HALF_EVEN)
        cost, left = Decimal(0), quantity
        for lot in self.lots[symbol]:
            part = min(left, lot[0])
            share = lot[1] if part == lot[0] else (lot[1] * part / lot[0]).quantize(CENT, rounding=ROUND_HALF_EVEN)
            lot[0], lot[1], left, cost = lot[0] - part, lot[1] - share, left - part, cost + share
            if not left:
                break
        self.lots[symbol] = [lot for lot in self.lots[symbol] if lot[0]]
        self.gains.append((proceeds, cost))
        return proceeds


def _setup(db: Database) -> tuple[str, list[str]]:
    n = next(EXAMPLES)
    if db.users.find_by_clerk_id("ledger") is None:
        db.users.create_user("ledger")
    symbols = [f"L{n}A", f"L{n}B"]
    for symbol in symbols:
        db.instruments.create_instrument(instrument(symbol))
    return str(db.accounts.create_account("ledger", f"property {n}").id), symbols


def _play(db: Database, account: str, symbols: list[str], script: Any, naive: Naive) -> datetime:
    at = BASE
    for event in script:
        at += timedelta(hours=1)
        if event[0] == "trade":
            _, which, action, quantity, price_cents, fee_cents = event
            symbol, amount, price, fee = symbols[which], Decimal(quantity), Decimal(price_cents) / 100, \
                Decimal(fee_cents) / 100
            db.instruments.record_price(symbol, price, at)
            if action == "SELL" and amount > naive.held(symbol):
                try:
                    db.positions.record_trade(account, symbol, action, amount, at=at, price=price, fee=fee)
                except InsufficientQuantityError:
                    continue
                raise AssertionError("an oversell was accepted")
            db.positions.record_trade(account, symbol, action, amount, at=at, price=price, fee=fee)
            moved = naive.buy(symbol, amount, price, fee) if action == "BUY" else naive.sell(symbol, amount, price, fee)
            naive.cash.append((at, moved))
        elif event[0] == "cash":
            _, kind, cents = event
            amount = Decimal(cents) / 100
            db.cash.record(account, kind, amount, at=at)
            effect = -amount if kind in ("WITHDRAWAL", "FEE", "TAX") else amount
            naive.cash.append((at, effect))
            bucket = "external" if kind in ("DEPOSIT", "WITHDRAWAL") else "income" if effect > 0 else "costs"
            naive.flows[bucket] += effect
        else:
            _, which, (numerator, denominator) = event
            db.instruments.record_split(symbols[which], numerator, denominator, at)
            naive.split(symbols[which], numerator, denominator)
        naive.held_at.append((at, {s: naive.held(s) for s in symbols if naive.held(s)}))
    return at


@SETTINGS
@given(script=events)
def test_the_ledger_equals_a_naive_replay_and_the_books_balance(db: Database, script: Any) -> None:
    account, symbols = _setup(db)
    naive = Naive()
    end = _play(db, account, symbols, script, naive)
    for at, held in naive.held_at[:: max(1, len(naive.held_at) // 5)]:
        assert db.positions.get_positions_at(account, at) == held
        assert db.cash.balance_at(account, at) == sum((amount for when, amount in naive.cash if when <= at),
                                                      Decimal(0))
    lots = db.positions.get_lots(account, method="fifo")
    assert [(lot.symbol, lot.quantity, lot.cost) for lot in lots] == [
        (symbol, lot[0], lot[1]) for symbol in sorted(naive.lots) for lot in naive.lots[symbol]]
    gains = db.positions.get_realized_gains(account)
    assert [(g.proceeds, g.cost) for g in gains] == naive.gains
    valuation = db.positions.get_account_value_at_date(account, end)
    assert {h.symbol: h.cost_basis for h in valuation.holdings} == {
        symbol: naive.average[symbol] for symbol in naive.lots if naive.lots[symbol]}
    assert {lot.symbol: lot.cost for lot in db.positions.get_lots(account, method="average")} == {
        symbol: naive.average[symbol] for symbol in naive.lots if naive.lots[symbol]}
    prices = {h.symbol: h.price for h in valuation.holdings}
    unrealized = sum((lot.quantity * prices[lot.symbol] - (lot.cost or 0) for lot in lots), Decimal(0))
    realized = sum((g.gain or Decimal(0) for g in gains), Decimal(0))
    flows = naive.flows
    assert realized + unrealized == valuation.total - flows["external"] - flows["income"] - flows["costs"]
