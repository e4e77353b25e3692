"""Lists that never look complete when they are not: lazy results, explicit pages, cursors bound to their list.

A list call without `limit` returns every item: iteration fetches one page after another, so memory stays
bounded however long the list is. A call with `limit` returns one explicit page, and its `next_cursor`
says whether more follow. Cursors are opaque and signed over the list and the arguments that produced
them: a cursor of another list, or one that was edited or forged, is a ValidationError, never a wrong page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from alexdb.domain.errors import ValidationError

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_CURSOR = 8192  # characters: checked before anything is decoded
_MAC_BYTES = 16
# A built-in key keeps cursors valid across processes and restarts with no setup; a deployment that
# must stop clients from forging positions sets its own secret (ALEXDB_CURSOR_SECRET or connect(...)).
_DEFAULT_SECRET = b"alexdb cursor signing key: set ALEXDB_CURSOR_SECRET in production"

Bookmark = Any
"""Where a backend resumes a list: JSON-able (a list of key values, or a DynamoDB key)."""

PageReader = Callable[[Bookmark | None, int], tuple[list[T], Bookmark | None]]
"""Reads up to `size` items after a position; returns them and the position after the last (None at the end)."""


class Page(BaseModel, Generic[T]):
    """One explicit page of results and the cursor of the next page (None on the last page)."""

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


def scope(name: str, *arguments: Any) -> str:
    """The identity of a list: its name and the arguments that select its items (not the page size)."""
    return json.dumps([name, *arguments], separators=(",", ":"), default=str)


class Cursors:
    """Makes and checks the opaque cursors of one database: HMAC-SHA256 over the list's scope and position."""

    def __init__(self, secret: str | bytes | None = None) -> None:
        key = secret if secret is not None else os.environ.get("ALEXDB_CURSOR_SECRET") or _DEFAULT_SECRET
        self._key = key.encode() if isinstance(key, str) else key

    def _mac(self, list_scope: str, body: bytes) -> bytes:
        return hmac.new(self._key, list_scope.encode() + b"\0" + body, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, list_scope: str, position: Bookmark) -> str:
        """A cursor that resumes this list (and no other) at position."""
        body = json.dumps(position, separators=(",", ":"), sort_keys=True, default=str).encode()
        return f"{_b64(body)}.{_b64(self._mac(list_scope, body))}"

    def decode(self, list_scope: str, cursor: str | None) -> Bookmark | None:
        """The position a cursor of this list stands for; ValidationError for anything else."""
        if cursor is None:
            return None
        if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR or cursor.count(".") != 1:
            raise ValidationError("cursor", _shown(cursor), "not a cursor returned by this API")
        body_text, mac_text = cursor.split(".")
        try:
            body, mac = _unb64(body_text), _unb64(mac_text)
        except ValueError as exc:
            raise ValidationError("cursor", _shown(cursor), "not a cursor returned by this API") from exc
        if not hmac.compare_digest(mac, self._mac(list_scope, body)):
            raise ValidationError("cursor", _shown(cursor), "not a cursor of this list (or not one this API made)")
        return json.loads(body)


class Results(Generic[T]):
    """The answer of a list call: every item when no limit was given, else one explicit page.

    Without limit, iterating yields every item (fetching pages as it goes), len() counts them all and
    next_cursor is None. With limit, this is one page of at most limit items, and next_cursor (None on
    the last page) continues the same list.
    """

    def __init__(self, read: PageReader[T], list_scope: str, cursors: Cursors,
                 limit: int | None = None, cursor: str | None = None, page_size: int | None = None) -> None:
        self._read, self._scope, self._cursors = read, list_scope, cursors
        self._paged = limit is not None
        # page_size only sets how many items a complete iteration fetches at a time.
        self._size = check_limit(limit if limit is not None else page_size)
        self._start = cursors.decode(list_scope, cursor)
        self._first: tuple[list[T], Bookmark | None] | None = None
        self._all: list[T] | None = None  # kept once len() has read every item, so list() reads once

    @property
    def paged(self) -> bool:
        """True when this is one page of a longer list (limit was given)."""
        return self._paged

    def _first_page(self) -> tuple[list[T], Bookmark | None]:
        if self._first is None:
            self._first = self._read(self._start, self._size)
        return self._first

    def pages(self) -> Iterator[Page[T]]:
        """Every page from the starting cursor on, each with the cursor of the one after it."""
        items, after = self._first_page()
        while True:
            next_cursor = None if after is None else self._cursors.encode(self._scope, after)
            yield Page(items=items, next_cursor=next_cursor)
            if after is None or self._paged:
                return
            items, after = self._read(after, self._size)

    def __iter__(self) -> Iterator[T]:
        if self._all is not None:
            yield from self._all
            return
        for page in self.pages():
            yield from page.items

    @property
    def items(self) -> list[T]:
        """The items as a list: the page when limit was given, else every item."""
        return list(self._first_page()[0]) if self._paged else list(self)

    @property
    def next_cursor(self) -> str | None:
        """The cursor of the next page (only a paged result has one)."""
        after = self._first_page()[1]
        return None if after is None or not self._paged else self._cursors.encode(self._scope, after)

    def page(self) -> Page[T]:
        """This result as one Page (with limit: the page; without: everything)."""
        return Page(items=self.items, next_cursor=self.next_cursor)

    def __len__(self) -> int:
        if self._paged:
            return len(self._first_page()[0])
        if self._all is None:
            self._all = [item for page in self.pages() for item in page.items]
        return len(self._all)

    def __bool__(self) -> bool:
        return bool(self._first_page()[0])

    def __getitem__(self, index: int) -> T:
        if isinstance(index, int) and index >= 0:
            for number, item in enumerate(self):
                if number == index:
                    return item
            raise IndexError(index)
        return self.items[index]

    def __repr__(self) -> str:
        return f"<Results {self._scope} {'page' if self._paged else 'all'}>"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if not text or not all(c.isalnum() or c in "-_" for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _shown(cursor: Any) -> Any:
    return cursor[:80] + "..." if isinstance(cursor, str) and len(cursor) > 80 else cursor
