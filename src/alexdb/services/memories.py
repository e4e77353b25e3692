"""db.memories: long-term memory (LangGraph's store) over any backend's MemoryRecords.

Every rule is here: namespaces and keys checked, values plain JSON, expiry (ttl after the last write, moved
forward by reads that ask for it), filters, similarity ranking and paging. Each user's items are apart:
every call names the owner, and no call reaches another owner's items.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from alexdb.domain.errors import ValidationError
from alexdb.domain.instants import utcnow
from alexdb.domain.memories import (
    MemoryItem,
    check_key,
    check_namespace,
    check_value,
    cosine,
    label_matches,
    matches,
    namespace_of,
    namespace_text,
)
from alexdb.domain.models import user_key
from alexdb.ports import MemoryRecords

MAX_PAGE = 10_000


def _page(limit: Any, offset: Any) -> tuple[int, int]:
    for name, value in (("limit", limit), ("offset", offset)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PAGE * 100:
            raise ValidationError(name, value, "must be a whole number >= 0")
    return limit, offset


class MemoryService:
    """The storage-neutral memory store."""

    def __init__(self, records: MemoryRecords) -> None:
        self._records = records

    def get(self, owner: str, namespace: tuple[str, ...], key: str, refresh: bool = True) -> MemoryItem | None:
        """An item, or None; refresh moves its expiry to ttl from now (when it has a ttl)."""
        now = utcnow()
        item = self._records.get(user_key(owner), namespace_text(check_namespace("namespace", namespace)),
                                 check_key(key), now)
        if item is not None and refresh and item.ttl is not None:
            item = self._refreshed(owner, [item])[0]
        return item

    def _refreshed(self, owner: str, items: list[MemoryItem]) -> list[MemoryItem]:
        now = utcnow()
        moved = [MemoryItem(**{**i.__dict__, "expires_at": now + i.ttl}) if i.ttl is not None else i for i in items]
        self._records.refresh(user_key(owner), [i for i in moved if i.ttl is not None])
        return moved

    def put(self, owner: str, namespace: tuple[str, ...], key: str, value: Mapping[str, Any],
            ttl: timedelta | None = None, vectors: Mapping[str, list[float]] | None = None) -> MemoryItem:
        """Store value under (namespace, key), replacing what was there (its created_at kept)."""
        read, _ = check_value(value, vectors or {})
        now = utcnow()
        item = MemoryItem(check_namespace("namespace", namespace), check_key(key), read, now, now,
                          None if ttl is None else now + ttl, ttl, {k: [float(x) for x in v]
                                                                     for k, v in (vectors or {}).items()})
        return self._records.put(user_key(owner), item, now)

    def delete(self, owner: str, namespace: tuple[str, ...], key: str) -> None:
        """Delete an item (nothing happens when there is none)."""
        self._records.delete(user_key(owner), namespace_text(check_namespace("namespace", namespace)),
                             check_key(key))

    def search(self, owner: str, prefix: tuple[str, ...], *, filter: Mapping[str, Any] | None = None,
               limit: int = 10, offset: int = 0, query: Sequence[float] | None = None,
               refresh: bool = True) -> list[tuple[MemoryItem, float | None]]:
        """Items under a namespace prefix that match filter, most similar to the query vector first (each by
        its best-matching text; items without vectors after them, unscored), else in namespace and key
        order; a page of limit from offset."""
        limit, offset = _page(limit, offset)
        found = (item for item in self._records.under(
            user_key(owner), namespace_text(check_namespace("namespace_prefix", prefix, empty=True)), utcnow())
            if not filter or matches(item.value, dict(filter)))
        # Without a query the order is the store's: the page needs only the items up to its end.
        candidates = list(found if query is not None else itertools.islice(found, offset + limit))
        ranked: list[tuple[MemoryItem, float | None]]
        if query is None:
            ranked = [(item, None) for item in candidates]
        else:
            scored = [(item, max(cosine(query, v) for v in item.vectors.values())) for item in candidates
                      if item.vectors]
            scored.sort(key=lambda pair: -pair[1])
            ranked = [*scored, *((item, None) for item in candidates if not item.vectors)]
        page = ranked[offset:offset + limit]
        if refresh:
            moved = self._refreshed(owner, [item for item, _ in page])
            page = [(item, score) for item, (_, score) in zip(moved, page, strict=True)]
        return page

    def namespaces(self, owner: str, *, prefix: Sequence[str] | None = None, suffix: Sequence[str] | None = None,
                   max_depth: int | None = None, limit: int = 100, offset: int = 0) -> list[tuple[str, ...]]:
        """The owner's namespaces, sorted, that start with prefix and end with suffix ('*' is any label),
        truncated to max_depth (and then distinct); a page of limit from offset."""
        limit, offset = _page(limit, offset)
        if max_depth is not None and (isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 1):
            raise ValidationError("max_depth", max_depth, "must be a whole number >= 1")
        found = [namespace_of(text) for text in self._records.namespaces(user_key(owner), utcnow())]
        found = [ns for ns in found if (prefix is None or label_matches(ns, prefix, suffix=False))
                 and (suffix is None or label_matches(ns, suffix, suffix=True))]
        distinct = sorted({ns[:max_depth] if max_depth is not None else ns for ns in found})
        return distinct[offset:offset + limit]

    def purge_expired(self) -> int:
        """Delete expired items now (SQL; DynamoDB's TTL does it there, and reads already ignore them)."""
        return self._records.purge_expired(utcnow())
