"""The original package's users, instruments and accounts tables, over alexdb's services."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from alexdb.compat.tables import Table, counted, window
from alexdb.compat.values import exact, price_or_none, record, record_or_none
from alexdb.domain.errors import UnsupportedError
from alexdb.domain.models import PricePoint


def _price(point: PricePoint) -> dict[str, Any]:
    # The DynamoDB port's history items: symbol, price and the instant as ISO text.
    return {**record(point), "timestamp": point.at.replace(tzinfo=None).isoformat()}


class Users(Table):
    """The users table: keyed by Clerk user id."""

    table_name = "users"
    key = "clerk_user_id"

    def find_by_id(self, id: Any) -> dict[str, Any] | None:
        """The user with this Clerk id, or None."""
        return self.find_by_clerk_id(id)

    def find_by_clerk_id(self, clerk_user_id: str) -> dict[str, Any] | None:
        """The user with this Clerk id, or None."""
        return record_or_none(self._store.users.find_by_clerk_id(clerk_user_id))

    def create_user(self, clerk_user_id: str, display_name: str | None = None,
                    years_until_retirement: int | None = None, target_retirement_income: Any = None,
                    asset_class_targets: Mapping[str, Any] | None = None,
                    region_targets: Mapping[str, Any] | None = None) -> str:
        """Create a user (None fields take their defaults); the Clerk id."""
        fields = {"display_name": display_name, "years_until_retirement": years_until_retirement,
                  "target_retirement_income": target_retirement_income,
                  "asset_class_targets": asset_class_targets, "region_targets": region_targets}
        given = {name: value for name, value in fields.items() if value is not None}
        return str(self._insert({"clerk_user_id": clerk_user_id, **exact(given, "users")})["clerk_user_id"])

    def _all(self) -> Iterable[dict[str, Any]]:
        return (record(user) for user in self._store.users.find_all())

    def _insert(self, fields: dict[str, Any]) -> dict[str, Any]:
        clerk_user_id = fields.pop("clerk_user_id", None)
        given = {name: value for name, value in fields.items() if value is not None}
        return record(self._store.users.create_user(clerk_user_id, **given))

    def _update(self, key: Any, fields: dict[str, Any]) -> int:
        return counted(self._store.users.update_user, key, **fields)

    def _delete(self, key: Any) -> int:
        return counted(self._store.users.delete_user, key)


class Instruments(Table):
    """The instruments table: keyed by symbol; a price of 0 means none yet; prices keep their history."""

    table_name = "instruments"
    key = "symbol"

    def find_by_id(self, id: Any) -> dict[str, Any] | None:
        """The instrument with this symbol, or None."""
        return self.find_by_symbol(id)

    def find_by_symbol(self, symbol: str) -> dict[str, Any] | None:
        """The instrument with this symbol (any case), or None."""
        return record_or_none(self._store.instruments.find_by_symbol(symbol))

    def find_all(self, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
        """Every instrument by symbol (the original lists all of them for autocomplete)."""
        return window(self._all(), limit, offset)

    def find_by_type(self, instrument_type: str) -> list[dict[str, Any]]:
        """Instruments of one type, by symbol."""
        return [record(i) for i in self._store.instruments.find_by_type(instrument_type)]

    def search(self, query: str) -> list[dict[str, Any]]:
        """Up to 20 instruments whose symbol or name contains query (any case), by symbol."""
        return window((record(i) for i in self._store.instruments.search(query)), 20, 0)

    def create_instrument(self, instrument: Any) -> str:
        """Create an instrument from an InstrumentCreate (or a dict); its symbol."""
        return str(self._insert(self._fields(instrument))["symbol"])

    def update_price(self, symbol: str, new_price: Any, volume: int | None = None) -> None:
        """Record the current price (the DynamoDB port's call; volume is not kept). 0 records nothing."""
        price = price_or_none(new_price)
        if price is not None:
            self._store.instruments.record_price(symbol, price)

    def get_price_history(self, symbol: str, start_date: Any = None, end_date: Any = None) -> list[dict[str, Any]]:
        """The recorded prices between two instants, oldest first."""
        return [_price(point) for point in self._store.instruments.get_price_history(symbol, start_date, end_date)]

    def get_price_at_date(self, symbol: str, target_date: Any) -> dict[str, Any] | None:
        """The last price recorded at or before an instant, or None."""
        point = self._store.instruments.get_price_at(symbol, target_date)
        return None if point is None else _price(point)

    def batch_get_by_symbols(self, symbols: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The instruments of these symbols that exist, by symbol."""
        found = (self._store.instruments.find_by_symbol(symbol) for symbol in dict.fromkeys(symbols))
        return {i.symbol: record(i) for i in found if i is not None}

    def delete_under(self, column: str, value: Any) -> int:
        """Refused: instruments are reference data every holding and price point names."""
        raise UnsupportedError("deleting instruments", "positions and price history refer to them",
                               "db.instruments.update_instrument to correct one")

    def _all(self) -> Iterable[dict[str, Any]]:
        return (record(i) for i in self._store.instruments.find_all())

    def _insert(self, fields: dict[str, Any]) -> dict[str, Any]:
        fields["current_price"] = price_or_none(fields.get("current_price"))
        return record(self._store.instruments.create_instrument(fields))

    def _update(self, key: Any, fields: dict[str, Any]) -> int:
        if self._store.instruments.find_by_symbol(key) is None:
            return 0
        price = price_or_none(fields.pop("current_price", None))
        if fields:
            self._store.instruments.update_instrument(key, **fields)
        if price is not None:
            self._store.instruments.record_price(key, price)
        return 1

    def _delete(self, key: Any) -> int:
        return self.delete_under("symbol", key)


class Accounts(Table):
    """The accounts table: cash_balance is the ledger's balance; setting it records an adjustment."""

    table_name = "accounts"
    parents = ("clerk_user_id",)

    def find_by_id(self, id: Any) -> dict[str, Any] | None:
        """The account with this id, or None."""
        return record_or_none(self._store.accounts.find_by_id(id))

    def find_by_user(self, clerk_user_id: str) -> list[dict[str, Any]]:
        """A user's accounts, newest first (none for an unknown user)."""
        accounts = [record(a) for a in self._store.accounts.find_by_user(clerk_user_id)]
        return accounts[::-1]

    def create_account(self, clerk_user_id: str, account_name: str, account_purpose: str | None = None,
                       cash_balance: Any = Decimal(0), cash_interest: Any = Decimal(0)) -> str:
        """Open an account (its cash the opening deposit); its id."""
        return str(self._insert(exact({"clerk_user_id": clerk_user_id, "account_name": account_name,
                                       "account_purpose": account_purpose, "cash_balance": cash_balance,
                                       "cash_interest": cash_interest}, "accounts"))["id"])

    def delete_under(self, column: str, value: Any) -> int:
        """Delete every account of a user (with its positions, history and cash)."""
        return sum(self._delete(account["id"]) for account in self.find_by_user(value))

    def _all(self) -> Iterable[dict[str, Any]]:
        for user in self._store.users.find_all():
            yield from (record(a) for a in self._store.accounts.find_by_user(user.clerk_user_id))

    def _insert(self, fields: dict[str, Any]) -> dict[str, Any]:
        clerk_user_id, name = fields.pop("clerk_user_id", None), fields.pop("account_name", None)
        given = {field: value for field, value in fields.items() if value is not None}
        return record(self._store.accounts.create_account(clerk_user_id, name, **given))

    def _update(self, key: Any, fields: dict[str, Any]) -> int:
        return counted(self._store.accounts.update_account, key, **fields)

    def _delete(self, key: Any) -> int:
        return counted(self._store.accounts.delete_account, key)
