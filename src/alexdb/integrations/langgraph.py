"""A LangGraph checkpointer over db.checkpoints, on every alexdb backend (pip install "alexdb[langgraph]").

    from alexdb.integrations.langgraph import AlexdbSaver
    graph = builder.compile(checkpointer=AlexdbSaver(user_id="user-7", db=db))

A saver is bound to one user: threads are that user's, and another user's saver never sees them. Channel
values are stored by (channel, version) and written only when their version is new, so a step stores
what changed rather than the whole state. ttl= expires a thread after its last write; keep_last= prunes
each thread to its newest checkpoints as it grows. No size ceiling on any backend (DynamoDB splits large
values across items).
"""

from __future__ import annotations

import asyncio
import itertools
import pickle
import random
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from datetime import timedelta
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PendingWrite,
    get_checkpoint_id,
    get_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

import alexdb
from alexdb.database import Database
from alexdb.domain.checkpoints import BlobRow, CheckpointRow, Snapshot, Typed, WriteRow
from alexdb.services.kept import KeptBytes

EMPTY = Typed("empty", b"")
# A large value decoded a second time is kept as a pickle of what the serializer made, and later reads
# unpickle a fresh copy of it: a quarter of the time of LangGraph's decode (whose every message is built
# and validated again), for a checkpoint read again and again (a UI showing a thread, a resume after an
# interrupt). An agent reads each new checkpoint once, so only a second read starts keeping one. Keys are
# the stored bytes themselves (and the serializer), so what is kept can never be stale; pickles are made
# here, in this process, from values decoded here: nothing read from storage is ever unpickled.
KEEP_DECODED_FROM = 16 * 1024
_DECODED = KeptBytes(64 * 1024 * 1024)


def _place(config: RunnableConfig) -> tuple[str, str]:
    configurable = config["configurable"]
    return configurable["thread_id"], configurable.get("checkpoint_ns", "")


