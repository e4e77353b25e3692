"""Opaque cursors and pages: every list is read in bounded pages."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from alexdb.domain.errors import ValidationError

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class Page(BaseModel, Generic[T]):
    """One page of results and the cursor of the next page (None on the last page)."""

    items: list[T]
    next_cursor: str | None = None

    def __iter__(self) -> Iterator[T]:  # type: ignore[override]
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> T:
        return self.items[index]


def check_limit(limit: int | None) -> int:
    """A page size between 1 and MAX_LIMIT (DEFAULT_LIMIT when None)."""
    if limit is None:
        return DEFAULT_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationError("limit", limit, f"must be an integer from 1 to {MAX_LIMIT}")
    return limit


def encode_cursor(position: dict[str, Any]) -> str:
    """Turn a backend's resume position into an opaque URL-safe token."""
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True, default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """Read back a token made by encode_cursor; anything else is a ValidationError."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as exc:
        raise ValidationError("cursor", cursor, "not a cursor returned by this API") from exc
    if not isinstance(value, dict):
        raise ValidationError("cursor", cursor, "not a cursor returned by this API")
    return value
