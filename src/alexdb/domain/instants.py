"""Instant rules: every timestamp is timezone-aware UTC; a date means the end of that UTC day."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from alexdb.domain.errors import ValidationError

END_OF_DAY = clock_time(23, 59, 59, 999999)


def now_ms() -> int:
    """The current instant in epoch milliseconds (the speed layer's clock)."""
    return time.time_ns() // 1_000_000


def utcnow() -> datetime:
    """The current instant, aware UTC."""
    return datetime.now(UTC)


def next_stamp(previous: datetime) -> datetime:
    """Now, or one microsecond after previous when the clock has not moved past it.

    updated_at doubles as a record's version (an update replaces the record only if updated_at is still
    the one it read), so each update must move it strictly forward, even within one clock tick.
    """
    return max(utcnow(), previous + timedelta(microseconds=1))


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def epoch_micros(instant: datetime) -> int:
    """An aware instant as microseconds since the epoch (exact: no float)."""
    return (instant - EPOCH) // MICROSECOND


def from_epoch_micros(micros: int) -> datetime:
    """The aware UTC instant of microseconds since the epoch."""
    return EPOCH + micros * MICROSECOND


FIRST_INSTANT = datetime(1, 1, 1, tzinfo=UTC)


def to_instant(value: Any, field: str = "at") -> datetime:
    """Normalise a datetime, date or ISO-8601 string to an aware UTC datetime.

    Naive datetimes are taken as UTC; a bare date means the last microsecond of that UTC day,
    so "value on 2024-03-01" includes everything that happened on that day.
    """
    if isinstance(value, str):
        if len(value) > 64:
            raise ValidationError(field, value, "longer than any ISO-8601 date or datetime")
        try:
            parsed: datetime | date = (
                date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
            )
        except ValueError as exc:
            raise ValidationError(field, value, "not an ISO-8601 date or datetime") from exc
        return to_instant(parsed, field)
    if isinstance(value, datetime):
        try:
            instant = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError as exc:  # 9999-12-31T23:00-05:00 is past the last representable UTC instant
            raise ValidationError(field, value.isoformat(), "is outside the representable years 1-9999 in UTC") from exc
        if instant == FIRST_INSTANT:
            # A midnight closes the day before it, and year 1 has none before it.
            raise ValidationError(field, value.isoformat(), "is midnight of 0001-01-01, which closes no day")
        return instant
    if isinstance(value, date):
        return datetime.combine(value, END_OF_DAY, tzinfo=UTC)
    raise ValidationError(field, value, "expected a datetime, date or ISO-8601 string")


def instant_text(value: datetime) -> str:
    """Canonical fixed-width ISO-8601 UTC text ("2024-01-02T21:00:00.000000Z"): text order is time order.

    Every backend stores or renders instants in this form (SQLite columns, DynamoDB sort keys), so a
    sweep or a key range can order them without building datetimes.
    """
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def optional_instant(value: datetime | date | str | None, field: str = "at") -> datetime | None:
    """Like to_instant, passing None through."""
    return None if value is None else to_instant(value, field)
