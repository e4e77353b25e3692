"""Trade arithmetic: how one change moves a held quantity. Pure; backends call it inside their atomic write."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from alexdb.domain.errors import InsufficientQuantityError, ValidationError
from alexdb.domain.ledger import Split, adjusted, cents, running_total, splits_between
from alexdb.domain.models import Record
from alexdb.domain.numbers import Holding, Quantity
from alexdb.domain.validate import build, one_of
from alexdb.domain.vocabulary import TRADE_ACTIONS

INCREASING = frozenset({"BUY", "TRANSFER_IN"})
DECREASING = frozenset({"SELL", "TRANSFER_OUT"})
ZERO = Decimal(0)


class _TradeQuantity(Record):
    quantity: Quantity


class _HoldingQuantity(Record):
    quantity: Holding


def check_action(action: Any) -> str:
    """A known trade action, case-insensitive."""
    return one_of("action", action, TRADE_ACTIONS)


def trade_quantity(quantity: Any) -> Decimal:
    """The amount of a trade: exact, > 0, at most 8 decimal places."""
    return build(_TradeQuantity, {"quantity": quantity}).quantity


def holding_quantity(quantity: Any) -> Decimal:
    """An absolute held quantity: exact, >= 0, at most 8 decimal places."""
    return build(_HoldingQuantity, {"quantity": quantity}).quantity


def apply_trade(symbol: str, held: Decimal, action: str, quantity: Decimal) -> tuple[Decimal, Decimal]:
    """The (delta, quantity after) of a trade on a holding; refuses selling more than is held, and a
    holding the model could not read back (the sum is checked before anything is written)."""
    if action in INCREASING:
        after = held + quantity
        try:
            holding_quantity(after)
        except ValidationError as exc:
            raise ValidationError("quantity", quantity,
                                  f"would make the {symbol} holding {after}: {exc.reason}") from exc
        return quantity, after
    if action in DECREASING:
        if quantity > held:
            raise InsufficientQuantityError(symbol, held, quantity)
        return -quantity, held - quantity
    raise ValidationError("action", action, "UPDATE sets a quantity: use add_or_update_position")


class Trade(NamedTuple):
    """One validated trade: symbol, action, quantity > 0, instant (None: now), price and fee."""

    symbol: str
    action: str
    quantity: Decimal
    at: datetime | None
    price: Decimal | None = None
    fee: Decimal | None = None


class HeldState(NamedTuple):
    """What a store keeps of one holding: its last change's quantity (in the units of that instant), its
    instant (None: never held), the cumulative cash of its trades, and its total cost (None: unknown)."""

    quantity: Decimal
    last: datetime | None
    cash: Decimal
    cost: Decimal | None


NEVER_HELD = HeldState(ZERO, None, ZERO, ZERO)

Held = Mapping[str, HeldState]
"""What an account holds of each symbol, as its store read it under its lock."""


class Planned(NamedTuple):
    """One change a store writes to the history: the trade and the holding it leaves."""

    symbol: str
    action: str
    delta: Decimal
    after: Decimal
    at: datetime
    price: Decimal | None
    fee: Decimal | None = None
    cash_after: Decimal = ZERO
    cost_after: Decimal | None = None


Plan = Callable[[Held, Mapping[str, Sequence[Split]]], list[Planned]]
"""Given the holdings and the symbols' splits read under the store's lock, the changes to write; raises to refuse."""

Mutation = Callable[[HeldState, datetime, Sequence[Split]], Planned]
"""Given a holding, the change's instant and the symbol's splits (read under the lock), the change to write."""


def book(trade: Trade, state: HeldState, at: datetime, splits: Sequence[Split]) -> Planned:
    """The change a trade makes to a holding at `at`: quantity (after the splits since its last change),
    the cash of a BUY or SELL with a price (gross rounded to the cent, fee included), and the average cost."""
    symbol, action, amount, _, price, fee = trade
    held = adjusted(state.quantity, splits_between(splits, state.last, at))
    delta, after = apply_trade(symbol, held, action, amount)
    moved = trade_cash(action, amount, price, fee)
    cash = state.cash if moved is None else state.cash + moved
    cost = moved_cost(state.cost, held, delta, after, price, fee)
    return Planned(symbol, action, delta, after, at, price, fee, running_total(cash, "price", price),
                   None if cost is None else running_total(cost, "price", price))


def trade_cash(action: str, quantity: Decimal, price: Decimal | None, fee: Decimal | None) -> Decimal | None:
    """The cash a trade moves: a BUY pays quantity x price (rounded to the cent) plus fee, a SELL receives it
    less fee; None for a trade without a price or a transfer."""
    if price is None or action not in ("BUY", "SELL"):
        return None
    gross = cents(quantity * price)
    return -gross - (fee or ZERO) if action == "BUY" else gross - (fee or ZERO)


def moved_cost(cost: Decimal | None, held: Decimal, delta: Decimal, after: Decimal, price: Decimal | None,
               fee: Decimal | None) -> Decimal | None:
    """A holding's total cost after a change (average-cost booking): an addition adds what it cost (unknown
    without a price); a disposal takes away its share of the cost, rounded to the cent, so the cost of
    what remains plus the cost of what left is always the cost of what came in."""
    if after == 0:
        return ZERO
    if delta > 0:
        bought = None if price is None else cents(delta * price) + (fee or ZERO)
        if held == 0:
            return bought
        return None if cost is None or bought is None else cost + bought
    if cost is None:
        return None
    return cost - cents(cost * -delta / held)


def replace_quantity(action: str, target: Decimal, field_value: Any, symbol: str) -> Mutation:
    """The mutation of add_or_update_position: set the held quantity absolutely (no cash moves)."""

    def mutation(state: HeldState, at: datetime, splits: Sequence[Split]) -> Planned:
        held = adjusted(state.quantity, splits_between(splits, state.last, at))
        if (action in INCREASING and target < held) or (action in DECREASING and target > held):
            raise ValidationError("quantity", field_value, f"{action} cannot take {symbol} from {held} to {target}")
        delta = target - held
        return Planned(symbol, action, delta, target, at, None, None, state.cash,
                       moved_cost(state.cost, held, delta, target, None, None))

    return mutation


def plan_trades(trades: Sequence[Trade], held: Held, splits: Mapping[str, Sequence[Split]]) -> list[Planned]:
    """The changes of trades applied in order: time order per symbol, no sale of more than is held."""
    state = dict(held)
    planned = []
    for trade in trades:
        current = state.get(trade.symbol, NEVER_HELD)
        assert trade.at is not None  # a batch's trades are dated
        change_instant(trade.symbol, trade.at, current.last, trade.at)
        change = book(trade, current, trade.at, splits.get(trade.symbol, ()))
        state[trade.symbol] = HeldState(change.after, change.at, change.cash_after, change.cost_after)
        planned.append(change)
    return planned


def final_holdings(planned: Sequence[Planned]) -> dict[str, Planned]:
    """Each symbol's last planned change: the holding a batch leaves."""
    return {change.symbol: change for change in planned}


def change_instant(symbol: str, at: datetime | None, last: datetime | None, now: datetime) -> datetime:
    """When a change of a holding last changed at `last` happens: at, or now when at is None.

    "Now" is taken under the store's lock, so a writer that waited is not stamped before the one it
    waited for; max() keeps history ordered even if another host's clock runs behind. An explicit
    instant before the last change is refused: history is recorded in time order.
    """
    if at is None:
        return now if last is None else max(now, last)
    if last is not None and at < last:
        raise ValidationError("at", at.isoformat(), f"before the last change of {symbol} ({last.isoformat()}); "
                              "history is recorded in time order")
    return at
