"""db.performance: what an account or a user earned over a period (TWR, MWR, income, costs)."""

from __future__ import annotations

import uuid
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, localcontext
from typing import Any

from alexdb.domain.instants import instant_text, to_instant
from alexdb.domain.ledger import COSTS, EXTERNAL, INCOME, CashMovement
from alexdb.domain.models import PositionChange, Record
from alexdb.domain.returns import Figure, SubPeriod, annualised, link, unavailable, xirr
from alexdb.ports import AccountStore, PositionStore
from alexdb.services.positions import PositionService, series_steps
from alexdb.services.sweep import Line, Sweep, sweep
from alexdb.services.valuation import EXACT

ZERO = Decimal(0)
DAY = timedelta(days=1)
TWR_PLACES = Decimal("1e-12")


class Returns(Record):
    """What a portfolio did between two instants."""

    start: datetime
    end: datetime
    start_value: Decimal
    end_value: Decimal
    deposits: Decimal
    withdrawals: Decimal
    securities_in: Decimal
    """Market value of securities that came in without cash (transfers, holdings set without a price)."""
    securities_out: Decimal
    net_flows: Decimal
    """External flows: deposits and securities in, less withdrawals and securities out."""
    income: Decimal
    """Dividends and interest."""
    fees: Decimal
    taxes: Decimal
    absolute_gain: Decimal
    """end_value - start_value - net_flows."""
    twr: Figure
    twr_annualised: Figure
    mwr: Figure


class ReturnPoint(Record):
    """One point of a performance chart."""

    at: datetime
    value: Decimal
    contributions: Decimal
    twr: Decimal | None
    """Cumulative time-weighted return from the series' start (None where it cannot be measured)."""


class _Flow(Record):
    at: datetime
    amount: Decimal  # > 0 into the portfolio, < 0 out of it
    kind: str


class _Period:
    """Values and flows of one or more accounts over a grid of instants."""

    def __init__(self, instants: list[datetime]) -> None:
        self.instants = instants
        self.values = [ZERO] * len(instants)
        self.contributions = [ZERO] * len(instants)
        self.unpriced: tuple[datetime, list[str]] | None = None
        self.flows: list[_Flow] = []
        self.income = self.fees = self.taxes = ZERO
        self.problem: str | None = None


