"""Accounts on DynamoDB: USER#<id> / ACCOUNT#<uuid> (listing) and ACCOUNT#<uuid> / METADATA (lookup by id)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from alexdb.adapters.dynamodb import keys
from alexdb.adapters.dynamodb.client import Dynamo, TransactionCanceledError
from alexdb.adapters.dynamodb.codec import dump, load
from alexdb.adapters.dynamodb.paging import query_page
from alexdb.domain.errors import NotFoundError
from alexdb.domain.instants import utcnow
from alexdb.domain.models import Account, NewAccount, new_account
from alexdb.domain.paging import Page
from alexdb.domain.validate import build, check_fields, parse_id

UPDATABLE = {"account_name", "account_purpose", "cash_balance", "cash_interest", "account_type"}


def user_exists(table: str, clerk_user_id: str) -> dict[str, Any]:
    """A transaction action that holds only while the user exists."""
    return {"ConditionCheck": {"TableName": table, "Key": {"PK": keys.user_pk(clerk_user_id), "SK": keys.META},
                               "ConditionExpression": "attribute_exists(PK)"}}


class DynamoAccounts:
    """db.accounts on DynamoDB."""

    def __init__(self, dynamo: Dynamo, table: str) -> None:
        self._dynamo, self._table = dynamo, table

    def _copies(self, account: Account, condition: str) -> list[dict[str, Any]]:
        # The same record twice: under the user (for listing) and under the account (for lookup by id).
        return [
            {"Put": {"TableName": self._table, "ConditionExpression": condition,
                     "Item": dump(account, PK=keys.user_pk(account.clerk_user_id), SK=keys.account_sk(account.id))}},
            {"Put": {"TableName": self._table, "ConditionExpression": condition,
                     "Item": dump(account, PK=keys.account_pk(account.id), SK=keys.META)}},
        ]

    def create_account(
        self, clerk_user_id: str, account_name: str, account_purpose: str | None = None,
        cash_balance: Any = Decimal(0), cash_interest: Any = Decimal(0), account_type: str | None = None,
    ) -> Account:
        """Open an account for an existing user (one transaction: user check and both copies)."""
        account = new_account({
            "clerk_user_id": clerk_user_id, "account_name": account_name, "account_purpose": account_purpose,
            "cash_balance": cash_balance, "cash_interest": cash_interest, "account_type": account_type,
        })
        try:
            self._dynamo.transact([user_exists(self._table, clerk_user_id),
                                   *self._copies(account, "attribute_not_exists(PK)")])
        except TransactionCanceledError as exc:
            raise NotFoundError("user", clerk_user_id) from exc
        return account

    def find_by_id(self, account_id: uuid.UUID | str) -> Account | None:
        """The account with this id, or None (one GetItem)."""
        try:
            key = parse_id("account", account_id)
        except NotFoundError:
            return None
        item = self._dynamo.get(self._table, {"PK": keys.account_pk(key), "SK": keys.META})
        return None if item is None else load(Account, item)

    def get_account(self, account_id: uuid.UUID | str) -> Account:
        """The account with this id; NotFoundError if there is none."""
        account = self.find_by_id(account_id)
        if account is None:
            raise NotFoundError("account", account_id)
        return account

    def find_by_user(self, clerk_user_id: str, limit: int | None = None, cursor: str | None = None) -> Page[Account]:
        """A user's accounts, oldest first (ids are time-ordered), one Query per page."""
        return query_page(self._dynamo, self._table, lambda item: load(Account, item), limit, cursor,
                          KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
                          ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
                          ExpressionAttributeValues={":pk": keys.user_pk(clerk_user_id), ":prefix": "ACCOUNT#"})

    def update_account(self, account_id: uuid.UUID | str, **fields: Any) -> Account:
        """Change some of an account's fields; both copies change in one transaction."""
        check_fields(NewAccount, fields, UPDATABLE)
        current = self.get_account(account_id)
        base = current.model_dump(exclude={"id", "created_at", "updated_at"})
        merged = build(NewAccount, {**base, **fields})
        updated = Account(**merged.model_dump(), id=current.id, created_at=current.created_at, updated_at=utcnow())
        try:
            self._dynamo.transact(self._copies(updated, "attribute_exists(PK)"))
        except TransactionCanceledError as exc:
            raise NotFoundError("account", account_id) from exc
        return updated

    def delete_account(self, account_id: uuid.UUID | str) -> None:
        """Delete an account with its positions and their history."""
        account = self.get_account(account_id)
        self.delete_everything(account)

    def delete_everything(self, account: Account) -> None:
        """Every item of the account's partition, then its listing under the user (batched, retried)."""
        partition = self._dynamo.query(
            self._table, KeyConditionExpression="#pk = :pk", ProjectionExpression="#pk, #sk",
            ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
            ExpressionAttributeValues={":pk": keys.account_pk(account.id)})
        children = [{"PK": item["PK"], "SK": item["SK"]} for item in partition if item["SK"] != keys.META]
        self._dynamo.batch_write(self._table, deletes=children)
        # The account's own items go last, so a delete cut short can be run again and finds the account.
        self._dynamo.batch_write(self._table, deletes=[
            {"PK": keys.user_pk(account.clerk_user_id), "SK": keys.account_sk(account.id)},
            {"PK": keys.account_pk(account.id), "SK": keys.META}])
