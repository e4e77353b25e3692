"""db.jobs: the analysis-job lifecycle and the agents' payloads, over any backend's JobRecords."""

from __future__ import annotations

import uuid
from typing import Any

from alexdb.domain.errors import NotFoundError, ValidationError
from alexdb.domain.ids import new_id
from alexdb.domain.instants import utcnow
from alexdb.domain.jobs import check_job_type, check_status, transition
from alexdb.domain.models import Job, NewJob, user_key
from alexdb.domain.paging import Bookmark, Cursors, Results, scope
from alexdb.domain.payloads import check_payload, check_text
from alexdb.domain.validate import build, parse_id
from alexdb.ports import JobRecords, Rows
from alexdb.services.records import until_written

QUEUE_PAGE = 25  # pending jobs read at a time while looking for one to claim
MAX_ERROR_MESSAGE = 10_000


class JobService:
    """The public job API; owns validation, the lifecycle (pending -> running -> completed | failed) and claiming."""

    def __init__(self, records: JobRecords, cursors: Cursors) -> None:
        self._records, self._cursors = records, cursors

    def create_job(self, clerk_user_id: str, job_type: str, request_payload: dict[str, Any] | None = None) -> Job:
        """Queue a pending job for an existing user."""
        if request_payload is not None:
            request_payload = check_payload("request_payload", request_payload)
        new = build(NewJob, {"clerk_user_id": clerk_user_id, "job_type": job_type, "request_payload": request_payload})
        now = utcnow()
        job = Job(**new.model_dump(), id=new_id(), status="pending", created_at=now, updated_at=now)
        if not self._records.insert_job(job):
            raise NotFoundError("user", clerk_user_id)
        return job

    def find_by_id(self, job_id: uuid.UUID | str) -> Job | None:
        """The job with this id, or None."""
        try:
            key = parse_id("job", job_id)
        except NotFoundError:
            return None
        return self._records.get_job(key)

    def get_job(self, job_id: uuid.UUID | str) -> Job:
        """The job with this id; NotFoundError if there is none."""
        job = self.find_by_id(job_id)
        if job is None:
            raise NotFoundError("job", job_id)
        return job

    def update_status(self, job_id: uuid.UUID | str, status: str, error_message: str | None = None) -> Job:
        """Move a job along pending -> running -> completed | failed, stamping started/completed_at.

        A failed or running job may be started again (a redelivered message; attempts counts the starts),
        and a pending one completed directly. The move is conditional on the status and attempts read: of
        two racing writers only one moves the job, and the other's move is judged again from the new state
        (InvalidTransitionError if it no longer fits).
        """
        check_status(status)
        if error_message is not None:
            if not isinstance(error_message, str) or len(error_message) > MAX_ERROR_MESSAGE:
                raise ValidationError("error_message", error_message,
                                      f"must be text of at most {MAX_ERROR_MESSAGE} characters")
            check_text("error_message", error_message)

        def attempt() -> Job | None:
            job = self.get_job(job_id)
            moves = transition(job.id, job.status, status, error_message, utcnow(), job.attempts)
            return self._records.move_job(job, moves)

        return until_written(f"job {job_id}", attempt)

    def delete_job(self, job_id: uuid.UUID | str) -> None:
        """Remove a job with its payloads; NotFoundError if there is none."""
        if not self._records.delete_job(parse_id("job", job_id)):
            raise NotFoundError("job", job_id)

    def claim_next(self, job_type: str | None = None) -> Job | None:
        """Move the oldest pending job (of job_type) to running, atomically; None when none is pending.

        Another worker may take a listed job first: its conditional move then fails and the next is tried.
        """
        if job_type is not None:
            check_job_type(job_type)
        for job in self.find_by_status("pending", page_size=QUEUE_PAGE):
            if job_type is not None and job.job_type != job_type:
                continue
            moved = self._records.move_job(job, transition(job.id, "pending", "running", None, utcnow(), 0))
            if moved is not None:
                return moved
        return None

    def _set_payload(self, job_id: uuid.UUID | str, field: str, payload: dict[str, Any]) -> Job:
        checked = check_payload(field, payload)
        job = self._records.set_payload(parse_id("job", job_id), field, checked, utcnow())
        if job is None:
            raise NotFoundError("job", job_id)
        return job

    def update_report(self, job_id: uuid.UUID | str, payload: dict[str, Any]) -> Job:
        """Store the reporter agent's result."""
        return self._set_payload(job_id, "report_payload", payload)

    def update_charts(self, job_id: uuid.UUID | str, payload: dict[str, Any]) -> Job:
        """Store the charter agent's result."""
        return self._set_payload(job_id, "charts_payload", payload)

    def update_retirement(self, job_id: uuid.UUID | str, payload: dict[str, Any]) -> Job:
        """Store the retirement agent's result."""
        return self._set_payload(job_id, "retirement_payload", payload)

    def update_summary(self, job_id: uuid.UUID | str, payload: dict[str, Any]) -> Job:
        """Store the planner's summary."""
        return self._set_payload(job_id, "summary_payload", payload)

    def find_by_user(self, clerk_user_id: str, status: str | None = None, limit: int | None = None,
                     cursor: str | None = None) -> Results[Job]:
        """A user's jobs, newest first, optionally of one status (with limit: one page)."""
        clerk_user_id = user_key(clerk_user_id, "clerk_user_id")
        wanted = None if status is None else check_status(status)

        def read(after: Bookmark | None, size: int) -> Rows:
            return self._records.job_page(clerk_user_id, wanted, after, size)

        return Results(read, scope("jobs", clerk_user_id, wanted), self._cursors, limit, cursor)

    def find_by_status(self, status: str, limit: int | None = None, cursor: str | None = None,
                       page_size: int | None = None) -> Results[Job]:
        """Jobs of one status, oldest first: the work queue (with limit: one page)."""
        wanted = check_status(status)

        def read(after: Bookmark | None, size: int) -> Rows:
            return self._records.queue_page(wanted, after, size)

        return Results(read, scope("queue", wanted), self._cursors, limit, cursor, page_size=page_size)
