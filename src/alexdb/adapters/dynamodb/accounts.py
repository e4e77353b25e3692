"""Accounts on DynamoDB: USER#<id> / ACCOUNT#<uuid> (listing) and ACCOUNT#<uuid> / METADATA (lookup by id)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from alexdb.adapters.dynamodb import keys
from alexdb.adapters.dynamodb.client import Dynamo
from alexdb.adapters.dynamodb.codec import dump, load
from alexdb.adapters.dynamodb.ledger import movement_actions
from alexdb.adapters.dynamodb.paging import query_rows
from alexdb.domain.instants import instant_text, utcnow
from alexdb.domain.ledger import PlannedCash
from alexdb.domain.models import Account
from alexdb.domain.paging import Bookmark


def user_live(table: str, clerk_user_id: str) -> dict[str, Any]:
    """A transaction action that holds only while the user exists and is not being deleted."""
    return keys.live_check(table, keys.user_pk(clerk_user_id), keys.META)


class DynamoAccounts:
    """AccountRecords on DynamoDB.

    An account is deleted in steps: one transaction marks both its copies, so from then on it reads as
    gone (from its user's list too) and takes no trades; its positions and history are then deleted, the
    copies last, so a delete cut short is finished by deleting again. An account whose user is being
    deleted reads as gone too (one more GetItem per lookup by id).
    """

    def __init__(self, dynamo: Dynamo, table: str) -> None:
        self._dynamo, self._table = dynamo, table

    def _copies(self, account: Account, condition: str, **bound: Any) -> list[dict[str, Any]]:
        # The same record twice: under the user (for listing) and under the account (for lookup by id).
        extra: dict[str, Any] = {}
        if bound:
            extra = {"ExpressionAttributeNames": {"#u": "updated_at"}, "ExpressionAttributeValues": bound}
        return [
            {"Put": {"TableName": self._table, "ConditionExpression": condition, **extra,
                     "Item": dump(account, PK=keys.user_pk(account.clerk_user_id), SK=keys.account_sk(account.id))}},
            {"Put": {"TableName": self._table, "ConditionExpression": condition, **extra,
                     "Item": dump(account, PK=keys.account_pk(account.id), SK=keys.META)}},
        ]

    def _user_live(self, clerk_user_id: str) -> bool:
        user = self._dynamo.get(self._table, {"PK": keys.user_pk(clerk_user_id), "SK": keys.META})
        return user is not None and keys.DELETING not in user

    def get_account(self, account_id: uuid.UUID) -> Account | None:
        """The live account of a live user, or None."""
        item = self._dynamo.get(self._table, {"PK": keys.account_pk(account_id), "SK": keys.META})
        if item is None or keys.DELETING in item or not self._user_live(item["clerk_user_id"]):
            return None
        return load(Account, item)

    def insert_account(self, account: Account, opening: PlannedCash | None) -> bool:
        """One transaction: the user check, both copies and the opening movement; False when the user is not live."""
        ledger = [] if opening is None else movement_actions(self._table, account.id, opening, 1)
        return self._dynamo.transact_if([user_live(self._table, account.clerk_user_id),
                                         *self._copies(account, "attribute_not_exists(PK)"), *ledger])

    def replace_account(self, account: Account, expected: datetime) -> bool:
        """Both copies in one transaction, only while live and still at updated_at expected."""
        return self._dynamo.transact_if(self._copies(account, f"{keys.LIVE} AND #u = :expected",
                                                     **{":expected": instant_text(expected)}))

    def account_page(
        self, clerk_user_id: str, after: Bookmark | None, size: int
    ) -> tuple[list[Account], Bookmark | None]:
        """A user's accounts, oldest first (ids are time-ordered); none while the user is being deleted."""
        if not self._user_live(clerk_user_id):
            return [], None
        items, position = query_rows(
            self._dynamo, self._table, lambda item: item, size, after,
            KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
            ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
            ExpressionAttributeValues={":pk": keys.user_pk(clerk_user_id), ":prefix": "ACCOUNT#"})
        # An account being deleted keeps its (marked) listing copy until the end: left out here, so a
        # page can be shorter than size while its position says more follow.
        return [load(Account, item) for item in items if keys.DELETING not in item], position

    def delete_account(self, account_id: uuid.UUID | str, listing: dict[str, Any] | None = None) -> bool:
        """Mark both copies (one transaction), delete positions and history, then both copies.

        The listing copy stays, marked, until the end: a user delete that runs later still finds an
        account whose own delete was cut short.
        """
        meta_key = {"PK": keys.account_pk(account_id), "SK": keys.META}
        meta = self._dynamo.get(self._table, meta_key)
        if meta is None:
            if listing is not None:  # only the listing copy was left: the last step was cut short
                self._dynamo.batch_write(self._table, deletes=[{"PK": listing["PK"], "SK": listing["SK"]}])
            return False
        listing_key = {"PK": keys.user_pk(meta["clerk_user_id"]), "SK": keys.account_sk(account_id)}
        if keys.DELETING not in meta:
            mark = {"UpdateExpression": "SET #d = :now", "ExpressionAttributeNames": {"#d": keys.DELETING},
                    "ExpressionAttributeValues": {":now": instant_text(utcnow())}}
            # A concurrent delete may have marked it meanwhile: this one finishes it all the same.
            self._dynamo.transact_if([
                {"Update": {"TableName": self._table, "Key": meta_key, "ConditionExpression": keys.LIVE, **mark}},
                {"Update": {"TableName": self._table, "Key": listing_key, **mark}},
            ])
        children = [{"PK": item["PK"], "SK": item["SK"]} for item in self._dynamo.query(
            self._table, KeyConditionExpression="#pk = :pk", ProjectionExpression="#pk, #sk",
            ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
            ExpressionAttributeValues={":pk": keys.account_pk(account_id)}) if item["SK"] != keys.META]
        self._dynamo.batch_write(self._table, deletes=children)
        self._dynamo.batch_write(self._table, deletes=[meta_key, listing_key])
        return True