def _config(thread_id: str, ns: str, checkpoint_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": checkpoint_id}}


class AlexdbSaver(BaseCheckpointSaver[str]):
    """BaseCheckpointSaver on db.checkpoints, scoped to one user, with the async variants."""

    def __init__(self, user_id: str, db: Database | None = None, url: str | None = None, *,
                 ttl: timedelta | None = None, keep_last: int | None = None,
                 serde: SerializerProtocol | None = None) -> None:
        """ttl: threads expire that long after their last write; keep_last: keep each thread's newest N."""
        super().__init__(serde=serde)
        self.db = db if db is not None else alexdb.connect(url)
        self.user_id = user_id
        self.store = self.db.checkpoints.configured(ttl, keep_last)

    def _typed(self, value: Any) -> Typed:
        kind, data = self.serde.dumps_typed(value)
        return Typed(kind, data)

    def _load(self, typed: Typed) -> Any:
        if len(typed.data) < KEEP_DECODED_FROM:
            return self.serde.loads_typed((typed.type, typed.data))
        key = (self.serde, typed.type, typed.data)
        kept = _DECODED.get(key)
        if isinstance(kept, bytes):
            return pickle.loads(kept)
        value = self.serde.loads_typed((typed.type, typed.data))
        if kept is None:
            _DECODED.put(key, True, len(typed.data))
        elif kept is True:
            try:
                pickled = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # any value the serializer made but pickle cannot: it is decoded every time
                _DECODED.put(key, False, len(typed.data))
            else:
                _DECODED.put(key, pickled, len(typed.data) + len(pickled))
        return value

    def _tuple(self, found: Snapshot, metadata: Any = None) -> CheckpointTuple:
        row = found.checkpoint
        checkpoint: Checkpoint = self._load(row.checkpoint)
        values = {blob.channel: self._load(blob.value) for blob in found.blobs if blob.value.type != EMPTY.type}
        writes: list[PendingWrite] = [(w.task_id, w.channel, self._load(w.value)) for w in found.writes]
        return CheckpointTuple(
            config=_config(row.thread_id, row.ns, row.checkpoint_id),
            checkpoint={**checkpoint, "channel_values": values},
            metadata=self._load(row.metadata) if metadata is None else metadata,
            parent_config=None if row.parent_id is None else _config(row.thread_id, row.ns, row.parent_id),
            pending_writes=writes)

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint config names, or its thread and namespace's newest."""
        thread_id, ns = _place(config)
        found = self.store.snapshot(self.user_id, thread_id, ns, get_checkpoint_id(config))
        return None if found is None else self._tuple(found)

    def list(self, config: RunnableConfig | None, *, filter: dict[str, Any] | None = None,
             before: RunnableConfig | None = None, limit: int | None = None) -> Iterator[CheckpointTuple]:
        """Checkpoints newest first, by thread (all of the user's when config is None) and namespace,
        matching every key of filter in their metadata, older than before, at most limit."""
        configurable = config["configurable"] if config else {}
        wanted = get_checkpoint_id(config) if config else None
        before_id = get_checkpoint_id(before) if before else None
        rows: Iterable[CheckpointRow]
        if wanted and "thread_id" in configurable and "checkpoint_ns" in configurable:
            # One checkpoint named in full: read it, not the whole thread.
            found = self.store.get(self.user_id, configurable["thread_id"], configurable["checkpoint_ns"], wanted)
            rows = [found] if found is not None and (before_id is None or found.checkpoint_id < before_id) else []
        else:
            rows = self.store.checkpoints(self.user_id, configurable.get("thread_id"),
                                          configurable.get("checkpoint_ns"), before_id)
        left = limit
        for row in rows:
            if left is not None and left <= 0:
                return
            if wanted and row.checkpoint_id != wanted:
                continue
            metadata = self._load(row.metadata)
            if filter and not all(metadata.get(key) == value for key, value in filter.items()):
                continue
            if left is not None:
                left -= 1
            whole = Snapshot(row, self.store.blobs(self.user_id, row), self.store.writes(self.user_id, row))
            yield self._tuple(whole, metadata)

    def put(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
            new_versions: ChannelVersions) -> RunnableConfig:
        """Store a checkpoint; only the channels in new_versions have their values written."""
        thread_id, ns = _place(config)
        stored: dict[str, Any] = dict(checkpoint)
        values: dict[str, Any] = stored.pop("channel_values")
        blobs = [BlobRow(thread_id, ns, channel, str(version),
                         self._typed(values[channel]) if channel in values else EMPTY)
                 for channel, version in new_versions.items()]
        meta = get_checkpoint_metadata(config, metadata)
        run_id = meta.get("run_id")
        row = CheckpointRow(thread_id, ns, checkpoint["id"], config["configurable"].get("checkpoint_id"),
                            self._typed(stored), self._typed(meta), None if run_id is None else str(run_id),
                            {channel: str(version) for channel, version in checkpoint["channel_versions"].items()})
        self.store.put(self.user_id, row, blobs)
        return _config(thread_id, ns, checkpoint["id"])

    def put_writes(self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str,
                   task_path: str = "") -> None:
        """Store a task's writes against a checkpoint: special writes (errors, interrupts) replace earlier
        ones, others are kept as first stored (a retried task writes nothing twice)."""
        thread_id, ns = _place(config)
        checkpoint_id = config["configurable"]["checkpoint_id"]
        rows = [WriteRow(thread_id, ns, checkpoint_id, task_id, WRITES_IDX_MAP.get(channel, idx), channel,
                         self._typed(value), task_path) for idx, (channel, value) in enumerate(writes)]
        for replace in (True, False):
            chosen = [row for row in rows if (row.idx < 0) == replace]
            if chosen:
                self.store.put_writes(self.user_id, chosen, replace)

    def delete_thread(self, thread_id: str) -> None:
        """Delete a thread with every checkpoint and write in it."""
        self.store.delete_thread(self.user_id, thread_id)

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete the checkpoints and writes these runs made."""
        self.store.delete_for_runs(self.user_id, list(run_ids))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy a thread, every checkpoint and write in it, to a new thread."""
        self.store.copy_thread(self.user_id, source_thread_id, target_thread_id)

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """keep_latest: keep each namespace's newest checkpoint; delete: delete the threads."""
        if strategy == "delete":
            for thread_id in thread_ids:
                self.delete_thread(thread_id)
        elif strategy == "keep_latest":
            self.store.prune(self.user_id, list(thread_ids), keep=1)
        else:
            raise ValueError(f"unknown prune strategy {strategy!r} (keep_latest or delete)")

    def get_next_version(self, current: str | None, channel: None) -> str:
        """Versions that sort as they increase: a counter, then a random tie-breaker (as LangGraph's own)."""
        number = 0 if current is None else int(str(current).split(".")[0])
        return f"{number + 1:032}.{random.random():016}"

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """get_tuple, off the event loop."""
        return await asyncio.to_thread(self.get_tuple, config)

    async def alist(self, config: RunnableConfig | None, *, filter: dict[str, Any] | None = None,
                    before: RunnableConfig | None = None, limit: int | None = None) -> AsyncIterator[CheckpointTuple]:
        """list, off the event loop (a page of tuples at a time)."""
        rows = self.list(config, filter=filter, before=before, limit=limit)
        while True:
            page = await asyncio.to_thread(lambda: list(itertools.islice(rows, 50)))
            for item in page:
                yield item
            if len(page) < 50:
                return

    async def aput(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
                   new_versions: ChannelVersions) -> RunnableConfig:
        """put, off the event loop."""
        return await asyncio.to_thread(self.put, config, checkpoint, metadata, new_versions)

    async def aput_writes(self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str,
                          task_path: str = "") -> None:
        """put_writes, off the event loop."""
        await asyncio.to_thread(self.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        """delete_thread, off the event loop."""
        await asyncio.to_thread(self.delete_thread, thread_id)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """delete_for_runs, off the event loop."""
        await asyncio.to_thread(self.delete_for_runs, run_ids)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """copy_thread, off the event loop."""
        await asyncio.to_thread(self.copy_thread, source_thread_id, target_thread_id)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """prune, off the event loop."""
        await asyncio.to_thread(self.prune, thread_ids, strategy=strategy)

