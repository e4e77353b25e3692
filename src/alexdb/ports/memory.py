"""The conversation memory's primitives: chat sessions, LangGraph checkpoints, long-term memories."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from alexdb.domain.chat import ChatMessage, ChatSession, NewMessage, SessionStats
from alexdb.domain.checkpoints import BlobRow, CheckpointRow, Snapshot, ThreadRows, WriteRow
from alexdb.domain.memories import MemoryItem
from alexdb.domain.paging import Bookmark
from alexdb.ports.portfolio import Rows


class ChatRecords(Protocol):
    """The primitives behind db.chat: every rule lives in services/chat.py. A session of another user, or
    one expired at `now`, is no session: calls on it answer None (or False)."""

    def insert_session(self, session: ChatSession) -> bool:
        """Store a new session; False when its id is taken."""
        ...
    def live_session(self, session_id: uuid.UUID, user_id: str, now: datetime) -> ChatSession | None:
        """The user's live session, or None."""
        ...
    def append(self, session_id: uuid.UUID, user_id: str, messages: list[NewMessage], now: datetime,
               ttl: timedelta) -> list[ChatMessage] | None:
        """Add the next messages (one or more, in order) and move the counters and the expiry (now + ttl),
        all in one transaction; None when the session is not the user's live one."""
        ...
    def messages(self, session_id: uuid.UUID, user_id: str, now: datetime, limit: int | None,
                 before: int | None) -> list[ChatMessage] | None:
        """Messages oldest first: all, or the last `limit` with seq below `before`."""
        ...
    def touch(self, session_id: uuid.UUID, user_id: str, now: datetime, ttl: timedelta,
              changes: Mapping[str, Any]) -> ChatSession | None:
        """Set changes (title, pedagogy_mode), record activity at now."""
        ...
    def truncate(self, session_id: uuid.UUID, user_id: str, keep: int, now: datetime, ttl: timedelta) -> int | None:
        """Delete all but the newest keep messages; how many were deleted."""
        ...
    def delete_session(self, session_id: uuid.UUID, user_id: str, now: datetime) -> bool:
        """Delete the session and its messages."""
        ...
    def stats(self, session_id: uuid.UUID, user_id: str, now: datetime) -> SessionStats | None:
        """Counts by role, tokens and size."""
        ...
    def session_page(self, user_id: str, now: datetime, ttl: timedelta, after: Bookmark | None, size: int) -> Rows:
        """Up to size of the user's live sessions, most recently active first."""
        ...
    def purge_expired(self, now: datetime) -> int:
        """Delete expired sessions where the engine does not (SQL); how many."""
        ...


class CheckpointRecords(Protocol):
    """The primitives behind db.checkpoints (LangGraph's persistence): every rule lives in
    services/checkpoints.py. Every call is scoped by owner; a thread whose expiry has passed is absent."""

    def put(self, owner: str, row: CheckpointRow, blobs: list[BlobRow], chunks: Mapping[str, bytes], now: datetime,
            expires_at: datetime | None) -> int:
        """Store a checkpoint, the blobs new at it (one already there is kept) and the pieces of chunked ones
        (one the thread already holds is not written again), and record the thread's activity and expiry;
        the thread's checkpoint count after."""
        ...
    def put_writes(self, owner: str, rows: list[WriteRow], replace: bool, now: datetime,
                   expires_at: datetime | None) -> None:
        """Store pending writes in one transaction: over existing ones when replace, else keeping them."""
        ...
    def checkpoint(self, owner: str, thread_id: str, ns: str, checkpoint_id: str | None,
                   now: datetime) -> CheckpointRow | None:
        """One checkpoint, or the namespace's newest when checkpoint_id is None."""
        ...
    def snapshot(self, owner: str, thread_id: str, ns: str, checkpoint_id: str | None,
                 now: datetime) -> Snapshot | None:
        """One checkpoint (the namespace's newest when checkpoint_id is None) with the blobs of its versions
        that exist and its pending writes, read together: what resuming it needs, in as few round trips
        as the store allows."""
        ...
    def checkpoints(self, owner: str, thread_id: str | None, ns: str | None, before: str | None,
                    now: datetime) -> Iterator[CheckpointRow]:
        """Checkpoints by thread and namespace, newest first within each, read in pages as iterated."""
        ...
    def blobs(self, owner: str, thread_id: str, ns: str, keys: Sequence[tuple[str, str]]) -> list[BlobRow]:
        """The blobs of these (channel, version) keys that exist."""
        ...
    def writes(self, owner: str, thread_id: str, ns: str, checkpoint_id: str) -> list[WriteRow]:
        """A checkpoint's pending writes (in no particular order)."""
        ...
    def chunks(self, owner: str, thread_id: str, names: Sequence[str]) -> dict[str, bytes]:
        """The pieces of chunked values the thread holds, by name."""
        ...
    def thread(self, owner: str, thread_id: str, now: datetime) -> ThreadRows:
        """Everything a live thread holds."""
        ...
    def insert_thread(self, owner: str, thread_id: str, rows: ThreadRows, now: datetime,
                      expires_at: datetime | None) -> None:
        """Write a thread's rows (under thread_id) to a thread that must not exist yet."""
        ...
    def delete_thread(self, owner: str, thread_id: str) -> None:
        """Delete a thread with everything in it."""
        ...
    def delete_checkpoints(self, owner: str, thread_id: str, ns: str, checkpoint_ids: Sequence[str],
                           blobs: Sequence[tuple[str, str]]) -> None:
        """Delete checkpoints with their writes, and the given (channel, version) blobs of the namespace."""
        ...
    def blob_keys(self, owner: str, thread_id: str, ns: str) -> list[tuple[str, str]]:
        """Every (channel, version) stored in a namespace of a thread."""
        ...
    def run_checkpoints(self, owner: str, run_ids: Sequence[str]) -> list[tuple[str, str, str]]:
        """(thread, namespace, checkpoint id) of every checkpoint whose metadata names one of run_ids."""
        ...
    def purge_expired(self, now: datetime) -> int:
        """Delete expired threads where the engine does not (SQL); how many."""
        ...


class MemoryRecords(Protocol):
    """The primitives behind db.memories: every rule lives in services/memories.py. Namespaces are given as
    their text (domain.memories.namespace_text); an item whose expiry has passed is absent."""

    def get(self, owner: str, namespace: str, key: str, now: datetime) -> MemoryItem | None:
        """One live item."""
        ...
    def put(self, owner: str, item: MemoryItem, now: datetime) -> MemoryItem:
        """Insert or replace an item, keeping the created_at of the one replaced (if live); the item stored."""
        ...
    def delete(self, owner: str, namespace: str, key: str) -> None:
        """Delete an item."""
        ...
    def under(self, owner: str, prefix: str, now: datetime) -> Iterator[MemoryItem]:
        """The live items whose namespace text starts with prefix, by namespace and key, read in pages."""
        ...
    def namespaces(self, owner: str, now: datetime) -> list[str]:
        """The text of every namespace holding a live item."""
        ...
    def refresh(self, owner: str, items: Sequence[MemoryItem]) -> None:
        """Set these items' expiry to theirs as given (items deleted meanwhile stay deleted)."""
        ...
    def purge_expired(self, now: datetime) -> int:
        """Delete expired items where the engine does not (SQL); how many."""
        ...
