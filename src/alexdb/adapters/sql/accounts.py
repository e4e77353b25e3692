"""Investment accounts on SQL: the primitives behind db.accounts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from alexdb.adapters.sql.engine import UnitOfWork
from alexdb.adapters.sql.ledger import write_movement
from alexdb.adapters.sql.paging import keyset_rows
from alexdb.adapters.sql.schema import accounts, users
from alexdb.domain.ledger import PlannedCash
from alexdb.domain.models import Account
from alexdb.domain.paging import Bookmark


def _account(row: Row[Any]) -> Account:
    return Account.model_validate(dict(row._mapping))


def user_exists(conn: Connection, clerk_user_id: str) -> bool:
    """Whether the user exists (inside the caller's transaction)."""
    found = conn.execute(select(users.c.clerk_user_id).where(users.c.clerk_user_id == clerk_user_id)).first()
    return found is not None


class SqlAccounts:
    """AccountRecords on SQLite and PostgreSQL."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def get_account(self, account_id: uuid.UUID) -> Account | None:
        """The account, or None."""
        with self._uow.begin() as conn:
            row = conn.execute(select(accounts).where(accounts.c.id == account_id)).first()
        return None if row is None else _account(row)

    def insert_account(self, account: Account, opening: PlannedCash | None) -> bool:
        """Insert for an existing user, with its opening movement; False when there is no such user."""
        with self._uow.begin(write=True) as conn:
            if not user_exists(conn, account.clerk_user_id):
                return False
            conn.execute(insert(accounts).values(**account.model_dump()))
            if opening is not None:
                write_movement(conn, account.id, opening)
        return True

    def replace_account(self, account: Account, expected: datetime) -> bool:
        """Update only the row whose updated_at is still expected."""
        with self._uow.begin(write=True) as conn:
            return bool(conn.execute(
                update(accounts).where(accounts.c.id == account.id, accounts.c.updated_at == expected)
                .values(**account.model_dump(exclude={"id", "clerk_user_id", "created_at", "cash_balance"}))).rowcount)

    def delete_account(self, account_id: uuid.UUID) -> bool:
        """Delete the account; foreign keys cascade to positions and their history."""
        with self._uow.begin(write=True) as conn:
            return bool(conn.execute(delete(accounts).where(accounts.c.id == account_id)).rowcount)

    def account_page(
        self, clerk_user_id: str, after: Bookmark | None, size: int
    ) -> tuple[list[Account], Bookmark | None]:
        """A user's accounts by creation after a position."""
        statement = select(accounts).where(accounts.c.clerk_user_id == clerk_user_id)
        with self._uow.begin() as conn:
            return keyset_rows(conn, statement, [accounts.c.created_at, accounts.c.id], size, after, _account)
