"""Trade arithmetic: how one change moves a held quantity. Pure; backends call it inside their atomic write."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from alexdb.domain.errors import InsufficientQuantityError, ValidationError
from alexdb.domain.models import Record
from alexdb.domain.numbers import Holding, Quantity
from alexdb.domain.validate import build
from alexdb.domain.vocabulary import TRADE_ACTIONS

INCREASING = frozenset({"BUY", "TRANSFER_IN"})
DECREASING = frozenset({"SELL", "TRANSFER_OUT"})


class _TradeQuantity(Record):
    quantity: Quantity


class _HoldingQuantity(Record):
    quantity: Holding


def check_action(action: Any) -> str:
    """A known trade action, case-insensitive."""
    normalised = action.upper() if isinstance(action, str) else action
    if normalised not in TRADE_ACTIONS:
        raise ValidationError("action", action, f"must be one of {', '.join(TRADE_ACTIONS)}")
    return str(normalised)


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


Trade = tuple[str, str, Decimal, datetime, Decimal | None]
"""(symbol, action, quantity > 0, instant, price) of one validated trade."""

Held = Mapping[str, tuple[Decimal, datetime | None]]
"""What an account holds of each symbol and when that holding last changed (None: never held)."""


class Planned(NamedTuple):
    """One change a batch of trades makes: what a store writes to the history."""

    symbol: str
    action: str
    delta: Decimal
    after: Decimal
    at: datetime
    price: Decimal | None


Plan = Callable[[Held], list[Planned]]
"""Given the holdings read under the store's lock, the changes to write; raises to refuse the batch."""


def plan_trades(trades: Sequence[Trade], held: Held) -> list[Planned]:
    """The changes of trades applied in order: time order per symbol, no sale of more than is held."""
    quantity = {symbol: state[0] for symbol, state in held.items()}
    last = {symbol: state[1] for symbol, state in held.items()}
    planned = []
    for symbol, action, amount, at, price in trades:
        change_instant(symbol, at, last.get(symbol), at)
        delta, after = apply_trade(symbol, quantity.get(symbol, Decimal(0)), action, amount)
        quantity[symbol], last[symbol] = after, at
        planned.append(Planned(symbol, action, delta, after, at, price))
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