class PerformanceService:
    """Returns over a period, computed from the same sweep as the value series."""

    def __init__(self, positions: PositionService, store: PositionStore, accounts: AccountStore) -> None:
        self._positions, self._store, self._accounts = positions, store, accounts

    def returns(self, account_id: uuid.UUID | str, start: Any, end: Any) -> Returns:
        """Start and end values, flows, income, costs, TWR (daily-linked), its annual rate and MWR (XIRR)."""
        key = self._accounts.account_record(account_id).id
        begin, finish = to_instant(start, "start"), to_instant(end, "end")
        return self._summarise(self._measure([key], begin, finish, _daily(begin, finish)))

    def user_returns(self, clerk_user_id: str, start: Any, end: Any) -> Returns:
        """The same over all of a user's accounts taken as one portfolio."""
        keys = [account.id for account in self._accounts.find_by_user(clerk_user_id)]
        begin, finish = to_instant(start, "start"), to_instant(end, "end")
        return self._summarise(self._measure(keys, begin, finish, _daily(begin, finish)))

    def series(self, account_id: uuid.UUID | str, start: Any, end: Any, step: timedelta = DAY) -> list[ReturnPoint]:
        """Value, contributions and cumulative TWR at start, start+step, ... up to end (for charts)."""
        key = self._accounts.account_record(account_id).id
        begin, finish = to_instant(start, "start"), to_instant(end, "end")
        period = self._measure([key], begin, finish, series_steps(begin, finish, step))
        figures: list[Decimal | None] = [None] * len(period.instants)  # no figure where a value is unknown
        if period.problem is None:
            figures = [ZERO, *link(_sub_periods(period))[0]]
        return [ReturnPoint(at=at, value=value, contributions=put_in, twr=figure)
                for at, value, put_in, figure in zip(period.instants, period.values, period.contributions,
                                                     figures, strict=True)]

    def _measure(self, keys: Sequence[uuid.UUID], begin: datetime, finish: datetime,
                 instants: list[datetime]) -> _Period:
        period = _Period(instants)
        for key in keys:
            moved = self._store.transfers(key, begin + timedelta(microseconds=1), finish)
            # Securities moved in or out are valued at their own instants: the prices must cover those too.
            inputs = self._positions.sweep_inputs(key, sorted({*instants, *(change.at for change in moved)}))
            self._add_values(period, sweep(instants, inputs.holdings, inputs.prices, inputs.ledger))
            self._add_cash_flows(period, [m for m in inputs.movements if begin < m.at <= finish])
            self._add_security_flows(period, moved, inputs.prices)
        period.flows.sort(key=lambda flow: flow.at)
        return period

    @staticmethod
    def _add_values(period: _Period, swept: Sweep) -> None:
        for index, (total, put_in, unpriced) in enumerate(zip(swept.total, swept.contributions, swept.unpriced,
                                                              strict=True)):
            period.values[index] += total
            period.contributions[index] += put_in
            if unpriced and period.unpriced is None:
                period.unpriced = (period.instants[index], unpriced)
        if period.unpriced is not None:
            at, symbols = period.unpriced
            period.problem = f"{', '.join(symbols)} had no price at {at.isoformat()}: the value then is unknown"

    @staticmethod
    def _add_cash_flows(period: _Period, movements: Sequence[CashMovement]) -> None:
        for movement in movements:
            if movement.kind in EXTERNAL:
                period.flows.append(_Flow(at=movement.at, amount=movement.amount, kind=movement.kind))
            elif movement.kind in INCOME:
                period.income += movement.amount
            elif movement.kind == "FEE":
                period.fees -= movement.amount
            elif movement.kind in COSTS:
                period.taxes -= movement.amount

    @staticmethod
    def _add_security_flows(period: _Period, moved: Sequence[PositionChange], prices: Mapping[str, Line]) -> None:
        for change in moved:
            known = prices.get(change.symbol)
            price = known.at_or_before(change.at) if known is not None else None
            if price is None:
                price = change.price
            if price is None:
                period.problem = f"{change.symbol} moved at {change.at.isoformat()} with no price to value it"
                continue
            with localcontext(prec=EXACT):
                period.flows.append(_Flow(at=change.at, amount=change.delta * price, kind="SECURITIES"))

    def _summarise(self, period: _Period) -> Returns:
        begin, finish = period.instants[0], period.instants[-1]
        start_value, end_value = period.values[0], period.values[-1]
        totals = {kind: sum((f.amount for f in period.flows if f.kind == kind), ZERO) for kind in EXTERNAL}
        securities_in = sum((f.amount for f in period.flows if f.kind == "SECURITIES" and f.amount > 0), ZERO)
        securities_out = -sum((f.amount for f in period.flows if f.kind == "SECURITIES" and f.amount < 0), ZERO)
        net = sum((f.amount for f in period.flows), ZERO)
        days = (finish - begin).days
        twr, twr_yearly = self._twr(period, days)
        return Returns(
            start=begin, end=finish, start_value=start_value, end_value=end_value,
            deposits=totals["DEPOSIT"], withdrawals=-totals["WITHDRAWAL"], securities_in=securities_in,
            securities_out=securities_out, net_flows=net, income=period.income, fees=period.fees,
            taxes=period.taxes, absolute_gain=end_value - start_value - net, twr=twr, twr_annualised=twr_yearly,
            mwr=self._mwr(period, days))

    @staticmethod
    def _twr(period: _Period, days: int) -> tuple[Figure, Figure]:
        if days < 1:
            short = unavailable("the period is shorter than a day")
            return short, short
        if period.problem is not None:
            return unavailable(period.problem), unavailable(period.problem)
        cumulative, reason = link(_sub_periods(period))
        if reason is not None:
            return unavailable(reason), unavailable(reason)
        if not cumulative or cumulative[-1] is None:
            idle = unavailable("nothing was invested during the period")
            return idle, idle
        total: Decimal = cumulative[-1]
        try:
            yearly = Figure(value=annualised(total, days).quantize(TWR_PLACES))
        except ArithmeticError:
            yearly = unavailable("a loss of everything has no annual rate")
        return Figure(value=total.quantize(TWR_PLACES)), yearly

    @staticmethod
    def _mwr(period: _Period, days: int) -> Figure:
        if days < 1:
            return unavailable("the period is shorter than a day")
        if period.problem is not None:
            return unavailable(period.problem)
        first, last = period.instants[0], period.instants[-1]
        flows: list[tuple[date, Decimal]] = []
        if period.values[0]:
            flows.append((first.date(), -period.values[0]))
        flows += [(flow.at.date(), -flow.amount) for flow in period.flows]
        flows.append((last.date(), period.values[-1]))
        if not period.values[0] and not period.flows:
            return unavailable("nothing was invested during the period")
        return xirr(flows)


def _daily(begin: datetime, finish: datetime) -> list[datetime]:
    """Day-long sub-periods from begin, the last ending at finish (checked as a series' instants are)."""
    instants = series_steps(begin, finish, DAY)
    if instants[-1] != finish:
        instants.append(finish)
    return instants


def _sub_periods(period: _Period) -> list[SubPeriod]:
    """Each interval between consecutive instants with the flows inside it (after its start, up to its end)."""
    marks = [instant_text(instant) for instant in period.instants]
    inflows = [ZERO] * len(marks)
    outflows = [ZERO] * len(marks)
    for flow in period.flows:
        index = bisect_left(marks, instant_text(flow.at))
        if 0 < index < len(marks):
            if flow.amount > 0:
                inflows[index] += flow.amount
            else:
                outflows[index] -= flow.amount
    return [SubPeriod(period.values[i - 1], period.values[i], inflows[i], outflows[i]) for i in range(1, len(marks))]
