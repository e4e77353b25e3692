"""The original package's jobs table over alexdb's job service (the lifecycle and its attempts)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alexdb.compat.tables import Table, counted, window
from alexdb.compat.values import record, record_or_none
from alexdb.domain.errors import ValidationError
from alexdb.domain.vocabulary import JOB_STATUSES

PAYLOADS = ("report_payload", "charts_payload", "retirement_payload", "summary_payload")
STAMPED = ("started_at", "completed_at", "updated_at", "created_at")


class Jobs(Table):
    """The jobs table: status moves through the lifecycle, each agent writes its own payload."""

    table_name = "jobs"
    parents = ("clerk_user_id",)

    def find_by_id(self, id: Any) -> dict[str, Any] | None:
        """The job with this id, or None."""
        return record_or_none(self._store.jobs.find_by_id(id))

    def find_by_user(self, clerk_user_id: str, status: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """A user's jobs (of one status), newest first, at most limit."""
        return window((record(j) for j in self._store.jobs.find_by_user(clerk_user_id, status=status)),
                      limit, 0)

    def create_job(self, clerk_user_id: str, job_type: str, request_payload: dict[str, Any] | None = None) -> str:
        """A new pending job; its id."""
        return str(self._insert({"clerk_user_id": clerk_user_id, "job_type": job_type,
                                 "request_payload": self._fields({"p": request_payload})["p"]})["id"])

    def update_status(self, job_id: str, status: str, error_message: str | None = None) -> int:
        """Move the job to status (stamping started_at or completed_at); 1, or 0 when there is no such job."""
        return counted(self._store.jobs.update_status, job_id, status, error_message)

    def update_report(self, job_id: str, report_payload: dict[str, Any]) -> int:
        """Store the Reporter's analysis; 1, or 0 when there is no such job."""
        return self._update(job_id, {"report_payload": report_payload})

    def update_charts(self, job_id: str, charts_payload: dict[str, Any]) -> int:
        """Store the Charter's charts; 1, or 0 when there is no such job."""
        return self._update(job_id, {"charts_payload": charts_payload})

    def update_retirement(self, job_id: str, retirement_payload: dict[str, Any]) -> int:
        """Store the Retirement agent's projections; 1, or 0 when there is no such job."""
        return self._update(job_id, {"retirement_payload": retirement_payload})

    def update_summary(self, job_id: str, summary_payload: dict[str, Any]) -> int:
        """Store the Planner's summary; 1, or 0 when there is no such job."""
        return self._update(job_id, {"summary_payload": summary_payload})

    def delete_under(self, column: str, value: Any) -> int:
        """Delete every job of a user."""
        jobs = list(self._store.jobs.find_by_user(value))
        return sum(self._delete(job.id) for job in jobs)

    def _all(self) -> Iterable[dict[str, Any]]:
        for status in JOB_STATUSES:
            yield from (record(job) for job in self._store.jobs.find_by_status(status))

    def _insert(self, fields: dict[str, Any]) -> dict[str, Any]:
        status = fields.pop("status", "pending")
        if status != "pending":
            raise ValidationError("status", status, "a new job is pending (move it with update_status)")
        job = self._store.jobs.create_job(fields.pop("clerk_user_id", None), fields.pop("job_type", None),
                                          fields.pop("request_payload", None))
        for name, value in fields.items():
            raise ValidationError(name, value, "a new job takes clerk_user_id, job_type and request_payload")
        return record(job)

    def _update(self, key: Any, fields: dict[str, Any]) -> int:
        if self._store.jobs.find_by_id(key) is None:
            return 0
        for stamp in STAMPED:
            fields.pop(stamp, None)  # the lifecycle stamps them
        status, error = fields.pop("status", None), fields.pop("error_message", None)
        writers = {"report_payload": self._store.jobs.update_report, "charts_payload": self._store.jobs.update_charts,
                   "retirement_payload": self._store.jobs.update_retirement,
                   "summary_payload": self._store.jobs.update_summary}
        for name in fields:
            if name not in writers:
                raise ValidationError(name, fields[name], f"a job's writable columns are status, error_message, "
                                                          f"{', '.join(PAYLOADS)}")
        for name, payload in fields.items():
            writers[name](key, payload)
        if status is not None:
            self._store.jobs.update_status(key, status, error)
        return 1

    def _delete(self, key: Any) -> int:
        return counted(self._store.jobs.delete_job, key)
