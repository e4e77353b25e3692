"""db.positions: trades, holdings, history and time travel over any backend's PositionStore."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from alexdb.domain.errors import ValidationError
from alexdb.domain.instants import optional_instant, to_instant, utcnow
from alexdb.domain.ledger import Fee, adjusted, splits_between
from alexdb.domain.lots import Book, Disposal, Lot, check_method, replay
from alexdb.domain.models import (
    AccountValuation,
    Position,
    PositionChange,
    Record,
    UserValuation,
    ValuePoint,
    normalise_symbol,
)
from alexdb.domain.numbers import Price
from alexdb.domain.paging import Bookmark, Cursors, Results, scope
from alexdb.domain.trading import (
    DECREASING,
    INCREASING,
    HeldState,
    Trade,
    book,
    check_action,
    holding_quantity,
    plan_trades,
    replace_quantity,
    trade_quantity,
)
from alexdb.domain.validate import build, parse_id
from alexdb.ports import (
    AccountStore,
    PositionStore,
    PriceReader,
    Rows,
    SplitRecords,
)
from alexdb.services.cash import LedgerReader
from alexdb.services.sweep import sweep
from alexdb.services.sweep_inputs import SweepInputs, SweepReader
from alexdb.services.valuation import HoldingAt, steps, value_holdings, value_points

MAX_SERIES_STEPS = 100_000
LEDGER_PAGE = 1000
ZERO = Decimal(0)


class _TradeTerms(Record):
    price: Price | None = None
    fee: Fee | None = None


def trade_terms(action: str, price: Any, fee: Any, field: str = "") -> tuple[Decimal | None, Decimal | None]:
    """A trade's price and fee, checked: a fee is paid only on a BUY or SELL with a price."""
    try:
        terms = build(_TradeTerms, {"price": price, "fee": fee})
    except ValidationError as exc:
        raise ValidationError(field + exc.field, exc.value, exc.reason) from exc
    if terms.fee is not None and (terms.price is None or action not in ("BUY", "SELL")):
        raise ValidationError(field + "fee", fee, "only a BUY or SELL with a price pays a fee")
    return terms.price, terms.fee


