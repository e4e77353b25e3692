"""Jobs on DynamoDB: USER#<id> / JOB#<created>#<uuid>, a JOB#<uuid> / POINTER for lookup by id,
UserJobs (USER#<id>#<status>, <created>#<uuid>) per user and status, JobQueue (JOBS#<status>#<nn>,
<created>#<uuid>) the work queue in 16 shards. Both indexes copy a job without its result payloads."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from alexdb.adapters.dynamodb import keys
from alexdb.adapters.dynamodb.accounts import user_live
from alexdb.adapters.dynamodb.client import Dynamo
from alexdb.adapters.dynamodb.codec import dump, load
from alexdb.adapters.dynamodb.paging import query_rows, sharded_rows
from alexdb.domain.instants import instant_text
from alexdb.domain.models import Job
from alexdb.domain.paging import Bookmark
from alexdb.ports import Rows

POINTER = "POINTER"


def _job(item: dict[str, Any]) -> Job:
    if "attempts" not in item:
        # The indexes do not copy attempts (changing a projection rebuilds the index): a copy of a job
        # started more than once is flagged to be read whole, so any other copy was started at most once.
        item = {**item, "attempts": 0 if item.get("status") == "pending" else 1}
    return load(Job, item)


RESULTS = ("report_payload", "charts_payload", "retirement_payload", "summary_payload")


def index_keys(clerk_user_id: str, status: str, created: str, job_id: str) -> dict[str, str]:
    """The job's keys in UserJobs and JobQueue (they move with its status)."""
    return {"UJPK": f"{keys.user_pk(clerk_user_id)}#{status}", "UJSK": f"{created}#{job_id}",
            "QPK": keys.queue_pk(status, job_id), "QSK": f"{created}#{job_id}"}


