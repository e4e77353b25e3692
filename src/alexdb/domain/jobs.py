"""The job lifecycle: pending -> running -> completed | failed, with the instants it stamps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alexdb.domain.errors import InvalidTransitionError, ValidationError
from alexdb.domain.vocabulary import JOB_STATUSES, JOB_TRANSITIONS, JOB_TYPES


def check_status(status: Any) -> str:
    """A known job status."""
    if status not in JOB_STATUSES:
        raise ValidationError("status", status, f"must be one of {', '.join(JOB_STATUSES)}")
    return str(status)


def check_job_type(job_type: Any) -> str:
    """A known job type."""
    if job_type not in JOB_TYPES:
        raise ValidationError("job_type", job_type, f"must be one of {', '.join(JOB_TYPES)}")
    return str(job_type)


def transition(job_id: Any, current: str, status: str, error: str | None, now: datetime,
               attempts: int = 0) -> dict[str, Any]:
    """The fields a move from current (after attempts starts) to status sets; InvalidTransitionError if the
    lifecycle forbids it. A start counts an attempt and clears the completion of a failed one."""
    if status not in JOB_TRANSITIONS[current]:
        raise InvalidTransitionError(str(job_id), current, status)
    values: dict[str, Any] = {"status": status, "updated_at": now}
    if status == "running":
        values.update(started_at=now, completed_at=None, attempts=attempts + 1)
    if status in ("completed", "failed"):
        values["completed_at"] = now
    if error is not None:
        values["error_message"] = error
    return values
