"""Users on DynamoDB: USER#<id> / METADATA, listed through the GSI2 user directory."""

from __future__ import annotations

from typing import Any

from alexdb.adapters.dynamodb import keys
from alexdb.adapters.dynamodb.client import ConditionFailedError, Dynamo
from alexdb.adapters.dynamodb.codec import dump, load
from alexdb.adapters.dynamodb.paging import query_page
from alexdb.domain.errors import ConflictError, NotFoundError
from alexdb.domain.instants import utcnow
from alexdb.domain.models import NewUser, User
from alexdb.domain.paging import Page
from alexdb.domain.validate import build, check_fields

UPDATABLE = {"display_name", "years_until_retirement", "target_retirement_income",
             "asset_class_targets", "region_targets"}


class DynamoUsers:
    """db.users on DynamoDB."""

    def __init__(self, dynamo: Dynamo, table: str, owned: Any) -> None:
        self._dynamo, self._table, self._owned = dynamo, table, owned

    def _item(self, user: User) -> dict[str, Any]:
        return dump(user, PK=keys.user_pk(user.clerk_user_id), SK=keys.META,
                    GSI2PK=keys.USER_DIRECTORY, GSI2SK=user.clerk_user_id)

    def create_user(self, clerk_user_id: str, display_name: str | None = None, **fields: Any) -> User:
        """Create a user; ConflictError if the Clerk id is taken."""
        check_fields(NewUser, fields, UPDATABLE)
        given = {k: v for k, v in fields.items() if v is not None}
        new = build(NewUser, {"clerk_user_id": clerk_user_id, "display_name": display_name, **given})
        now = utcnow()
        user = User(**new.model_dump(), created_at=now, updated_at=now)
        try:
            # Conditional: creating must never overwrite an existing user.
            self._dynamo.put(self._table, self._item(user), condition="attribute_not_exists(PK)")
        except ConditionFailedError as exc:
            raise ConflictError(f"user {clerk_user_id!r} already exists") from exc
        return user

    def find_by_clerk_id(self, clerk_user_id: str) -> User | None:
        """The user with this Clerk id, or None."""
        if not isinstance(clerk_user_id, str) or "#" in clerk_user_id:
            return None
        item = self._dynamo.get(self._table, {"PK": keys.user_pk(clerk_user_id), "SK": keys.META})
        return None if item is None else load(User, item)

    def get_user(self, clerk_user_id: str) -> User:
        """The user with this Clerk id; NotFoundError if there is none."""
        user = self.find_by_clerk_id(clerk_user_id)
        if user is None:
            raise NotFoundError("user", clerk_user_id)
        return user

    def update_user(self, clerk_user_id: str, **fields: Any) -> User:
        """Change some of a user's fields; the result is validated as a whole."""
        check_fields(NewUser, fields, UPDATABLE)
        current = self.get_user(clerk_user_id)
        merged = build(NewUser, {**current.model_dump(exclude={"created_at", "updated_at"}), **fields})
        updated = User(**merged.model_dump(), created_at=current.created_at, updated_at=utcnow())
        try:
            # Conditional: an update never resurrects a user deleted meanwhile.
            self._dynamo.put(self._table, self._item(updated), condition="attribute_exists(PK)")
        except ConditionFailedError as exc:
            raise NotFoundError("user", clerk_user_id) from exc
        return updated

    def delete_user(self, clerk_user_id: str) -> None:
        """Delete a user and everything the user owns: accounts with positions and history, jobs."""
        self.get_user(clerk_user_id)
        self._owned(clerk_user_id)

    def find_all(self, limit: int | None = None, cursor: str | None = None) -> Page[User]:
        """All users by Clerk id, one page at a time (one Query of the GSI2 directory)."""
        return query_page(self._dynamo, self._table, lambda item: load(User, item), limit, cursor,
                          IndexName="GSI2", KeyConditionExpression="#pk = :pk",
                          ExpressionAttributeNames={"#pk": "GSI2PK"},
                          ExpressionAttributeValues={":pk": keys.USER_DIRECTORY})
