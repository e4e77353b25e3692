"""Jobs on DynamoDB: USER#<id> / JOB#<created>#<uuid>, a JOB#<uuid> / POINTER for lookup by id,
GSI1 (JOB#<status>, USER#<id>#<created>) per user and status, GSI2 (JOBS#<status>, <created>#<uuid>) the queue."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from alexdb.adapters.dynamodb import keys
from alexdb.adapters.dynamodb.accounts import user_exists
from alexdb.adapters.dynamodb.client import ConditionFailedError, Dynamo, TransactionCanceledError
from alexdb.adapters.dynamodb.codec import dump, load
from alexdb.adapters.dynamodb.paging import query_page
from alexdb.domain.errors import NotFoundError
from alexdb.domain.ids import new_id
from alexdb.domain.instants import instant_text, utcnow
from alexdb.domain.jobs import AgentPayloads, check_job_type, check_status, transition
from alexdb.domain.models import Job, NewJob
from alexdb.domain.paging import Page
from alexdb.domain.payloads import check_payload
from alexdb.domain.validate import build, parse_id

POINTER = "POINTER"
QUEUE_PAGE = 25


def _job(item: dict[str, Any]) -> Job:
    return load(Job, item)


def _index_keys(clerk_user_id: str, status: str, created: str, job_id: str) -> dict[str, str]:
    return {"GSI1PK": f"JOB#{status}", "GSI1SK": f"USER#{clerk_user_id}#{created}",
            "GSI2PK": f"JOBS#{status}", "GSI2SK": f"{created}#{job_id}"}


class DynamoJobs(AgentPayloads):
    """db.jobs on DynamoDB."""

    def __init__(self, dynamo: Dynamo, table: str) -> None:
        self._dynamo, self._table = dynamo, table

    def create_job(self, clerk_user_id: str, job_type: str, request_payload: dict[str, Any] | None = None) -> Job:
        """Queue a pending job for an existing user (one transaction: user check, job, pointer)."""
        if request_payload is not None:
            request_payload = check_payload("request_payload", request_payload)
        new = build(NewJob, {"clerk_user_id": clerk_user_id, "job_type": job_type, "request_payload": request_payload})
        now = utcnow()
        job = Job(**new.model_dump(), id=new_id(), status="pending", created_at=now, updated_at=now)
        created = instant_text(now)
        sk = keys.job_sk(created, job.id)
        item = dump(job, PK=keys.user_pk(clerk_user_id), SK=sk,
                    **_index_keys(clerk_user_id, "pending", created, str(job.id)))
        try:
            self._dynamo.transact([
                user_exists(self._table, clerk_user_id),
                {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}},
                {"Put": {"TableName": self._table, "ConditionExpression": "attribute_not_exists(PK)", "Item": {
                    "PK": keys.job_pointer_pk(job.id), "SK": POINTER, "user_pk": item["PK"], "job_sk": sk}}},
            ])
        except TransactionCanceledError as exc:
            raise NotFoundError("user", clerk_user_id) from exc
        return job

    def _key(self, job_id: uuid.UUID | str) -> dict[str, str] | None:
        try:
            key = parse_id("job", job_id)
        except NotFoundError:
            return None
        pointer = self._dynamo.get(self._table, {"PK": keys.job_pointer_pk(key), "SK": POINTER})
        return None if pointer is None else {"PK": pointer["user_pk"], "SK": pointer["job_sk"]}

    def find_by_id(self, job_id: uuid.UUID | str) -> Job | None:
        """The job with this id, or None (two GetItems: the pointer, then the job)."""
        key = self._key(job_id)
        item = None if key is None else self._dynamo.get(self._table, key)
        return None if item is None else _job(item)

    def get_job(self, job_id: uuid.UUID | str) -> Job:
        """The job with this id; NotFoundError if there is none."""
        job = self.find_by_id(job_id)
        if job is None:
            raise NotFoundError("job", job_id)
        return job

    def _move(self, key: dict[str, str], job: Job, status: str, error: str | None) -> Job | None:
        values = transition(job.id, job.status, status, error, utcnow())
        values.update(_index_keys(job.clerk_user_id, status, instant_text(job.created_at), str(job.id)))
        names = {f"#{name}": name for name in values}
        expression = "SET " + ", ".join(f"#{name} = :{name}" for name in values)
        bound = {f":{name}": instant_text(v) if isinstance(v, datetime) else v for name, v in values.items()}
        try:
            # Conditional on the status read: of two racing writers only one moves the job.
            item = self._dynamo.update(self._table, key, expression, {**names, "#cur": "status"},
                                       {**bound, ":current": job.status}, condition="#cur = :current")
        except ConditionFailedError:
            return None
        return _job(item)

    def update_status(self, job_id: uuid.UUID | str, status: str, error_message: str | None = None) -> Job:
        """Move a job along pending -> running -> completed | failed, stamping started/completed_at."""
        check_status(status)
        key = self._key(job_id)
        while True:
            item = None if key is None else self._dynamo.get(self._table, key)
            if key is None or item is None:
                raise NotFoundError("job", job_id)
            moved = self._move(key, _job(item), status, error_message)
            if moved is not None:
                return moved

    def _set_payload(self, job_id: uuid.UUID | str, field: str, payload: dict[str, Any]) -> Job:
        payload = check_payload(field, payload)
        key = self._key(job_id)
        if key is None:
            raise NotFoundError("job", job_id)
        try:
            item = self._dynamo.update(self._table, key, "SET #f = :p, #u = :u", {"#f": field, "#u": "updated_at"},
                                       {":p": payload, ":u": instant_text(utcnow())}, condition="attribute_exists(PK)")
        except ConditionFailedError as exc:
            raise NotFoundError("job", job_id) from exc
        return _job(item)

    def find_by_user(self, clerk_user_id: str, status: str | None = None, limit: int | None = None,
                     cursor: str | None = None) -> Page[Job]:
        """A user's jobs, newest first: the user's JOB# range, or GSI1 for one status."""
        if status is None:
            return query_page(self._dynamo, self._table, _job, limit, cursor, ScanIndexForward=False,
                              KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
                              ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
                              ExpressionAttributeValues={":pk": keys.user_pk(clerk_user_id), ":prefix": "JOB#"})
        return query_page(self._dynamo, self._table, _job, limit, cursor, IndexName="GSI1", ScanIndexForward=False,
                          KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
                          ExpressionAttributeNames={"#pk": "GSI1PK", "#sk": "GSI1SK"},
                          ExpressionAttributeValues={":pk": f"JOB#{check_status(status)}",
                                                     ":prefix": f"USER#{clerk_user_id}#"})

    def find_by_status(self, status: str, limit: int | None = None, cursor: str | None = None) -> Page[Job]:
        """Jobs of one status, oldest first: one Query of the GSI2 queue per page."""
        return query_page(self._dynamo, self._table, _job, limit, cursor, IndexName="GSI2",
                          KeyConditionExpression="#pk = :pk", ExpressionAttributeNames={"#pk": "GSI2PK"},
                          ExpressionAttributeValues={":pk": f"JOBS#{check_status(status)}"})

    def claim_next(self, job_type: str | None = None) -> Job | None:
        """Move the oldest pending job (of job_type) to running; the conditional update makes it atomic.

        The queue index is eventually consistent, so a listed job may already be taken: the condition
        refuses it and the next candidate is tried.
        """
        if job_type is not None:
            check_job_type(job_type)
        start = None
        while True:
            items, start = self._dynamo.query_page(
                self._table, QUEUE_PAGE, start, IndexName="GSI2", KeyConditionExpression="#pk = :pk",
                ExpressionAttributeNames={"#pk": "GSI2PK"}, ExpressionAttributeValues={":pk": "JOBS#pending"})
            for item in items:
                if job_type is not None and item["job_type"] != job_type:
                    continue  # matched in code: a FilterExpression with Limit could skip candidates
                job = _job(item)
                moved = self._move({"PK": item["PK"], "SK": item["SK"]}, job, "running", None)
                if moved is not None:
                    return moved
            if start is None:
                return None
