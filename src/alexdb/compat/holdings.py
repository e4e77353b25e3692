"""The original package's positions table over alexdb's position service: every change is a history record
and the current holding in one transaction, so the compat calls keep time travel exact.

A position's id is its account and symbol ("<account id>:<symbol>"): alexdb keys a holding by both, so the
id needs no lookup table on any backend and names the same holding for as long as it is held.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from alexdb.compat.tables import Table
from alexdb.compat.values import cell, record
from alexdb.domain.errors import NotFoundError, ValidationError
from alexdb.domain.instants import to_instant, utcnow
from alexdb.domain.models import Position, PositionChange

SEPARATOR = ":"


def position_id(account_id: Any, symbol: str) -> str:
    """The id the original callers see for an account's holding of a symbol."""
    return f"{account_id}{SEPARATOR}{symbol}"


def _parts(position: Any) -> tuple[str, str] | None:
    account, separator, symbol = str(position).partition(SEPARATOR)
    return (account, symbol) if separator and symbol else None


def _naive(instant: datetime) -> str:
    return instant.replace(tzinfo=None).isoformat()


def _holding(position: Position) -> dict[str, Any]:
    return {"id": position_id(position.account_id, position.symbol), **record(position),
            "as_of_date": position.updated_at.date().isoformat(), "timestamp": _naive(position.updated_at)}


def _change(change: PositionChange) -> dict[str, Any]:
    # quantity is what the change left held, as the DynamoDB port's history items carry it.
    return {**record(change), "quantity": cell(change.quantity_after),
            "timestamp": _naive(change.at), "as_of_date": change.at.date().isoformat()}


def _instant(value: Any, field: str) -> datetime:
    return utcnow() if value is None else to_instant(value, field)


class Positions(Table):
    """The positions table: one row per account and symbol held."""

    table_name = "positions"
    parents = ("account_id",)

    def find_by_id(self, id: Any) -> dict[str, Any] | None:
        """The holding with this id, or None (also once it was sold or deleted)."""
        parts = _parts(id)
        if parts is None:
            return None
        account, symbol = parts
        return next((p for p in self.find_by_account(account) if p["symbol"] == symbol.upper()), None)

    def find_by_account(self, account_id: str) -> list[dict[str, Any]]:
        """An account's holdings by symbol, with instrument_name, instrument_type and current_price (none for
        an unknown account, as the original's query found none)."""
        try:
            return [_holding(p) for p in self._store.positions.find_by_account(account_id)]
        except NotFoundError:
            return []

    def get_portfolio_value(self, account_id: str) -> dict[str, Any]:
        """num_positions, total_value and total_shares (floats, as the original returned) at current prices."""
        held = [] if self._store.accounts.find_by_id(account_id) is None else \
            self._store.positions.find_by_account(account_id)
        value = sum((p.value for p in held if p.value is not None), Decimal(0))
        shares = sum((p.quantity for p in held), Decimal(0))
        return {"num_positions": len(held), "total_value": float(value), "total_shares": float(shares)}

    def add_position(self, account_id: str, symbol: str, quantity: Any) -> str:
        """Set the holding of symbol to quantity (recorded in its history); its id."""
        return str(self._insert({"account_id": account_id, "symbol": symbol, "quantity": quantity})["id"])

    def add_or_update_position(self, account_id: str, symbol: str, quantity: Any, action: str = "UPDATE") -> None:
        """Set the holding of symbol to quantity, recorded as action (the DynamoDB port's call)."""
        self._store.positions.add_or_update_position(account_id, symbol, self._fields({"q": quantity})["q"], action)

    def get_positions_at_date(self, account_id: str, target_date: Any) -> list[dict[str, Any]]:
        """What was held at an instant: symbol, quantity, and the timestamp and action of its last change."""
        instant = _instant(target_date, "target_date")
        held = self._store.positions.get_positions_at(account_id, instant)
        last = {change.symbol: change for change in self._store.positions.get_position_history(account_id, end=instant)}
        return [{"symbol": symbol, "quantity": cell(quantity), "timestamp": _naive(last[symbol].at),
                 "action": last[symbol].action} for symbol, quantity in sorted(held.items())]

    def get_position_history(self, account_id: str, symbol: str, start_date: Any = None,
                             end_date: Any = None) -> list[dict[str, Any]]:
        """Every change of one holding between two instants, oldest first."""
        return [_change(c) for c in self._store.positions.get_position_history(account_id, symbol, start_date,
                                                                                 end_date)]

    def get_account_value_at_date(self, account_id: str, target_date: Any = None) -> dict[str, Any]:
        """What the holdings were worth at an instant at that instant's prices (floats, as the port returned)."""
        instant = _instant(target_date, "target_date")
        valuation = self._store.positions.get_account_value_at_date(account_id, instant)
        quantities = [h.quantity for h in valuation.holdings] + [h.quantity for h in valuation.unpriced]
        return {"total_value": float(valuation.holdings_value), "num_positions": len(quantities),
                "as_of_date": _naive(instant), "total_shares": float(sum(quantities, Decimal(0)))}

    def delete_under(self, column: str, value: Any) -> int:
        """Close every holding of an account (each a recorded change to 0)."""
        return sum(self._delete(position["id"]) for position in self.find_by_account(value))

    def _all(self) -> Iterable[dict[str, Any]]:
        for user in self._store.users.find_all():
            for account in self._store.accounts.find_by_user(user.clerk_user_id):
                yield from self.find_by_account(str(account.id))

    def _insert(self, fields: dict[str, Any]) -> dict[str, Any]:
        account, symbol = fields.pop("account_id", None), fields.pop("symbol", None)
        quantity = fields.pop("quantity", None)
        as_of = fields.pop("as_of_date", None)
        _no_other_columns(fields)
        # A snapshot dated before today is the holding as of the end of that day; today's is now.
        at = to_instant(as_of, "as_of_date") if isinstance(as_of, date | str) and _before_today(as_of) else None
        change = self._store.positions.add_or_update_position(account, symbol, quantity, "UPDATE", at)
        return {"id": position_id(change.account_id, change.symbol), **_change(change)}

    def _update(self, key: Any, fields: dict[str, Any]) -> int:
        parts = _parts(key)
        if parts is None or self.find_by_id(key) is None:
            return 0
        quantity = fields.pop("quantity", None)
        fields.pop("as_of_date", None)  # the change is dated by alexdb's clock
        _no_other_columns(fields)
        if quantity is not None:
            self._store.positions.add_or_update_position(parts[0], parts[1], quantity, "UPDATE")
        return 1

    def _delete(self, key: Any) -> int:
        parts = _parts(key)
        if parts is None or self.find_by_id(key) is None:
            return 0
        self._store.positions.add_or_update_position(parts[0], parts[1], 0, "UPDATE")
        return 1


def _before_today(value: date | str) -> bool:
    return to_instant(value, "as_of_date").date() < utcnow().date()


def _no_other_columns(fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        raise ValidationError(name, value, "a position's columns are account_id, symbol, quantity and as_of_date")
