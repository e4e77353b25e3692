"""Users on DynamoDB: USER#<id> / METADATA, listed through the Directory index (16 shards)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alexdb.adapters.dynamodb import keys
from alexdb.adapters.dynamodb.accounts import DynamoAccounts
from alexdb.adapters.dynamodb.client import Dynamo
from alexdb.adapters.dynamodb.codec import dump, load
from alexdb.adapters.dynamodb.paging import sharded_rows
from alexdb.domain.instants import instant_text, utcnow
from alexdb.domain.models import User
from alexdb.domain.paging import Bookmark

JOBS_PER_TRANSACTION = 50  # a job and its pointer go together: 100 actions, DynamoDB's transaction limit


class DynamoUsers:
    """UserRecords on DynamoDB.

    A user is deleted in steps that DynamoDB cannot make one transaction for any size. The first step
    marks the user item (and takes it out of the directory), so from then on the user, its accounts and
    its jobs all read as gone and take no writes; the items are then deleted, the user item last, so a
    delete cut short is finished by deleting again.
    """

    def __init__(self, dynamo: Dynamo, table: str, accounts: DynamoAccounts) -> None:
        self._dynamo, self._table, self._accounts = dynamo, table, accounts

    def _key(self, clerk_user_id: str) -> dict[str, str]:
        return {"PK": keys.user_pk(clerk_user_id), "SK": keys.META}

    def _item(self, user: User) -> dict[str, Any]:
        return dump(user, **self._key(user.clerk_user_id), **keys.directory_keys(user.clerk_user_id))

    def get_user(self, clerk_user_id: str) -> User | None:
        """The live user, or None."""
        item = self._dynamo.get(self._table, self._key(clerk_user_id))
        return None if item is None or keys.DELETING in item else load(User, item)

    def insert_user(self, user: User) -> bool:
        """Put unless the id is taken (by a live user or one being deleted)."""
        return self._dynamo.put_if(self._table, self._item(user), "attribute_not_exists(PK)")

    def replace_user(self, user: User, expected: datetime) -> bool:
        """Put only over the live user whose updated_at is still expected."""
        return self._dynamo.put_if(self._table, self._item(user), f"{keys.LIVE} AND #u = :expected",
                                   {"#u": "updated_at"}, {":expected": instant_text(expected)})

    def delete_user(self, clerk_user_id: str) -> bool:
        """Mark, then delete accounts, jobs and the user item (resumable: a marked user is finished)."""
        marked = self._dynamo.update_if(self._table, self._key(clerk_user_id), "SET #d = :now REMOVE DIRPK, DIRSK",
                                        {"#d": keys.DELETING}, {":now": instant_text(utcnow())}, "attribute_exists(PK)")
        if marked is None:
            return False
        partition = list(self._dynamo.query(
            self._table, KeyConditionExpression="#pk = :pk", ExpressionAttributeNames={"#pk": "PK"},
            ExpressionAttributeValues={":pk": keys.user_pk(clerk_user_id)}))
        for item in partition:
            if item["SK"].startswith("ACCOUNT#"):
                self._accounts.delete_account(item["id"], listing=item)
        jobs = [item for item in partition if item["SK"].startswith("JOB#")]
        for offset in range(0, len(jobs), JOBS_PER_TRANSACTION):
            # A job and its pointer go in one transaction, so no pointer is ever left without its job.
            self._dynamo.transact([
                {"Delete": {"TableName": self._table, "Key": key}}
                for job in jobs[offset:offset + JOBS_PER_TRANSACTION]
                for key in ({"PK": job["PK"], "SK": job["SK"]}, {"PK": keys.job_pointer_pk(job["id"]), "SK": "POINTER"})
            ])
        self._dynamo.batch_write(self._table, deletes=[self._key(clerk_user_id)])
        return True

    def user_page(self, after: Bookmark | None, size: int) -> tuple[list[User], Bookmark | None]:
        """Users by Clerk id: the directory's 16 shards queried at once and merged (a user being deleted
        has left it)."""
        return sharded_rows(self._dynamo, self._table, lambda item: load(User, item), size, after, "Directory",
                            keys.directory_shards())
