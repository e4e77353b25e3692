"""db.accounts: every rule about investment accounts, over any backend's AccountRecords."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from alexdb.domain.errors import NotFoundError
from alexdb.domain.instants import next_stamp
from alexdb.domain.models import Account, NewAccount, new_account, user_key
from alexdb.domain.paging import Bookmark, Cursors, Results, scope
from alexdb.domain.validate import build, check_fields, parse_id
from alexdb.ports import AccountRecords
from alexdb.services.records import until_written

UPDATABLE = frozenset({"account_name", "account_purpose", "cash_balance", "cash_interest", "account_type"})


class AccountService:
    """The public account API; owns validation, the updatable fields and the lifecycle."""

    def __init__(self, records: AccountRecords, cursors: Cursors) -> None:
        self._records, self._cursors = records, cursors

    def create_account(
        self, clerk_user_id: str, account_name: str, account_purpose: str | None = None,
        cash_balance: Any = Decimal(0), cash_interest: Any = Decimal(0), account_type: str | None = None,
    ) -> Account:
        """Open an account for an existing user."""
        account = new_account({
            "clerk_user_id": clerk_user_id, "account_name": account_name, "account_purpose": account_purpose,
            "cash_balance": cash_balance, "cash_interest": cash_interest, "account_type": account_type,
        })
        if not self._records.insert_account(account):
            raise NotFoundError("user", clerk_user_id)
        return account

    def find_by_id(self, account_id: uuid.UUID | str) -> Account | None:
        """The account with this id, or None."""
        try:
            key = parse_id("account", account_id)
        except NotFoundError:
            return None
        return self._records.get_account(key)

    def get_account(self, account_id: uuid.UUID | str) -> Account:
        """The account with this id; NotFoundError if there is none."""
        account = self.find_by_id(account_id)
        if account is None:
            raise NotFoundError("account", account_id)
        return account

    def find_by_user(
        self, clerk_user_id: str, limit: int | None = None, cursor: str | None = None
    ) -> Results[Account]:
        """A user's accounts, oldest first (with limit: one page of them)."""
        clerk_user_id = user_key(clerk_user_id, "clerk_user_id")

        def read(after: Bookmark | None, size: int) -> tuple[list[Account], Bookmark | None]:
            return self._records.account_page(clerk_user_id, after, size)

        return Results(read, scope("accounts", clerk_user_id), self._cursors, limit, cursor)

    def update_account(self, account_id: uuid.UUID | str, /, **fields: Any) -> Account:
        """Change some of an account's fields; the result is validated as a whole.

        Concurrent updates of different fields all land (each is written only onto the state it read).
        """
        check_fields(NewAccount, fields, UPDATABLE)

        def attempt() -> Account | None:
            current = self.get_account(account_id)
            base = current.model_dump(exclude={"id", "created_at", "updated_at"})
            merged = build(NewAccount, {**base, **fields})
            updated = Account(**merged.model_dump(), id=current.id, created_at=current.created_at,
                              updated_at=next_stamp(current.updated_at))
            return updated if self._records.replace_account(updated, current.updated_at) else None

        return until_written(f"account {account_id}", attempt)

    def delete_account(self, account_id: uuid.UUID | str) -> None:
        """Delete an account with its positions and their history (never seen half-deleted; resumable)."""
        if not self._records.delete_account(parse_id("account", account_id)):
            raise NotFoundError("account", account_id)
