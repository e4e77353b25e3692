"""Analysis jobs on SQL."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from alexdb.adapters.sql.accounts import require_user
from alexdb.adapters.sql.engine import UnitOfWork
from alexdb.adapters.sql.paging import keyset_page
from alexdb.adapters.sql.schema import jobs
from alexdb.domain.errors import NotFoundError
from alexdb.domain.ids import new_id
from alexdb.domain.instants import utcnow
from alexdb.domain.jobs import AgentPayloads, check_job_type, check_status, transition
from alexdb.domain.models import Job, NewJob
from alexdb.domain.paging import Page
from alexdb.domain.payloads import check_payload
from alexdb.domain.validate import build, parse_id


def _job(row: Row[Any]) -> Job:
    return Job.model_validate(dict(row._mapping))


class SqlJobs(AgentPayloads):
    """db.jobs on SQLite and PostgreSQL."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def create_job(self, clerk_user_id: str, job_type: str, request_payload: dict[str, Any] | None = None) -> Job:
        """Queue a pending job for an existing user."""
        if request_payload is not None:
            request_payload = check_payload("request_payload", request_payload)
        new = build(NewJob, {"clerk_user_id": clerk_user_id, "job_type": job_type, "request_payload": request_payload})
        now = utcnow()
        job = Job(**new.model_dump(), id=new_id(), status="pending", created_at=now, updated_at=now)
        with self._uow.begin(write=True) as conn:
            require_user(conn, clerk_user_id)
            conn.execute(insert(jobs).values(**job.model_dump()))
        return job

    def find_by_id(self, job_id: uuid.UUID | str) -> Job | None:
        """The job with this id, or None."""
        try:
            key = parse_id("job", job_id)
        except NotFoundError:
            return None
        with self._uow.begin() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == key)).first()
        return None if row is None else _job(row)

    def get_job(self, job_id: uuid.UUID | str) -> Job:
        """The job with this id; NotFoundError if there is none."""
        job = self.find_by_id(job_id)
        if job is None:
            raise NotFoundError("job", job_id)
        return job

    def update_status(self, job_id: uuid.UUID | str, status: str, error_message: str | None = None) -> Job:
        """Move a job along pending -> running -> completed | failed, stamping started/completed_at."""
        check_status(status)
        key = parse_id("job", job_id)
        with self._uow.begin(write=True) as conn:
            row = conn.execute(select(jobs.c.status).where(jobs.c.id == key).with_for_update()).first()
            if row is None:
                raise NotFoundError("job", job_id)
            self._transition(conn, key, row.status, status, error_message)
            return _job(conn.execute(select(jobs).where(jobs.c.id == key)).one())

    def _transition(self, conn: Connection, key: uuid.UUID, current: str, status: str, error: str | None) -> bool:
        values = transition(key, current, status, error, utcnow())
        # Conditional on the status we read: of two racing writers only one moves the job.
        moved = conn.execute(update(jobs).where(jobs.c.id == key, jobs.c.status == current).values(**values))
        return bool(moved.rowcount)

    def _set_payload(self, job_id: uuid.UUID | str, field: str, payload: dict[str, Any]) -> Job:
        payload = check_payload(field, payload)
        key = parse_id("job", job_id)
        with self._uow.begin(write=True) as conn:
            if not conn.execute(update(jobs).where(jobs.c.id == key).values(
                    {field: payload, "updated_at": utcnow()})).rowcount:
                raise NotFoundError("job", job_id)
            return _job(conn.execute(select(jobs).where(jobs.c.id == key)).one())

    def find_by_user(
        self, clerk_user_id: str, status: str | None = None, limit: int | None = None, cursor: str | None = None,
    ) -> Page[Job]:
        """A user's jobs, newest first, optionally of one status."""
        statement = select(jobs).where(jobs.c.clerk_user_id == clerk_user_id)
        if status is not None:
            statement = statement.where(jobs.c.status == check_status(status))
        with self._uow.begin() as conn:
            return keyset_page(conn, statement, [jobs.c.created_at, jobs.c.id], limit, cursor, _job, descending=True)

    def find_by_status(self, status: str, limit: int | None = None, cursor: str | None = None) -> Page[Job]:
        """Jobs of one status, oldest first (the work queue order)."""
        statement = select(jobs).where(jobs.c.status == check_status(status))
        with self._uow.begin() as conn:
            return keyset_page(conn, statement, [jobs.c.created_at, jobs.c.id], limit, cursor, _job)

    def claim_next(self, job_type: str | None = None) -> Job | None:
        """Atomically move the oldest pending job (of job_type) to running; None when none is pending."""
        if job_type is not None:
            check_job_type(job_type)
        statement = select(jobs.c.id).where(jobs.c.status == "pending")
        if job_type is not None:
            statement = statement.where(jobs.c.job_type == job_type)
        statement = statement.order_by(jobs.c.created_at, jobs.c.id).limit(1)
        if self._uow.dialect == "postgresql":
            # Other workers skip the row this one holds instead of queueing behind it.
            statement = statement.with_for_update(skip_locked=True)
        while True:
            with self._uow.begin(write=True) as conn:
                key = conn.execute(statement).scalar()
                if key is None:
                    return None
                if self._transition(conn, key, "pending", "running", None):
                    return _job(conn.execute(select(jobs).where(jobs.c.id == key)).one())
