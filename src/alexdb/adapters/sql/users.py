"""Users on SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, delete, insert, select, update

from alexdb.adapters.sql.engine import UnitOfWork
from alexdb.adapters.sql.paging import keyset_page
from alexdb.adapters.sql.schema import users
from alexdb.domain.errors import ConflictError, NotFoundError
from alexdb.domain.instants import utcnow
from alexdb.domain.models import NewUser, User
from alexdb.domain.paging import Page
from alexdb.domain.validate import build, check_fields

UPDATABLE = {"display_name", "years_until_retirement", "target_retirement_income",
             "asset_class_targets", "region_targets"}


def _user(row: Row[Any]) -> User:
    return User.model_validate(dict(row._mapping))


class SqlUsers:
    """db.users on SQLite and PostgreSQL."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def create_user(self, clerk_user_id: str, display_name: str | None = None, **fields: Any) -> User:
        """Create a user; ConflictError if the Clerk id is taken. None targets take the defaults."""
        check_fields(NewUser, fields, UPDATABLE)
        given = {k: v for k, v in fields.items() if v is not None}
        new = build(NewUser, {"clerk_user_id": clerk_user_id, "display_name": display_name, **given})
        now = utcnow()
        user = User(**new.model_dump(), created_at=now, updated_at=now)
        try:
            with self._uow.begin(write=True) as conn:
                conn.execute(insert(users).values(**user.model_dump()))
        except ConflictError as exc:
            raise ConflictError(f"user {clerk_user_id!r} already exists") from exc
        return user

    def find_by_clerk_id(self, clerk_user_id: str) -> User | None:
        """The user with this Clerk id, or None."""
        with self._uow.begin() as conn:
            row = conn.execute(select(users).where(users.c.clerk_user_id == clerk_user_id)).first()
        return None if row is None else _user(row)

    def get_user(self, clerk_user_id: str) -> User:
        """The user with this Clerk id; NotFoundError if there is none."""
        user = self.find_by_clerk_id(clerk_user_id)
        if user is None:
            raise NotFoundError("user", clerk_user_id)
        return user

    def update_user(self, clerk_user_id: str, **fields: Any) -> User:
        """Change some of a user's fields; the result is validated as a whole."""
        check_fields(NewUser, fields, UPDATABLE)
        with self._uow.begin(write=True) as conn:
            row = conn.execute(select(users).where(users.c.clerk_user_id == clerk_user_id)).first()
            if row is None:
                raise NotFoundError("user", clerk_user_id)
            current = _user(row)
            merged = build(NewUser, {**current.model_dump(exclude={"created_at", "updated_at"}), **fields})
            updated = User(**merged.model_dump(), created_at=current.created_at, updated_at=utcnow())
            conn.execute(
                update(users).where(users.c.clerk_user_id == clerk_user_id)
                .values(**updated.model_dump(exclude={"clerk_user_id", "created_at"}))
            )
        return updated

    def delete_user(self, clerk_user_id: str) -> None:
        """Delete a user and everything the user owns (accounts, positions, history, jobs)."""
        with self._uow.begin(write=True) as conn:
            deleted = conn.execute(delete(users).where(users.c.clerk_user_id == clerk_user_id)).rowcount
        if not deleted:
            raise NotFoundError("user", clerk_user_id)

    def find_all(self, limit: int | None = None, cursor: str | None = None) -> Page[User]:
        """All users by Clerk id, one page at a time."""
        with self._uow.begin() as conn:
            return keyset_page(conn, select(users), [users.c.clerk_user_id], limit, cursor, _user)

