"""The one exception tree every alexdb backend raises."""

from __future__ import annotations

from typing import Any


class AlexdbError(Exception):
    """Base of every error alexdb raises on purpose."""


MAX_SHOWN = 200  # characters of an offending value quoted in a message


def shown(value: Any) -> str:
    """A short, always printable picture of a value for an error message (never itself an error).

    The repr of an int of 10**5000 raises (Python refuses to print over 4,300 digits), and a 10 MB string
    would make a 10 MB message: both are summarised instead.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 10_000:
        return f"<an integer of {value.bit_length():,} bits>"
    if isinstance(value, str | bytes) and len(value) > MAX_SHOWN:  # repr of the whole would copy it all
        return f"{value[:MAX_SHOWN]!r}... ({len(value):,} characters)"
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        return f"<a {type(value).__name__} too large to print>"
    return text if len(text) <= MAX_SHOWN else f"{text[:MAX_SHOWN]}... ({len(text):,} characters)"


class ValidationError(AlexdbError, ValueError):
    """Input that breaks a rule; names the field and the offending value."""

    def __init__(self, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}={shown(value)}: {reason}")


class NotFoundError(AlexdbError, LookupError):
    """A record that was asked for by key does not exist."""

    def __init__(self, entity: str, key: Any) -> None:
        self.entity = entity
        self.key = key
        super().__init__(f"{entity} {key!r} not found")


class ConflictError(AlexdbError):
    """A write that contradicts existing state (duplicate key, stale version, oversell)."""


class InvalidTransitionError(ConflictError):
    """A job status change that the job lifecycle does not allow."""

    def __init__(self, job_id: Any, current: str, requested: str) -> None:
        self.job_id = job_id
        self.current = current
        self.requested = requested
        super().__init__(f"job {job_id}: cannot move from {current!r} to {requested!r}")


class InsufficientQuantityError(ConflictError, ValidationError):
    """A sale or transfer out of more than the account holds."""

    def __init__(self, symbol: str, held: Any, requested: Any) -> None:
        ValidationError.__init__(
            self, "quantity", requested, f"exceeds the {held} {symbol} held"
        )


class SchemaError(AlexdbError):
    """The database schema is missing or at a version this package does not know."""


class BackendError(AlexdbError):
    """The storage engine failed in a way the caller cannot fix by changing input."""


class AuthenticationError(AlexdbError):
    """The caller could not be identified: no credentials, or credentials that do not verify."""


class PermissionDeniedError(AlexdbError):
    """The caller is known but may not do this (another user's data, say)."""


class UnsupportedError(AlexdbError):
    """A call alexdb refuses on this backend or through this surface; names the call to use instead."""

    def __init__(self, call: str, reason: str, instead: str) -> None:
        self.call = call
        self.reason = reason
        self.instead = instead
        super().__init__(f"{call}: {reason}; use {instead}")
