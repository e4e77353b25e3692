"""Investment accounts on SQL."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from alexdb.adapters.sql.engine import UnitOfWork
from alexdb.adapters.sql.paging import keyset_page
from alexdb.adapters.sql.schema import accounts, users
from alexdb.domain.errors import NotFoundError
from alexdb.domain.instants import utcnow
from alexdb.domain.models import Account, NewAccount, new_account
from alexdb.domain.paging import Page
from alexdb.domain.validate import build, check_fields, parse_id

UPDATABLE = {"account_name", "account_purpose", "cash_balance", "cash_interest", "account_type"}


def _account(row: Row[Any]) -> Account:
    return Account.model_validate(dict(row._mapping))


def require_user(conn: Connection, clerk_user_id: str) -> None:
    """NotFoundError unless the user exists (inside the caller's transaction)."""
    found = conn.execute(select(users.c.clerk_user_id).where(users.c.clerk_user_id == clerk_user_id)).first()
    if found is None:
        raise NotFoundError("user", clerk_user_id)


class SqlAccounts:
    """db.accounts on SQLite and PostgreSQL."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def create_account(
        self, clerk_user_id: str, account_name: str, account_purpose: str | None = None,
        cash_balance: Any = Decimal(0), cash_interest: Any = Decimal(0), account_type: str | None = None,
    ) -> Account:
        """Open an account for an existing user."""
        account = new_account({
            "clerk_user_id": clerk_user_id, "account_name": account_name, "account_purpose": account_purpose,
            "cash_balance": cash_balance, "cash_interest": cash_interest, "account_type": account_type,
        })
        with self._uow.begin(write=True) as conn:
            require_user(conn, clerk_user_id)
            conn.execute(insert(accounts).values(**account.model_dump()))
        return account

    def find_by_id(self, account_id: uuid.UUID | str) -> Account | None:
        """The account with this id, or None."""
        try:
            key = parse_id("account", account_id)
        except NotFoundError:
            return None
        with self._uow.begin() as conn:
            row = conn.execute(select(accounts).where(accounts.c.id == key)).first()
        return None if row is None else _account(row)

    def get_account(self, account_id: uuid.UUID | str) -> Account:
        """The account with this id; NotFoundError if there is none."""
        account = self.find_by_id(account_id)
        if account is None:
            raise NotFoundError("account", account_id)
        return account

    def find_by_user(self, clerk_user_id: str, limit: int | None = None, cursor: str | None = None) -> Page[Account]:
        """A user's accounts, oldest first, one page at a time."""
        statement = select(accounts).where(accounts.c.clerk_user_id == clerk_user_id)
        with self._uow.begin() as conn:
            return keyset_page(conn, statement, [accounts.c.created_at, accounts.c.id], limit, cursor, _account)

    def update_account(self, account_id: uuid.UUID | str, **fields: Any) -> Account:
        """Change some of an account's fields; the result is validated as a whole."""
        check_fields(NewAccount, fields, UPDATABLE)
        key = parse_id("account", account_id)
        with self._uow.begin(write=True) as conn:
            row = conn.execute(select(accounts).where(accounts.c.id == key)).first()
            if row is None:
                raise NotFoundError("account", account_id)
            current = _account(row)
            base = current.model_dump(exclude={"id", "created_at", "updated_at"})
            merged = build(NewAccount, {**base, **fields})
            updated = Account(**merged.model_dump(), id=key, created_at=current.created_at, updated_at=utcnow())
            conn.execute(update(accounts).where(accounts.c.id == key).values(
                **updated.model_dump(exclude={"id", "clerk_user_id", "created_at"})))
        return updated

    def delete_account(self, account_id: uuid.UUID | str) -> None:
        """Delete an account with its positions and their history."""
        key = parse_id("account", account_id)
        with self._uow.begin(write=True) as conn:
            if not conn.execute(delete(accounts).where(accounts.c.id == key)).rowcount:
                raise NotFoundError("account", account_id)
