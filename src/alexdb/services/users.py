"""db.users: every rule about users, over any backend's UserRecords."""

from __future__ import annotations

from typing import Any

from alexdb.domain.errors import ConflictError, NotFoundError
from alexdb.domain.instants import next_stamp, utcnow
from alexdb.domain.models import NewUser, User
from alexdb.domain.paging import Cursors, Results, scope
from alexdb.domain.validate import build, check_fields
from alexdb.ports import UserRecords
from alexdb.services.records import until_written

UPDATABLE = frozenset({"display_name", "years_until_retirement", "target_retirement_income",
                       "asset_class_targets", "region_targets"})


def _valid_id(clerk_user_id: Any) -> bool:
    # What no stored user can have is answered without a read ('#' delimits the DynamoDB keys).
    return isinstance(clerk_user_id, str) and 0 < len(clerk_user_id) <= 255 and "#" not in clerk_user_id


class UserService:
    """The public user API; owns validation, the updatable fields and the lifecycle."""

    def __init__(self, records: UserRecords, cursors: Cursors) -> None:
        self._records, self._cursors = records, cursors

    def create_user(self, clerk_user_id: str, /, display_name: str | None = None, **fields: Any) -> User:
        """Create a user; ConflictError if the Clerk id is taken. None targets take the defaults."""
        check_fields(NewUser, fields, UPDATABLE)
        given = {k: v for k, v in fields.items() if v is not None}
        new = build(NewUser, {"clerk_user_id": clerk_user_id, "display_name": display_name, **given})
        now = utcnow()
        user = User(**new.model_dump(), created_at=now, updated_at=now)
        if not self._records.insert_user(user):
            raise ConflictError(f"user {clerk_user_id!r} already exists")
        return user

    def find_by_clerk_id(self, clerk_user_id: str) -> User | None:
        """The user with this Clerk id, or None."""
        return self._records.get_user(clerk_user_id) if _valid_id(clerk_user_id) else None

    def get_user(self, clerk_user_id: str) -> User:
        """The user with this Clerk id; NotFoundError if there is none."""
        user = self.find_by_clerk_id(clerk_user_id)
        if user is None:
            raise NotFoundError("user", clerk_user_id)
        return user

    def update_user(self, clerk_user_id: str, /, **fields: Any) -> User:
        """Change some of a user's fields; the result is validated as a whole.

        Concurrent updates of different fields all land: each is applied to the state it read, and
        written only if that state is still the stored one.
        """
        check_fields(NewUser, fields, UPDATABLE)

        def attempt() -> User | None:
            current = self.get_user(clerk_user_id)
            merged = build(NewUser, {**current.model_dump(exclude={"created_at", "updated_at"}), **fields})
            updated = User(**merged.model_dump(), created_at=current.created_at,
                           updated_at=next_stamp(current.updated_at))
            return updated if self._records.replace_user(updated, current.updated_at) else None

        return until_written(f"user {clerk_user_id!r}", attempt)

    def delete_user(self, clerk_user_id: str) -> None:
        """Delete a user and everything the user owns (accounts, positions, history, jobs).

        Readers never see a half-deleted user; a delete that was cut short is finished by calling again.
        """
        if not _valid_id(clerk_user_id) or not self._records.delete_user(clerk_user_id):
            raise NotFoundError("user", clerk_user_id)

    def find_all(self, limit: int | None = None, cursor: str | None = None) -> Results[User]:
        """Every user by Clerk id (with limit: one page of them)."""
        return Results(self._records.user_page, scope("users"), self._cursors, limit, cursor)
