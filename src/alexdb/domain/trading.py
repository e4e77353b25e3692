"""Trade arithmetic: how one change moves a held quantity. Pure; backends call it inside their atomic write."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

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
    """The (delta, quantity after) of a trade on a holding; refuses selling more than is held."""
    if action in INCREASING:
        return quantity, held + quantity
    if action in DECREASING:
        if quantity > held:
            raise InsufficientQuantityError(symbol, held, quantity)
        return -quantity, held - quantity
    raise ValidationError("action", action, "UPDATE sets a quantity: use add_or_update_position")
