"""db.positions: trades, holdings, history and time travel over any backend's PositionStore."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from alexdb.domain.errors import ValidationError
from alexdb.domain.instants import optional_instant, to_instant, utcnow
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
    Trade,
    apply_trade,
    check_action,
    holding_quantity,
    plan_trades,
    trade_quantity,
)
from alexdb.domain.validate import build, parse_id
from alexdb.ports import AccountStore, PositionStore, PriceReader, Rows
from alexdb.services.valuation import value_holdings, value_series

MAX_SERIES_STEPS = 100_000


class _TradePrice(Record):
    price: Price


class PositionService:
    """The public position API; owns the rules, delegates storage to a PositionStore."""

    def __init__(self, store: PositionStore, accounts: AccountStore, prices: PriceReader, cursors: Cursors) -> None:
        self._store = store
        self._accounts = accounts
        self._instruments = prices
        self._cursors = cursors

    def record_trade(
        self, account_id: uuid.UUID | str, symbol: str, action: str, quantity: Any,
        at: datetime | date | str | None = None, price: Any = None,
    ) -> PositionChange:
        """Buy, sell or transfer quantity (> 0) of symbol; selling more than is held is refused."""
        verb = check_action(action)
        if verb not in INCREASING | DECREASING:
            raise ValidationError("action", action, "record_trade takes BUY, SELL, TRANSFER_IN or TRANSFER_OUT")
        amount = trade_quantity(quantity)
        key, ticker = parse_id("account", account_id), normalise_symbol(symbol)
        paid = None if price is None else build(_TradePrice, {"price": price}).price
        instant = None if at is None else to_instant(at)
        return self._store.change(
            key, ticker, verb, lambda held: apply_trade(ticker, held, verb, amount), instant, paid,
        )

    def record_trades(self, account_id: uuid.UUID | str, trades: Iterable[Any]) -> int:
        """Record many trades in one transaction, all or nothing (importing a broker history, say).

        Each trade is a mapping or a (symbol, action, quantity, at[, price]) tuple; instants must not
        go back in time per symbol, and a sale of more than is held refuses the whole batch.
        """
        key = parse_id("account", account_id)
        checked: list[Trade] = []
        for number, raw in enumerate(trades):
            if isinstance(raw, Mapping):
                fields = dict(raw)
            elif isinstance(raw, tuple | list) and len(raw) in (4, 5):
                fields = dict(zip(("symbol", "action", "quantity", "at", "price"), raw, strict=False))
            else:
                raise ValidationError(f"trades[{number}]", raw, "expected (symbol, action, quantity, at[, price])")
            verb = check_action(fields.get("action"))
            if verb not in INCREASING | DECREASING:
                raise ValidationError(f"trades[{number}].action", verb, "record_trades takes trades, not UPDATE")
            price = fields.get("price")
            checked.append((
                normalise_symbol(fields.get("symbol"), f"trades[{number}].symbol"), verb,
                trade_quantity(fields.get("quantity")), to_instant(fields.get("at"), f"trades[{number}].at"),
                None if price is None else build(_TradePrice, {"price": price}).price,
            ))
        if not checked:
            self._accounts.get_account(key)  # an empty import still names an account that must exist
            return 0
        symbols = sorted({trade[0] for trade in checked})
        return self._store.change_many(key, symbols, lambda held: plan_trades(checked, held))

    def add_or_update_position(
        self, account_id: uuid.UUID | str, symbol: str, quantity: Any, action: str = "UPDATE",
        at: datetime | date | str | None = None,
    ) -> PositionChange:
        """Set the held quantity absolutely (the seeds' call); the history records the difference."""
        verb = check_action(action)
        target = holding_quantity(quantity)
        key, ticker = parse_id("account", account_id), normalise_symbol(symbol)
        instant = None if at is None else to_instant(at)

        def mutation(held: Decimal) -> tuple[Decimal, Decimal]:
            if (verb in INCREASING and target < held) or (verb in DECREASING and target > held):
                raise ValidationError("quantity", quantity, f"{verb} cannot take {ticker} from {held} to {target}")
            return target - held, target

        return self._store.change(key, ticker, verb, mutation, instant, None)

    def add_position(self, account_id: uuid.UUID | str, symbol: str, quantity: Any) -> PositionChange:
        """Set a holding to quantity now (the original package's call)."""
        return self.add_or_update_position(account_id, symbol, quantity)

    def find_by_account(self, account_id: uuid.UUID | str) -> list[Position]:
        """Current holdings (quantity > 0) with instrument name, type and current price."""
        return self._store.current(self._accounts.get_account(account_id).id)

    def get_position_history(
        self, account_id: uuid.UUID | str, symbol: str | None = None, start: Any = None, end: Any = None,
        limit: int | None = None, cursor: str | None = None,
    ) -> Results[PositionChange]:
        """The audit trail in time order, optionally for one symbol and between two instants (with limit: a page)."""
        key = self._accounts.get_account(account_id).id
        ticker = None if symbol is None else normalise_symbol(symbol)
        begin, finish = optional_instant(start, "start"), optional_instant(end, "end")

        def read(after: Bookmark | None, size: int) -> Rows:
            return self._store.history_page(key, ticker, begin, finish, after, size)

        return Results(read, scope("history", key, ticker, begin, finish), self._cursors, limit, cursor)

    def get_positions_at(self, account_id: uuid.UUID | str, at: datetime | date | str) -> dict[str, Decimal]:
        """Quantity held of each symbol at an instant (from history records at or before it)."""
        return self._store.holdings_at(self._accounts.get_account(account_id).id, to_instant(at))

    def get_account_value_at_date(self, account_id: uuid.UUID | str, at: datetime | date | str) -> AccountValuation:
        """What the account was worth at an instant; holdings with no price then are listed as unpriced.

        Cash is the account's cash balance as recorded now: cash has no history in this schema.
        """
        account = self._accounts.get_account(account_id)
        instant = to_instant(at)
        holdings = self._store.holdings_at(account.id, instant)
        prices = self._instruments.prices_at(sorted(holdings), instant)
        return value_holdings(account.id, instant, account.cash_balance, holdings, prices)

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
        """The account's value at start, start+step, ... up to end, computed in one sweep."""
        account = self._accounts.get_account(account_id)
        begin, finish = to_instant(start, "start"), to_instant(end, "end")
        if step <= timedelta(0):
            raise ValidationError("step", step, "must be positive")
        if finish < begin:
            raise ValidationError("end", end, "is before start")
        if (finish - begin) / step > MAX_SERIES_STEPS:
            raise ValidationError("step", step, f"gives more than {MAX_SERIES_STEPS} points")
        changes = self._store.changes_until(account.id, finish)
        prices = self._instruments.price_points_until(self._store.symbols(account.id), finish)
        return value_series(account.cash_balance, changes, prices, begin, finish, step)