class DynamoJobs:
    """JobRecords on DynamoDB. A job of a user being deleted reads as gone (its pointer read with the user)."""

    def __init__(self, dynamo: Dynamo, table: str) -> None:
        self._dynamo, self._table = dynamo, table

    def insert_job(self, job: Job) -> bool:
        """One transaction: the user check, the job and its pointer."""
        created = instant_text(job.created_at)
        sk = keys.job_sk(created, job.id)
        item = dump(job, PK=keys.user_pk(job.clerk_user_id), SK=sk, has_results=any(getattr(job, f) for f in RESULTS),
                    **index_keys(job.clerk_user_id, job.status, created, str(job.id)))
        return self._dynamo.transact_if([
            user_live(self._table, job.clerk_user_id),
            {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Put": {"TableName": self._table, "ConditionExpression": "attribute_not_exists(PK)", "Item": {
                "PK": keys.job_pointer_pk(job.id), "SK": POINTER, "user_pk": item["PK"], "job_sk": sk}}},
        ])

    def _key(self, job_id: uuid.UUID) -> dict[str, str] | None:
        pointer = self._dynamo.get(self._table, {"PK": keys.job_pointer_pk(job_id), "SK": POINTER})
        return None if pointer is None else {"PK": pointer["user_pk"], "SK": pointer["job_sk"]}

    def get_job(self, job_id: uuid.UUID) -> Job | None:
        """Two requests: the pointer, then the job and its user together (one BatchGetItem)."""
        key = self._key(job_id)
        if key is None:
            return None
        found = {item["SK"]: item for item in self._dynamo.batch_get(
            self._table, [key, {"PK": key["PK"], "SK": keys.META}])}
        user, item = found.get(keys.META), found.get(key["SK"])
        if item is None or user is None or keys.DELETING in user:
            return None
        return _job(item)

    def move_job(self, job: Job, values: Mapping[str, Any]) -> Job | None:
        """A conditional UpdateItem on the status read; the index keys move with the status."""
        key = {"PK": keys.user_pk(job.clerk_user_id), "SK": keys.job_sk(instant_text(job.created_at), job.id)}
        changes = {**values, **index_keys(job.clerk_user_id, values["status"], instant_text(job.created_at),
                                          str(job.id))}
        if changes.get("attempts", 0) > 1:
            changes["has_results"] = True  # the index copies lack the count: list this job from the table
        names = {f"#{name}": name for name in changes}
        cleared = [name for name, value in changes.items() if value is None]  # a restarted job's completed_at
        kept = {name: value for name, value in changes.items() if value is not None}
        expression = "SET " + ", ".join(f"#{name} = :{name}" for name in kept)
        if cleared:
            expression += " REMOVE " + ", ".join(f"#{name}" for name in cleared)
        bound = {f":{name}": instant_text(v) if isinstance(v, datetime) else v for name, v in kept.items()}
        item = self._dynamo.update_if(
            self._table, key, expression, {**names, "#cur": "status", "#seen": "attempts"},
            {**bound, ":current": job.status, ":seen": job.attempts},
            # A job stored before attempts were counted has none: its first count is judged by status alone.
            "#cur = :current AND (#seen = :seen OR attribute_not_exists(#seen))")
        return None if item is None else _job(item)

    def set_payload(self, job_id: uuid.UUID, field: str, payload: Any, now: datetime) -> Job | None:
        """A conditional UpdateItem of one payload attribute."""
        key = self._key(job_id)
        if key is None:
            return None
        item = self._dynamo.update_if(self._table, key, "SET #f = :p, #u = :u, #r = :r",
                                      {"#f": field, "#u": "updated_at", "#r": "has_results"},
                                      {":p": payload, ":u": instant_text(now), ":r": True}, "attribute_exists(PK)")
        return None if item is None else _job(item)

    def delete_job(self, job_id: uuid.UUID) -> bool:
        """One transaction: the job and its pointer, each only if still there."""
        key = self._key(job_id)
        if key is None:
            return False
        return self._dynamo.transact_if([
            {"Delete": {"TableName": self._table, "Key": key, "ConditionExpression": "attribute_exists(PK)"}},
            {"Delete": {"TableName": self._table, "Key": {"PK": keys.job_pointer_pk(job_id), "SK": POINTER},
                        "ConditionExpression": "attribute_exists(PK)"}},
        ])

    def job_page(self, clerk_user_id: str, status: str | None, after: Bookmark | None, size: int) -> Rows:
        """A user's jobs, newest first: the user's JOB# range, or UserJobs for one status."""
        if status is None:
            return query_rows(self._dynamo, self._table, _job, size, after, ScanIndexForward=False,
                              KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
                              ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
                              ExpressionAttributeValues={":pk": keys.user_pk(clerk_user_id), ":prefix": "JOB#"})
        items, position = query_rows(self._dynamo, self._table, lambda item: item, size, after, IndexName="UserJobs",
                                     ScanIndexForward=False, KeyConditionExpression="#pk = :pk",
                                     ExpressionAttributeNames={"#pk": "UJPK"},
                                     ExpressionAttributeValues={":pk": f"{keys.user_pk(clerk_user_id)}#{status}"})
        return self._whole(items), position

    def queue_page(self, status: str, after: Bookmark | None, size: int) -> Rows:
        """Jobs of one status, oldest first: the JobQueue's 16 shards merged (eventually consistent)."""
        items, position = sharded_rows(self._dynamo, self._table, lambda item: item, size, after, "JobQueue",
                                       keys.queue_shards(status))
        return self._whole(items), position

    def _whole(self, copies: list[dict[str, Any]]) -> list[Job]:
        """Index copies as jobs: those with result payloads are read whole from the table (one BatchGetItem)."""
        wanted = [{"PK": item["PK"], "SK": item["SK"]} for item in copies if item.get("has_results")]
        whole = {(item["PK"], item["SK"]): item for item in self._dynamo.batch_get(self._table, wanted)} \
            if wanted else {}
        return [_job(whole.get((item["PK"], item["SK"]), item)) for item in copies]