class PositionService:
    """The public position API; owns the rules, delegates storage to a PositionStore."""

    def __init__(self, store: PositionStore, accounts: AccountStore, prices: PriceReader, splits: SplitRecords,
                 ledger: LedgerReader, sweeps: SweepReader, cursors: Cursors) -> None:
        self._store, self._accounts, self._instruments = store, accounts, prices
        self._splits, self._ledger, self._sweeps, self._cursors = splits, ledger, sweeps, cursors

    def record_trade(
        self, account_id: uuid.UUID | str, symbol: str, action: str, quantity: Any,
        at: datetime | date | str | None = None, price: Any = None, fee: Any = None,
    ) -> PositionChange:
        """Buy, sell or transfer quantity (> 0) of symbol; selling more than is held is refused.

        A BUY with a price pays quantity x price (rounded to the cent) plus fee out of the account's cash, a
        SELL receives it less fee, in the same write as the holding; without a price no cash moves.
        A TRANSFER_IN's price is the cost basis of what came in.
        """
        verb = check_action(action)
        if verb not in INCREASING | DECREASING:
            raise ValidationError("action", action, "record_trade takes BUY, SELL, TRANSFER_IN or TRANSFER_OUT")
        amount = trade_quantity(quantity)
        paid, charged = trade_terms(verb, price, fee)
        key, ticker = parse_id("account", account_id), normalise_symbol(symbol)
        instant = None if at is None else to_instant(at)
        trade = Trade(ticker, verb, amount, instant, paid, charged)
        return self._store.change(key, ticker, lambda state, when, splits: book(trade, state, when, splits), instant)

    def record_trades(self, account_id: uuid.UUID | str, trades: Iterable[Any]) -> int:
        """Record many trades in one transaction, all or nothing (importing a broker history, say).

        Each trade is a mapping or a (symbol, action, quantity, at[, price[, fee]]) tuple; instants must
        not go back in time per symbol, and a sale of more than is held refuses the whole batch.
        """
        key = parse_id("account", account_id)
        checked: list[Trade] = []
        for number, raw in enumerate(trades):
            if isinstance(raw, Mapping):
                fields = dict(raw)
            elif isinstance(raw, tuple | list) and 4 <= len(raw) <= 6:
                fields = dict(zip(("symbol", "action", "quantity", "at", "price", "fee"), raw, strict=False))
            else:
                raise ValidationError(f"trades[{number}]", raw,
                                      "expected (symbol, action, quantity, at[, price[, fee]])")
            verb = check_action(fields.get("action"))
            if verb not in INCREASING | DECREASING:
                raise ValidationError(f"trades[{number}].action", verb, "record_trades takes trades, not UPDATE")
            paid, charged = trade_terms(verb, fields.get("price"), fields.get("fee"), f"trades[{number}].")
            checked.append(Trade(
                normalise_symbol(fields.get("symbol"), f"trades[{number}].symbol"), verb,
                trade_quantity(fields.get("quantity")), to_instant(fields.get("at"), f"trades[{number}].at"),
                paid, charged))
        if not checked:
            self._accounts.account_record(key)  # an empty import still names an account that must exist
            return 0
        symbols = sorted({trade.symbol for trade in checked})
        return self._store.change_many(key, symbols, lambda held, splits: plan_trades(checked, held, splits))

    def add_or_update_position(
        self, account_id: uuid.UUID | str, symbol: str, quantity: Any, action: str = "UPDATE",
        at: datetime | date | str | None = None,
    ) -> PositionChange:
        """Set the held quantity absolutely (the seeds' call); the history records the difference, no cash moves."""
        verb = check_action(action)
        target = holding_quantity(quantity)
        key, ticker = parse_id("account", account_id), normalise_symbol(symbol)
        instant = None if at is None else to_instant(at)
        return self._store.change(key, ticker, replace_quantity(verb, target, quantity, ticker), instant)

    def add_position(self, account_id: uuid.UUID | str, symbol: str, quantity: Any) -> PositionChange:
        """Set a holding to quantity now (the original package's call)."""
        return self.add_or_update_position(account_id, symbol, quantity)

    def _split_holdings(self, states: Mapping[str, HeldState], at: datetime) -> dict[str, HoldingAt]:
        """Each holding at an instant with the splits since its last change applied (zero holdings left out)."""
        splits = self._splits.splits_of(sorted(states)) if states else {}
        holdings = {}
        for symbol, state in states.items():
            quantity = adjusted(state.quantity, splits_between(splits.get(symbol, ()), state.last, at))
            if quantity:
                holdings[symbol] = HoldingAt(quantity, state.cost)
        return holdings

    def find_by_account(self, account_id: uuid.UUID | str) -> list[Position]:
        """Current holdings (quantity > 0, splits applied) with instrument name, type, current price and cost basis."""
        current = self._store.current(self._accounts.account_record(account_id).id)
        holdings = self._split_holdings({p.symbol: state for p, state in current}, utcnow())
        return [p.model_copy(update={"quantity": holdings[p.symbol].quantity, "cost_basis": holdings[p.symbol].cost})
                for p, _ in current if p.symbol in holdings]

    def get_position_history(
        self, account_id: uuid.UUID | str, symbol: str | None = None, start: Any = None, end: Any = None,
        limit: int | None = None, cursor: str | None = None,
    ) -> Results[PositionChange]:
        """The audit trail in time order, as recorded (quantities in the units of their instant)."""
        key = self._accounts.account_record(account_id).id
        ticker = None if symbol is None else normalise_symbol(symbol)
        begin, finish = optional_instant(start, "start"), optional_instant(end, "end")

        def read(after: Bookmark | None, size: int) -> Rows:
            return self._store.history_page(key, ticker, begin, finish, after, size)

        return Results(read, scope("history", key, ticker, begin, finish), self._cursors, limit, cursor)

    def get_positions_at(self, account_id: uuid.UUID | str, at: datetime | date | str) -> dict[str, Decimal]:
        """Quantity held of each symbol at an instant (its last change then, with the splits since)."""
        instant = to_instant(at)
        states = self._store.holdings_at(self._accounts.account_record(account_id).id, instant)
        return {symbol: held.quantity for symbol, held in self._split_holdings(states, instant).items()}

    def get_lots(self, account_id: uuid.UUID | str, symbol: str | None = None, at: Any = None,
                 method: str = "fifo") -> list[Lot]:
        """Open lots at an instant (default now) by symbol then acquisition: quantity (splits applied), cost
        with fees, acquired_at; method is fifo, lifo, hifo or average (one pooled lot per symbol)."""
        instant = utcnow() if at is None else to_instant(at)
        books = self._books(account_id, symbol, check_method(method), instant)
        return [lot for book in books for lot in book.open_lots()]

    def get_realized_gains(self, account_id: uuid.UUID | str, start: Any = None, end: Any = None,
                           method: str = "fifo") -> list[Disposal]:
        """Each SELL between start and end inclusive, in time order: proceeds net of fee, cost, gain, holding period."""
        begin, finish = optional_instant(start, "start"), optional_instant(end, "end")
        books = self._books(account_id, None, check_method(method), finish)
        disposals = [d for book in books for d in book.disposals if begin is None or d.at >= begin]
        return sorted(disposals, key=lambda d: d.at)

    def _books(self, account_id: uuid.UUID | str, symbol: str | None, method: str,
               until: datetime | None) -> list[Book]:
        key = self._accounts.account_record(account_id).id
        ticker = None if symbol is None else normalise_symbol(symbol)
        by_symbol: dict[str, list[PositionChange]] = {}
        for change in self._changes(key, ticker, until):
            by_symbol.setdefault(change.symbol, []).append(change)
        splits = self._splits.splits_of(sorted(by_symbol)) if by_symbol else {}
        return [replay(name, changes, splits.get(name, ()), method, until)
                for name, changes in sorted(by_symbol.items())]

    def _changes(self, key: uuid.UUID, symbol: str | None, until: datetime | None) -> Results[PositionChange]:
        return Results(lambda after, size: self._store.history_page(key, symbol, None, until, after, LEDGER_PAGE),
                       scope("history", key, symbol), self._cursors)

    def get_account_value_at_date(self, account_id: uuid.UUID | str, at: datetime | date | str) -> AccountValuation:
        """What the account was worth at an instant: its cash then and each holding with its cost basis;
        holdings with no price then are listed as unpriced."""
        account = self._accounts.account_record(account_id)
        instant = to_instant(at)
        states = self._store.holdings_at(account.id, instant)
        cash = self._ledger.cash_with(account.id, instant, states)
        holdings = self._split_holdings(states, instant)
        prices = self._instruments.prices_at(sorted(holdings), instant)
        return value_holdings(account.id, instant, cash, holdings, prices)

    def get_portfolio_value(self, account_id: uuid.UUID | str) -> AccountValuation:
        """What the account is worth now (the seed's call)."""
        return self.get_account_value_at_date(account_id, utcnow())

    def get_user_value_at_date(self, clerk_user_id: str, at: datetime | date | str) -> UserValuation:
        """What all of a user's accounts were worth at an instant."""
        instant = to_instant(at)
        valuations = [self.get_account_value_at_date(account.id, instant)
                      for account in self._accounts.find_by_user(clerk_user_id)]
        total = sum((valuation.total for valuation in valuations), Decimal(0))
        return UserValuation(clerk_user_id=clerk_user_id, at=instant, total=total, accounts=valuations)

    def get_value_series(
        self, account_id: uuid.UUID | str, start: datetime | date | str, end: datetime | date | str,
        step: timedelta = timedelta(days=1),
    ) -> list[ValuePoint]:
        """The account's value, cash and net contributions at start, start+step, ... up to end, in one sweep."""
        key = self._accounts.account_record(account_id).id
        instants = series_steps(to_instant(start, "start"), to_instant(end, "end"), step)
        inputs = self._sweeps.inputs(key, instants)
        return value_points(instants, sweep(instants, inputs.holdings, inputs.prices, inputs.ledger))

    def sweep_inputs(self, key: uuid.UUID, instants: Sequence[datetime]) -> SweepInputs:
        """What a sweep of the account reads, with prices covering these instants (time-ordered)."""
        return self._sweeps.inputs(key, instants)


def series_steps(begin: datetime, finish: datetime, step: timedelta) -> list[datetime]:
    """The instants of a series, checked: a positive step, end not before start, a bounded count."""
    if step <= timedelta(0):
        raise ValidationError("step", step, "must be positive")
    if finish < begin:
        raise ValidationError("end", finish.isoformat(), "is before start")
    if (finish - begin) / step > MAX_SERIES_STEPS:
        raise ValidationError("step", step, f"gives more than {MAX_SERIES_STEPS} points")
    return steps(begin, finish, step)
