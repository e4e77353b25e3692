"""Users on SQL: the primitives behind db.users."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select, update

from alexdb.adapters.sql.engine import UnitOfWork
from alexdb.adapters.sql.paging import keyset_rows
from alexdb.adapters.sql.schema import users
from alexdb.domain.errors import ConflictError
from alexdb.domain.models import User
from alexdb.domain.paging import Bookmark


def _user(row: Row[Any]) -> User:
    return User.model_validate(dict(row._mapping))


class SqlUsers:
    """UserRecords on SQLite and PostgreSQL (deleting a user cascades to what it owns, in one transaction)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def get_user(self, clerk_user_id: str) -> User | None:
        """The user, or None."""
        with self._uow.begin() as conn:
            row = conn.execute(select(users).where(users.c.clerk_user_id == clerk_user_id)).first()
        return None if row is None else _user(row)

    def insert_user(self, user: User) -> bool:
        """Insert; False when the id is taken."""
        try:
            with self._uow.begin(write=True) as conn:
                conn.execute(insert(users).values(**user.model_dump()))
        except ConflictError:
            return False
        return True

    def replace_user(self, user: User, expected: datetime) -> bool:
        """Update only the row whose updated_at is still expected."""
        with self._uow.begin(write=True) as conn:
            return bool(conn.execute(
                update(users).where(users.c.clerk_user_id == user.clerk_user_id, users.c.updated_at == expected)
                .values(**user.model_dump(exclude={"clerk_user_id", "created_at"}))).rowcount)

    def delete_user(self, clerk_user_id: str) -> bool:
        """Delete the user; foreign keys cascade to accounts, positions, history and jobs."""
        with self._uow.begin(write=True) as conn:
            return bool(conn.execute(delete(users).where(users.c.clerk_user_id == clerk_user_id)).rowcount)

    def user_page(self, after: Bookmark | None, size: int) -> tuple[list[User], Bookmark | None]:
        """Users by Clerk id after a position."""
        with self._uow.begin() as conn:
            return keyset_rows(conn, select(users), [users.c.clerk_user_id], size, after, _user)
