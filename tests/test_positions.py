"""Contract: trades, holdings, history and time travel."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from alexdb import Database, InsufficientQuantityError, NotFoundError, ValidationError
from alexdb.domain.models import Account

T0 = datetime(2024, 1, 1, 15, tzinfo=UTC)


def day(n: int, hour: int = 15) -> datetime:
    return datetime(2024, 1, 1, hour, tzinfo=UTC) + timedelta(days=n)


def test_trades_write_history_and_current_together(db: Database, account: Account) -> None:
    db.positions.record_trade(account.id, "SPY", "BUY", 10, at=day(0), price="100")
    db.positions.record_trade(account.id, "SPY", "SELL", "2.5", at=day(1))
    db.positions.record_trade(account.id, "QQQ", "TRANSFER_IN", "0.00000001", at=day(1))
    held = {p.symbol: p.quantity for p in db.positions.find_by_account(account.id)}
    assert held == {"SPY": Decimal("7.5"), "QQQ": Decimal("0.00000001")}
    history = db.positions.get_position_history(account.id, "SPY")
    assert [(h.action, h.delta, h.quantity_after) for h in history] == [
        ("BUY", Decimal(10), Decimal(10)), ("SELL", Decimal("-2.5"), Decimal("7.5"))]
    assert history[0].price == Decimal("100")


def test_find_by_account_joins_instrument_and_hides_closed(db: Database, account: Account) -> None:
    db.instruments.record_price("SPY", "450.25", day(0))
    db.positions.record_trade(account.id, "SPY", "BUY", 2, at=day(0))
    db.positions.record_trade(account.id, "BND", "BUY", 1, at=day(0))
    db.positions.record_trade(account.id, "BND", "SELL", 1, at=day(1))
    [spy] = db.positions.find_by_account(account.id)
    assert (spy.instrument_name, spy.instrument_type, spy.current_price) == ("SPY fund", "etf", Decimal("450.25"))
    assert spy.value == Decimal("900.50")


def test_oversell_is_refused_and_writes_nothing(db: Database, account: Account) -> None:
    db.positions.record_trade(account.id, "SPY", "BUY", 1, at=day(0))
    with pytest.raises(InsufficientQuantityError) as info:
        db.positions.record_trade(account.id, "SPY", "SELL", "1.00000001", at=day(1))
    assert info.value.field == "quantity"
    with pytest.raises(InsufficientQuantityError):
        db.positions.record_trade(account.id, "QQQ", "TRANSFER_OUT", 1, at=day(1))
    assert len(db.positions.get_position_history(account.id)) == 1
    assert [p.quantity for p in db.positions.find_by_account(account.id)] == [Decimal(1)]


def test_seed_calls_set_absolute_quantities(db: Database, account: Account) -> None:
    db.positions.add_position(account.id, "SPY", 100)
    db.positions.add_or_update_position(account.id, "SPY", 150, action="BUY")
    db.positions.add_or_update_position(account.id, "SPY", 40)
    history = db.positions.get_position_history(account.id)
    assert [(h.action, h.delta) for h in history] == [("UPDATE", Decimal(100)), ("BUY", Decimal(50)), ("UPDATE", Decimal(-110))]
    with pytest.raises(ValidationError):
        db.positions.add_or_update_position(account.id, "SPY", 10, action="BUY")


def test_history_is_recorded_in_time_order(db: Database, account: Account) -> None:
    db.positions.record_trade(account.id, "SPY", "BUY", 1, at=day(5))
    with pytest.raises(ValidationError) as info:
        db.positions.record_trade(account.id, "SPY", "BUY", 1, at=day(4))
    assert info.value.field == "at"
    db.positions.record_trade(account.id, "QQQ", "BUY", 1, at=day(4))  # other symbols are independent
    db.positions.record_trade(account.id, "SPY", "BUY", 1, at=day(5))  # the same instant is fine


def test_history_filters_and_pages(db: Database, account: Account) -> None:
    for n in range(6):
        db.positions.record_trade(account.id, "SPY" if n % 2 else "QQQ", "BUY", 1, at=day(n))
    assert len(db.positions.get_position_history(account.id, start=day(2), end=day(4))) == 3
    assert len(db.positions.get_position_history(account.id, symbol="spy")) == 3
    page = db.positions.get_position_history(account.id, limit=4)
    rest = db.positions.get_position_history(account.id, limit=4, cursor=page.next_cursor)
    assert [h.at for h in page] + [h.at for h in rest] == [day(n) for n in range(6)]


def test_unknown_account_or_symbol(db: Database, account: Account) -> None:
    with pytest.raises(NotFoundError, match="instrument"):
        db.positions.record_trade(account.id, "NOPE", "BUY", 1)
    with pytest.raises(NotFoundError, match="account"):
        db.positions.record_trade("00000000-0000-0000-0000-000000000000", "SPY", "BUY", 1)
    with pytest.raises(NotFoundError):
        db.positions.find_by_account("nope")
    assert db.counts()["positions"] == 0


def test_value_at_date_uses_holdings_and_prices_as_of_then(db: Database, account: Account) -> None:
    db.instruments.record_prices([("SPY", "100", day(0, 21)), ("SPY", "110", day(2, 21)), ("QQQ", "50", day(1, 21))])
    db.positions.record_trade(account.id, "SPY", "BUY", 10, at=day(0))
    db.positions.record_trade(account.id, "QQQ", "BUY", 4, at=day(1))
    db.positions.record_trade(account.id, "SPY", "SELL", 5, at=day(3))

    before = db.positions.get_account_value_at_date(account.id, day(0, 10))
    assert before.holdings == [] and before.total == Decimal("5000.00")

    morning = db.positions.get_account_value_at_date(account.id, day(1, 16))  # QQQ bought, priced only at 21:00
    assert [(h.symbol, h.quantity, h.price) for h in morning.holdings] == [("SPY", Decimal(10), Decimal(100))]
    assert [(u.symbol, u.quantity) for u in morning.unpriced] == [("QQQ", Decimal(4))]
    assert morning.total == Decimal("6000.00") and not morning.complete

    end_of_day = db.positions.get_account_value_at_date(account.id, date(2024, 1, 3))
    assert {h.symbol: h.value for h in end_of_day.holdings} == {"SPY": Decimal(1100), "QQQ": Decimal(200)}
    assert end_of_day.holdings[1].price_at == day(2, 21)
    assert end_of_day.total == Decimal("6300.00")

    later = db.positions.get_account_value_at_date(account.id, datetime(2024, 1, 10))  # naive means UTC
    assert later.total == Decimal("5000.00") + 5 * 110 + 4 * 50
    assert db.positions.get_positions_at(account.id, day(3, 10)) == {"SPY": 10, "QQQ": 4}
    assert db.positions.get_portfolio_value(account.id).total == later.total


def test_user_value_sums_accounts(db: Database, account: Account) -> None:
    other = db.accounts.create_account("user_1", "Roth")
    db.cash.deposit(other.id, "10.00", at=day(0))
    db.instruments.record_price("SPY", "3", day(0))
    db.positions.record_trade(account.id, "SPY", "BUY", 1, at=day(0))
    db.positions.record_trade(other.id, "SPY", "BUY", 2, at=day(0))
    value = db.positions.get_user_value_at_date("user_1", day(1))
    assert value.total == Decimal("5000.00") + Decimal("10.00") + 9
    assert len(value.accounts) == 2


def test_value_series_matches_point_valuations(db: Database, account: Account) -> None:
    db.instruments.record_prices([("SPY", str(100 + n), day(n, 21)) for n in range(10)])
    db.instruments.record_prices([("QQQ", str(50 + n), day(n, 21)) for n in range(3, 10)])
    db.positions.record_trade(account.id, "SPY", "BUY", 3, at=day(1))
    db.positions.record_trade(account.id, "QQQ", "BUY", 2, at=day(2))
    db.positions.record_trade(account.id, "SPY", "SELL", 3, at=day(6))
    series = db.positions.get_value_series(account.id, day(0, 23), day(9, 23), timedelta(days=1))
    assert len(series) == 10
    for point in series:
        expected = db.positions.get_account_value_at_date(account.id, point.at)
        assert point.total == expected.total, point.at
        assert point.unpriced == [u.symbol for u in expected.unpriced]
    with pytest.raises(ValidationError):
        db.positions.get_value_series(account.id, day(1), day(0))


def test_bulk_trades_are_all_or_nothing(db: Database, account: Account) -> None:
    db.positions.record_trade(account.id, "SPY", "BUY", 1, at=day(0))
    trades = [("SPY", "BUY", 2, day(1)), ("QQQ", "BUY", "1.5", day(1), "10.00"), {"symbol": "SPY", "action": "SELL",
              "quantity": 3, "at": day(2)}]
    assert db.positions.record_trades(account.id, trades) == 3
    assert db.positions.get_positions_at(account.id, day(3)) == {"QQQ": Decimal("1.5")}
    history = db.positions.get_position_history(account.id).items
    assert [h.quantity_after for h in history] == [1, 3, Decimal("1.5"), 0]
    before = db.counts()
    with pytest.raises(InsufficientQuantityError):
        db.positions.record_trades(account.id, [("SPY", "BUY", 1, day(4)), ("QQQ", "SELL", 2, day(4))])
    with pytest.raises(ValidationError) as info:
        db.positions.record_trades(account.id, [("SPY", "BUY", 1, day(5)), ("BND", "BUY", 0, day(5))])
    assert info.value.field == "quantity"
    with pytest.raises(ValidationError):
        db.positions.record_trades(account.id, [("SPY", "BUY", 1, day(1))])  # before the last SPY change
    assert db.counts() == before
