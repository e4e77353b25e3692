"""The ledger's contract on every backend: cash over time, trades that move cash, splits, lots, gains."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from alexdb import Database
from alexdb.domain.errors import ConflictError, InsufficientQuantityError, NotFoundError, ValidationError
from alexdb.domain.models import Account
from tests.conftest import OPENED


def day(n: int, hour: int = 15) -> datetime:
    return datetime(2024, 1, 1, hour, tzinfo=UTC) + timedelta(days=n)


def test_cash_has_a_history_and_a_balance_at_any_instant(db: Database, account: Account) -> None:
    db.cash.withdraw(account.id, "1000", at=day(0), note="house")
    db.cash.record(account.id, "DIVIDEND", "12.34", at=day(1), symbol="spy")
    db.cash.record(account.id, "interest", "0.66", at=day(2))
    db.cash.record(account.id, "FEE", "5", at=day(3))
    db.cash.record(account.id, "TAX", "1.85", at=day(3))
    db.cash.record(account.id, "ADJUSTMENT", "-0.15", at=day(4), note="rounding at the broker")
    assert db.cash.balance_at(account.id, OPENED - timedelta(seconds=1)) == 0
    assert db.cash.balance_at(account.id, day(0)) == Decimal("4000.00")
    assert db.cash.balance_at(account.id, day(2, 23)) == Decimal("4013.00")
    assert db.cash.balance(account.id) == db.accounts.get_account(account.id).cash_balance == Decimal("4006.00")
    history = db.cash.history(account.id)
    assert [(e.kind, e.amount, e.balance) for e in history] == [
        ("DEPOSIT", Decimal("5000.00"), Decimal("5000.00")), ("WITHDRAWAL", Decimal("-1000"), Decimal("4000.00")),
        ("DIVIDEND", Decimal("12.34"), Decimal("4012.34")), ("INTEREST", Decimal("0.66"), Decimal("4013.00")),
        ("FEE", Decimal("-5"), Decimal("4008.00")), ("TAX", Decimal("-1.85"), Decimal("4006.15")),
        ("ADJUSTMENT", Decimal("-0.15"), Decimal("4006.00"))]
    assert history[1].note == "house" and history[2].symbol == "SPY"
    window = db.cash.history(account.id, start=day(1), end=day(3))
    assert [e.kind for e in window] == ["DIVIDEND", "INTEREST", "FEE", "TAX"] and window[-1].balance == Decimal("4006.15")
    page = db.cash.movements(account.id, limit=3)
    assert len(page) == 3 and page.next_cursor is not None
    assert len(db.cash.movements(account.id, limit=3, cursor=page.next_cursor)) == 3


def test_trades_with_a_price_move_cash_in_the_same_write(db: Database, account: Account) -> None:
    bought = db.positions.record_trade(account.id, "SPY", "BUY", "3", at=day(0), price="100.005", fee="1.00")
    assert bought.cash_after == Decimal("-301.02") and bought.fee == Decimal("1.00")  # 300.015 rounds half-even
    db.positions.record_trade(account.id, "SPY", "SELL", 1, at=day(1), price="110", fee="0.50")
    db.positions.record_trade(account.id, "QQQ", "TRANSFER_IN", 2, at=day(1), price="50")  # a cost basis, no cash
    db.positions.record_trade(account.id, "BND", "BUY", 5, at=day(2))  # no price: no cash
    assert db.cash.balance_at(account.id, day(0, 16)) == Decimal("4698.98")
    assert db.cash.balance(account.id) == Decimal("5000.00") - Decimal("301.02") + Decimal("109.50")
    assert [(lot.symbol, lot.cost) for lot in db.positions.get_lots(account.id, "QQQ")] == [
        ("QQQ", Decimal("100.00"))]  # the transfer's price is its cost basis
    trades = [(e.kind, e.amount, e.fee) for e in db.cash.history(account.id) if e.kind in ("BUY", "SELL")]
    assert trades == [("BUY", Decimal("-301.02"), Decimal("1.00")), ("SELL", Decimal("109.50"), Decimal("0.50"))]
    count = db.positions.record_trades(account.id, [("SPY", "BUY", 1, day(3), "90", "2"),
                                                    {"symbol": "QQQ", "action": "SELL", "quantity": 1, "at": day(3),
                                                     "price": "60"}])
    assert count == 2 and db.cash.balance_at(account.id, day(3, 16)) == Decimal("4808.48") - 92 + 60


def test_valuation_uses_cash_then_and_carries_cost_basis(db: Database, account: Account) -> None:
    db.instruments.record_prices([("SPY", "100", day(0, 21)), ("SPY", "120", day(5, 21)), ("QQQ", "10", day(0, 21))])
    db.positions.record_trade(account.id, "SPY", "BUY", 10, at=day(1), price="100", fee="10")
    db.positions.record_trade(account.id, "SPY", "SELL", 4, at=day(2), price="110", fee="0")
    db.positions.record_trade(account.id, "QQQ", "TRANSFER_IN", 3, at=day(2))  # cost unknown
    db.cash.deposit(account.id, "500", at=day(3))
    early = db.positions.get_account_value_at_date(account.id, day(1, 16))
    assert early.cash == Decimal("3990.00") and early.total == Decimal("3990.00") + 1000
    later = db.positions.get_account_value_at_date(account.id, day(6))
    qqq, spy = later.holdings
    assert later.cash == Decimal("3990.00") + 440 + 500
    assert (spy.quantity, spy.cost_basis, spy.unrealized_gain) == (Decimal(6), Decimal("606.00"), Decimal("114.00"))
    assert qqq.cost_basis is None and qqq.unrealized_gain is None
    held = {p.symbol: p for p in db.positions.find_by_account(account.id)}
    assert held["SPY"].cost_basis == Decimal("606.00") and held["QQQ"].cost_basis is None
    assert held["QQQ"].unrealized_gain is None
    points = db.positions.get_value_series(account.id, day(0), day(6), timedelta(days=1))
    assert [p.cash for p in points] == [Decimal("5000.00"), Decimal("3990.00"), Decimal("4430.00")] + [
        Decimal("4930.00")] * 4
    assert [p.contributions for p in points] == [Decimal("5000.00")] * 3 + [Decimal("5500.00")] * 4
    assert points[-1].total == later.total


def test_account_cash_balance_is_the_ledger(db: Database) -> None:
    db.users.create_user("u")
    account = db.accounts.create_account("u", "a", cash_balance="250.00")
    assert [(m.kind, m.amount) for m in db.cash.movements(account.id)] == [("DEPOSIT", Decimal("250.00"))]
    updated = db.accounts.update_account(account.id, cash_balance="100.00", account_name="renamed")
    assert updated.cash_balance == Decimal("100.00") and updated.account_name == "renamed"
    assert [(m.kind, m.amount) for m in db.cash.movements(account.id)][-1] == ("ADJUSTMENT", Decimal("-150.00"))
    db.accounts.update_account(account.id, cash_balance="100.00")
    assert len(db.cash.movements(account.id)) == 2  # no change, no movement
    assert [a.cash_balance for a in db.accounts.find_by_user("u")] == [Decimal("100.00")]


def test_a_split_is_applied_on_read(db: Database, account: Account) -> None:
    db.instruments.record_prices([("SPY", "200", day(0, 21)), ("SPY", "100", day(3, 21))])  # raw prices
    db.positions.record_trade(account.id, "SPY", "BUY", 5, at=day(0), price="200")
    split = db.instruments.record_split("spy", 2, 1, day(3, 21))  # with the first post-split close
    assert split.ratio == 2 and db.instruments.get_splits("SPY") == [split]
    assert db.positions.get_positions_at(account.id, day(3)) == {"SPY": 5}
    assert db.positions.get_positions_at(account.id, day(3, 21)) == {"SPY": 10}
    assert [p.quantity for p in db.positions.find_by_account(account.id)] == [10]
    before = db.positions.get_account_value_at_date(account.id, day(2, 22))
    after = db.positions.get_account_value_at_date(account.id, day(3, 22))
    assert before.holdings_value == after.holdings_value == 1000  # continuous with raw prices
    assert [(lot.quantity, lot.cost, lot.cost_per_unit) for lot in db.positions.get_lots(account.id)] == [
        (Decimal(10), Decimal("1000.00"), Decimal("100"))]
    with pytest.raises(InsufficientQuantityError):
        db.positions.record_trade(account.id, "SPY", "SELL", 11, at=day(4), price="100")
    sold = db.positions.record_trade(account.id, "SPY", "SELL", 8, at=day(4), price="100")
    assert sold.quantity_after == 2
    history = db.positions.get_position_history(account.id, "SPY")
    assert [c.quantity_after for c in history] == [5, 2]  # as recorded, each in the units of its instant
    series = db.positions.get_value_series(account.id, day(2), day(5), timedelta(days=1))
    assert [p.holdings_value for p in series] == [1000, 1000, 200, 200]
    gains = db.positions.get_realized_gains(account.id)
    assert [(g.quantity, g.proceeds, g.cost, g.gain) for g in gains] == [(Decimal(8), Decimal(800), Decimal("800.00"), Decimal(0))]


def test_split_rules(db: Database, account: Account) -> None:
    db.positions.record_trade(account.id, "SPY", "BUY", 5, at=day(5))
    for numerator, denominator in ((0, 1), (-2, 1), (2, 0), (1, 1), ("x", 1), (True, 1)):
        with pytest.raises(ValidationError):
            db.instruments.record_split("QQQ", numerator, denominator, day(1))
    with pytest.raises(ValidationError, match="record splits before the trades after them") as refused:
        db.instruments.record_split("SPY", 2, 1, day(4))
    assert refused.value.field == "at"
    with pytest.raises(NotFoundError):
        db.instruments.record_split("NOPE", 2, 1, day(1))
    assert db.instruments.get_splits("SPY") == [] and db.counts()["splits"] == 0
    split = db.instruments.record_split("SPY", 1, 3, day(6))  # a reverse split: fractional shares to 8 places
    with pytest.raises(ConflictError):
        db.instruments.record_split("SPY", 2, 1, day(6))
    with pytest.raises(ConflictError):  # the store itself refuses a second split at one instant (a race)
        db.engine.splits.insert_split(split)
    assert db.instruments.get_splits("SPY") == [split]
    assert db.positions.get_positions_at(account.id, day(7)) == {"SPY": Decimal("1.66666667")}


@pytest.mark.parametrize("method, quantity, cost", [
    ("fifo", [Decimal(2), Decimal(10)], [Decimal("300.00"), Decimal("1200.00")]),
    ("lifo", [Decimal(10), Decimal(2)], [Decimal("1000.00"), Decimal("300.00")]),
    ("hifo", [Decimal(10), Decimal(2)], [Decimal("1000.00"), Decimal("240.00")]),
])
def test_lots_by_booking_method(db: Database, account: Account, method: str, quantity: list[Decimal],
                                cost: list[Decimal]) -> None:
    db.positions.record_trade(account.id, "SPY", "BUY", 10, at=day(0), price="100")
    db.positions.record_trade(account.id, "SPY", "BUY", 10, at=day(1), price="150")
    db.positions.record_trade(account.id, "SPY", "BUY", 10, at=day(2), price="120")
    db.positions.record_trade(account.id, "SPY", "SELL", 18, at=day(3), price="130", fee="3")
    lots = db.positions.get_lots(account.id, "SPY", method=method)  # in acquisition order
    assert [(lot.quantity, lot.cost) for lot in lots] == list(zip(quantity, cost, strict=True))
    gain = db.positions.get_realized_gains(account.id, method=method)[0]
    assert gain.proceeds == Decimal("2337.00") and gain.cost == Decimal("3700.00") - sum(cost)
    assert gain.gain == gain.proceeds - gain.cost
    assert [lot.quantity for lot in db.positions.get_lots(account.id, at=day(1, 16), method=method)] == [10, 10]


def test_average_cost_and_unknown_cost(db: Database, account: Account) -> None:
    db.positions.record_trade(account.id, "SPY", "BUY", 3, at=day(0), price="10")
    db.positions.record_trade(account.id, "SPY", "BUY", 3, at=day(1), price="20")
    db.positions.record_trade(account.id, "SPY", "SELL", 2, at=day(2), price="30")
    [pool] = db.positions.get_lots(account.id, method="average")
    assert (pool.quantity, pool.cost) == (Decimal(4), Decimal("60.00"))
    [gain] = db.positions.get_realized_gains(account.id, method="average")
    assert (gain.cost, gain.gain) == (Decimal("30.00"), Decimal("30.00"))
    db.positions.record_trade(account.id, "BND", "BUY", 3, at=day(0), price="10", fee="0.01")
    db.positions.record_trade(account.id, "BND", "SELL", 1, at=day(1), price="10")
    assert db.positions.get_account_value_at_date(account.id, day(2)).unpriced[0].cost_basis == Decimal("20.01")
    db.positions.record_trade(account.id, "QQQ", "TRANSFER_IN", 1, at=day(0))
    db.positions.record_trade(account.id, "QQQ", "SELL", 1, at=day(1), price="5")
    unknown = [g for g in db.positions.get_realized_gains(account.id) if g.symbol == "QQQ"]
    assert unknown[0].cost is None and unknown[0].gain is None and unknown[0].proceeds == 5
    with pytest.raises(ValidationError) as refused:
        db.positions.get_lots(account.id, method="lofi")
    assert refused.value.field == "method"


def test_missing_accounts_and_instruments(db: Database, account: Account) -> None:
    for call in (lambda: db.cash.withdraw("00000000-0000-0000-0000-000000000000", "5"),
                 lambda: db.cash.deposit("not an id", "5"),
                 lambda: db.cash.balance_at("00000000-0000-0000-0000-000000000000", day(0)),
                 lambda: db.cash.record(account.id, "DIVIDEND", "5", symbol="NOPE"),
                 lambda: db.positions.get_lots("00000000-0000-0000-0000-000000000000")):
        with pytest.raises(NotFoundError):
            call()
    db.accounts.delete_account(account.id)
    with pytest.raises(NotFoundError):
        db.cash.deposit(account.id, "5")
    assert db.counts()["cash_movements"] == 0
