"""Hypothesis: holdings and valuations always equal an independent naive replay of the history."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alexdb import Database, InsufficientQuantityError
from alexdb.domain.models import Account

SYMBOLS = ("SPY", "QQQ", "BND")
BASE = datetime(2024, 1, 1, tzinfo=UTC)
# The db fixture is shared by the examples of one test; each example opens its own account.
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

quantities = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal(1000), places=8)
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10000), places=2)
trades = st.lists(
    st.tuples(st.sampled_from(SYMBOLS), st.sampled_from(["BUY", "SELL", "TRANSFER_IN", "TRANSFER_OUT"]),
              quantities, st.integers(min_value=0, max_value=3 * 24 * 60)),
    max_size=25,
)
price_points = st.lists(
    st.tuples(st.sampled_from(SYMBOLS), prices, st.integers(min_value=0, max_value=40 * 24 * 60)), max_size=25,
)
instants = st.lists(st.integers(min_value=-60, max_value=50 * 24 * 60), min_size=1, max_size=6)


EXAMPLES = itertools.count()


def _new_account(db: Database) -> tuple[Account, dict[str, str]]:
    """A fresh account and fresh instruments (renamed per example), so no example sees another's data."""
    if db.users.find_by_clerk_id("prop") is None:
        db.users.create_user("prop")
    suffix = next(EXAMPLES)
    symbols = {symbol: f"{symbol}{suffix}" for symbol in SYMBOLS}
    for real in symbols.values():
        db.instruments.create_instrument({
            "symbol": real, "name": real, "instrument_type": "etf",
            "allocation_regions": {"global": 100}, "allocation_sectors": {"other": 100},
            "allocation_asset_class": {"equity": 100},
        })
    account = db.accounts.create_account("prop", "property")
    db.cash.deposit(account.id, "12.34", at=BASE - timedelta(days=1))
    return account, symbols


def _apply(db: Database, account: Account, symbols: dict[str, str],
           trade_list: Any) -> list[tuple[str, datetime, Decimal]]:
    """Record trades at increasing instants; returns the accepted ones as (symbol, at, delta)."""
    accepted: list[tuple[str, datetime, Decimal]] = []
    held: dict[str, Decimal] = {}
    at = BASE
    for name, action, quantity, gap in trade_list:
        symbol = symbols[name]
        at += timedelta(minutes=gap)
        sign = 1 if action in ("BUY", "TRANSFER_IN") else -1
        if sign < 0 and quantity > held.get(symbol, Decimal(0)):
            try:
                db.positions.record_trade(account.id, symbol, action, quantity, at=at)
            except InsufficientQuantityError:
                continue
            raise AssertionError("an oversell was accepted")
        db.positions.record_trade(account.id, symbol, action, quantity, at=at)
        held[symbol] = held.get(symbol, Decimal(0)) + sign * quantity
        accepted.append((symbol, at, sign * quantity))
    return accepted


@SETTINGS
@given(trade_list=trades)
def test_current_holdings_equal_the_replay_of_history(db: Database, trade_list: Any) -> None:
    account, symbols = _new_account(db)
    accepted = _apply(db, account, symbols, trade_list)
    replay: dict[str, Decimal] = {}
    for symbol, _, delta in accepted:
        replay[symbol] = replay.get(symbol, Decimal(0)) + delta
    expected = {symbol: quantity for symbol, quantity in replay.items() if quantity}
    assert {p.symbol: p.quantity for p in db.positions.find_by_account(account.id)} == expected
    history = db.positions.get_position_history(account.id, limit=1000)
    from_history: dict[str, Decimal] = {}
    for change in history:
        from_history[change.symbol] = from_history.get(change.symbol, Decimal(0)) + change.delta
        assert change.quantity_after == from_history[change.symbol]
    assert {s: q for s, q in from_history.items() if q} == expected


@SETTINGS
@given(trade_list=trades, points=price_points, queries=instants)
def test_value_at_any_instant_equals_a_naive_replay(db: Database, trade_list: Any, points: Any, queries: Any) -> None:
    account, symbols = _new_account(db)
    accepted = _apply(db, account, symbols, trade_list)
    recorded = {(symbols[symbol], BASE + timedelta(minutes=m)): price for symbol, price, m in points}
    db.instruments.record_prices([(symbol, price, at) for (symbol, at), price in recorded.items()])
    for minute in queries:
        at = BASE + timedelta(minutes=minute)
        held: dict[str, Decimal] = {}
        for symbol, when, delta in accepted:
            if when <= at:
                held[symbol] = held.get(symbol, Decimal(0)) + delta
        total, unpriced = Decimal("12.34"), []
        for symbol, quantity in held.items():
            if not quantity:
                continue
            known = [(when, price) for (s, when), price in recorded.items() if s == symbol and when <= at]
            if known:
                total += quantity * max(known)[1]
            else:
                unpriced.append(symbol)
        valuation = db.positions.get_account_value_at_date(account.id, at)
        assert valuation.total == total
        assert sorted(u.symbol for u in valuation.unpriced) == sorted(unpriced)


@SETTINGS
@given(trade_list=trades, points=price_points, step_hours=st.integers(min_value=1, max_value=72))
def test_value_series_equals_point_valuations(db: Database, trade_list: Any, points: Any, step_hours: Any) -> None:
    account, symbols = _new_account(db)
    _apply(db, account, symbols, trade_list)
    recorded = {(symbols[symbol], BASE + timedelta(minutes=m)): price for symbol, price, m in points}
    db.instruments.record_prices([(symbol, price, at) for (symbol, at), price in recorded.items()])
    start, end = BASE - timedelta(hours=1), BASE + timedelta(days=45)
    series = db.positions.get_value_series(account.id, start, end, timedelta(hours=step_hours))
    for point in series[:: max(1, len(series) // 12)]:
        valuation = db.positions.get_account_value_at_date(account.id, point.at)
        assert point.total == valuation.total
        assert point.unpriced == [u.symbol for u in valuation.unpriced]
