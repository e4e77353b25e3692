"""db.accounts: every rule about investment accounts, over any backend's AccountRecords."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from alexdb.domain.errors import NotFoundError
from alexdb.domain.instants import next_stamp, utcnow
from alexdb.domain.models import Account, NewAccount, Record, new_account, user_key
from alexdb.domain.numbers import Money
from alexdb.domain.paging import Bookmark, Cursors, Results, scope
from alexdb.domain.validate import build, check_fields, parse_id
from alexdb.ports import AccountRecords
from alexdb.services.cash import CashService, LedgerReader, opening_deposit
from alexdb.services.records import existing_account, until_written

UPDATABLE = frozenset({"account_name", "account_purpose", "cash_balance", "cash_interest", "account_type"})



class _CashTarget(Record):
    cash_balance: Money


class AccountService:
    """The public account API; owns validation, the updatable fields and the lifecycle."""

    def __init__(self, records: AccountRecords, ledger: LedgerReader, cash: CashService, cursors: Cursors) -> None:
        self._records, self._ledger, self._cash, self._cursors = records, ledger, cash, cursors

    def _with_cash(self, account: Account) -> Account:
        return account.model_copy(update={"cash_balance": self._ledger.cash_at(account.id, utcnow())})

    def create_account(
        self, clerk_user_id: str, account_name: str, account_purpose: str | None = None,
        cash_balance: Any = Decimal(0), cash_interest: Any = Decimal(0), account_type: str | None = None,
    ) -> Account:
        """Open an account for an existing user; cash_balance is recorded as its opening DEPOSIT."""
        account = new_account({
            "clerk_user_id": clerk_user_id, "account_name": account_name, "account_purpose": account_purpose,
            "cash_balance": cash_balance, "cash_interest": cash_interest, "account_type": account_type,
        })
        if not self._records.insert_account(account, opening_deposit(account.cash_balance, account.created_at)):
            raise NotFoundError("user", clerk_user_id)
        return account

    def find_by_id(self, account_id: uuid.UUID | str) -> Account | None:
        """The account with this id (its cash_balance the ledger's now), or None."""
        try:
            return self._with_cash(self.account_record(account_id))
        except NotFoundError:
            return None

    def get_account(self, account_id: uuid.UUID | str) -> Account:
        """The account with this id; NotFoundError if there is none."""
        account = self.find_by_id(account_id)
        if account is None:
            raise NotFoundError("account", account_id)
        return account

    def account_record(self, account_id: uuid.UUID | str) -> Account:
        """The account as stored, without reading its cash (for services that only need it to exist)."""
        return existing_account(self._records, account_id)

    def find_by_user(
        self, clerk_user_id: str, limit: int | None = None, cursor: str | None = None
    ) -> Results[Account]:
        """A user's accounts, oldest first (with limit: one page of them)."""
        clerk_user_id = user_key(clerk_user_id, "clerk_user_id")

        def read(after: Bookmark | None, size: int) -> tuple[list[Account], Bookmark | None]:
            accounts, position = self._records.account_page(clerk_user_id, after, size)
            return [self._with_cash(account) for account in accounts], position

        return Results(read, scope("accounts", clerk_user_id), self._cursors, limit, cursor)

    def update_account(self, account_id: uuid.UUID | str, /, **fields: Any) -> Account:
        """Change some of an account's fields; the result is validated as a whole.

        A new cash_balance is recorded as the ADJUSTMENT of the difference (the ledger owns cash).
        Concurrent updates of different fields all land (each is written only onto the state it read).
        """
        check_fields(NewAccount, fields, UPDATABLE)
        described = {name: value for name, value in fields.items() if name != "cash_balance"}
        target = None
        if "cash_balance" in fields:
            target = build(_CashTarget, {"cash_balance": fields["cash_balance"]}).cash_balance

        def attempt() -> Account | None:
            current = self.account_record(account_id)
            base = current.model_dump(exclude={"id", "created_at", "updated_at", "cash_balance"})
            merged = build(NewAccount, {**base, **described})
            updated = Account(**merged.model_dump(exclude={"cash_balance"}), id=current.id,
                              created_at=current.created_at, updated_at=next_stamp(current.updated_at))
            return updated if self._records.replace_account(updated, current.updated_at) else None

        if described or target is None:
            until_written(f"account {account_id}", attempt)
        if target is not None:
            self._cash.set_balance(account_id, target, note="cash_balance set by update_account")
        return self.get_account(account_id)

    def delete_account(self, account_id: uuid.UUID | str) -> None:
        """Delete an account with its positions and their history (never seen half-deleted; resumable)."""
        if not self._records.delete_account(parse_id("account", account_id)):
            raise NotFoundError("account", account_id)
