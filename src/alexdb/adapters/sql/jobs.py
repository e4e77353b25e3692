"""Analysis jobs on SQL: the primitives behind db.jobs."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select, update

from alexdb.adapters.sql.accounts import user_exists
from alexdb.adapters.sql.engine import UnitOfWork
from alexdb.adapters.sql.paging import keyset_rows
from alexdb.adapters.sql.schema import jobs
from alexdb.domain.models import Job
from alexdb.domain.paging import Bookmark
from alexdb.ports import Rows


def _job(row: Row[Any]) -> Job:
    return Job.model_validate(dict(row._mapping))


class SqlJobs:
    """JobRecords on SQLite and PostgreSQL."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def insert_job(self, job: Job) -> bool:
        """Insert for an existing user; False when there is no such user."""
        with self._uow.begin(write=True) as conn:
            if not user_exists(conn, job.clerk_user_id):
                return False
            conn.execute(insert(jobs).values(**job.model_dump()))
        return True

    def get_job(self, job_id: uuid.UUID) -> Job | None:
        """The job, or None."""
        with self._uow.begin() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
        return None if row is None else _job(row)

    def move_job(self, job: Job, values: Mapping[str, Any]) -> Job | None:
        """Update only while the status and attempts are still the ones read."""
        with self._uow.begin(write=True) as conn:
            moved = conn.execute(update(jobs).where(jobs.c.id == job.id, jobs.c.status == job.status,
                                                    jobs.c.attempts == job.attempts).values(**values))
            if not moved.rowcount:
                return None
            return _job(conn.execute(select(jobs).where(jobs.c.id == job.id)).one())

    def set_payload(self, job_id: uuid.UUID, field: str, payload: Any, now: datetime) -> Job | None:
        """Set one payload column and updated_at."""
        with self._uow.begin(write=True) as conn:
            if not conn.execute(update(jobs).where(jobs.c.id == job_id).values({field: payload, "updated_at": now})
                                ).rowcount:
                return None
            return _job(conn.execute(select(jobs).where(jobs.c.id == job_id)).one())

    def delete_job(self, job_id: uuid.UUID) -> bool:
        """Delete the row."""
        with self._uow.begin(write=True) as conn:
            return bool(conn.execute(delete(jobs).where(jobs.c.id == job_id)).rowcount)

    def job_page(self, clerk_user_id: str, status: str | None, after: Bookmark | None, size: int) -> Rows:
        """A user's jobs, newest first."""
        statement = select(jobs).where(jobs.c.clerk_user_id == clerk_user_id)
        if status is not None:
            statement = statement.where(jobs.c.status == status)
        with self._uow.begin() as conn:
            return keyset_rows(conn, statement, [jobs.c.created_at, jobs.c.id], size, after, _job, descending=True)

    def queue_page(self, status: str, after: Bookmark | None, size: int) -> Rows:
        """Jobs of one status, oldest first."""
        statement = select(jobs).where(jobs.c.status == status)
        with self._uow.begin() as conn:
            return keyset_rows(conn, statement, [jobs.c.created_at, jobs.c.id], size, after, _job)
