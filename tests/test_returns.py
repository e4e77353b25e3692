"""Returns: XIRR against published values, TWR's defining properties, and figures that cannot be computed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from alexdb import Database
from alexdb.domain.returns import SubPeriod, link, xirr
from tests.conftest import instrument

START = datetime(2024, 1, 1, 21, tzinfo=UTC)
CLOSES = ["100", "104", "98", "101", "110", "107", "115", "120", "118", "125", "130"]


def test_xirr_reproduces_the_spreadsheet_reference() -> None:
    flows = [(date(2008, 1, 1), Decimal(-10000)), (date(2008, 3, 1), Decimal(2750)),
             (date(2008, 10, 30), Decimal(4250)), (date(2009, 2, 15), Decimal(3250)),
             (date(2009, 4, 1), Decimal(2750))]
    result = xirr(flows)
    assert result.value is not None and abs(result.value - Decimal("0.373362535")) < Decimal("1e-6")


def test_xirr_of_a_loss_and_of_impossible_flows() -> None:
    loss = xirr([(date(2021, 1, 1), Decimal(-100)), (date(2022, 1, 1), Decimal(80))])  # 365 days
    assert loss.value is not None and abs(loss.value - Decimal("-0.2")) < Decimal("1e-9")
    one_way = xirr([(date(2020, 1, 1), Decimal(-100)), (date(2021, 1, 1), Decimal(-80))])
    assert one_way.value is None and one_way.reason is not None and "both in and out" in one_way.reason


def test_linking_skips_idle_periods_and_refuses_unmeasurable_ones() -> None:
    cumulative, reason = link([SubPeriod(Decimal(0), Decimal(0), Decimal(0), Decimal(0)),
                               SubPeriod(Decimal(0), Decimal(110), Decimal(100), Decimal(0)),
                               SubPeriod(Decimal(110), Decimal(121), Decimal(0), Decimal(0))])
    assert reason is None and cumulative == [None, Decimal("0.1"), Decimal("0.21")]
    _, refused = link([SubPeriod(Decimal(0), Decimal(5), Decimal(0), Decimal(0))])
    assert refused is not None


def _stock_account(db: Database, user: str, symbol: str) -> str:
    db.users.create_user(user)
    db.instruments.create_instrument(instrument(symbol))
    db.instruments.record_prices([(symbol, price, START + timedelta(days=n)) for n, price in enumerate(CLOSES)])
    account = db.accounts.create_account(user, "all in")
    db.cash.deposit(account.id, "10000", at=START)
    db.positions.record_trade(account.id, symbol, "BUY", 100, at=START, price="100")
    return str(account.id)


def test_twr_without_flows_is_end_over_start_and_a_withdrawal_does_not_change_it(db: Database) -> None:
    plain = _stock_account(db, "plain", "AAA")
    drawn = _stock_account(db, "drawn", "BBB")
    sold_at = START + timedelta(days=4)  # sell at that day's close and take the money out at once
    db.positions.record_trade(drawn, "BBB", "SELL", 40, at=sold_at, price=CLOSES[4])
    db.cash.withdraw(drawn, Decimal(40) * Decimal(CLOSES[4]), at=sold_at)
    end = START + timedelta(days=len(CLOSES) - 1)
    first, second = db.performance.returns(plain, START, end), db.performance.returns(drawn, START, end)
    assert first.twr.value == Decimal(CLOSES[-1]) / Decimal(CLOSES[0]) - 1
    assert first.net_flows == 0 and first.absolute_gain == first.end_value - first.start_value
    assert second.twr.value == first.twr.value and second.withdrawals == 4400 and second.net_flows == -4400
    assert second.mwr.value is not None and first.mwr.value is not None
    assert first.twr_annualised.value is not None
    assert abs(first.mwr.value - first.twr_annualised.value) < Decimal("1e-8")  # no flows: the same rate
    series = db.performance.series(drawn, START, end)
    assert series[0].twr == 0 and series[-1].twr == second.twr.value and len(series) == len(CLOSES)


def test_securities_moved_without_cash_are_external_flows_at_market(db: Database) -> None:
    plain = _stock_account(db, "kept", "FFF")
    topped = _stock_account(db, "topped", "GGG")
    # Daily-linked TWR counts a day's inflows from its start: this one arrives just after day 3's close.
    db.positions.record_trade(topped, "GGG", "TRANSFER_IN", 50, at=START + timedelta(days=3, microseconds=1))
    end = START + timedelta(days=len(CLOSES) - 1)
    first, second = db.performance.returns(plain, START, end), db.performance.returns(topped, START, end)
    assert second.securities_in == 50 * Decimal(CLOSES[3]) == second.net_flows and second.deposits == 0
    assert second.twr.value == first.twr.value  # still all in one stock: a flow does not change TWR
    assert second.absolute_gain == second.end_value - second.start_value - second.net_flows


def test_income_fees_and_taxes_are_performance(db: Database) -> None:
    account = _stock_account(db, "earner", "CCC")
    db.cash.record(account, "DIVIDEND", "50", at=START + timedelta(days=2), symbol="CCC")
    db.cash.record(account, "TAX", "7.50", at=START + timedelta(days=2), symbol="CCC")
    db.cash.record(account, "FEE", "2.50", at=START + timedelta(days=3))
    result = db.performance.returns(account, START, START + timedelta(days=3))
    assert (result.income, result.taxes, result.fees, result.net_flows) == (Decimal(50), Decimal("7.50"), Decimal("2.50"), Decimal(0))
    assert result.twr.value == (Decimal(CLOSES[3]) * 100 + 40) / 10000 - 1


def test_figures_that_cannot_be_computed_say_why(db: Database) -> None:
    account = _stock_account(db, "brief", "DDD")
    short = db.performance.returns(account, START, START + timedelta(hours=5))
    assert short.twr.value is None and short.mwr.value is None and "shorter than a day" in str(short.twr.reason)
    db.users.create_user("idle")
    idle = db.accounts.create_account("idle", "empty")
    nothing = db.performance.returns(idle.id, START, START + timedelta(days=5))
    assert nothing.twr.value is None and nothing.twr.reason and nothing.mwr.value is None
    db.positions.record_trade(idle.id, "DDD", "TRANSFER_IN", 1, at=START - timedelta(days=5))  # never priced then
    unpriced = db.performance.returns(idle.id, START - timedelta(days=6), START + timedelta(days=5))
    assert unpriced.twr.value is None and "no price" in str(unpriced.twr.reason)


def test_user_returns_take_the_accounts_as_one_portfolio(db: Database) -> None:
    first = _stock_account(db, "both", "EEE")
    second = db.accounts.create_account("both", "second")
    db.cash.deposit(second.id, "5000", at=START)
    result = db.performance.user_returns("both", START, START + timedelta(days=10))
    assert result.start_value == 15000 and result.twr.value == (Decimal(CLOSES[10]) * 100 + 5000) / 15000 - 1
    assert db.performance.returns(first, START, START + timedelta(days=10)).start_value == 10000
