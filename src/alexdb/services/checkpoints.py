"""db.checkpoints: agent checkpoints (LangGraph's persistence) over any backend's CheckpointRecords.

Every rule lives here: keys checked, threads scoped by owner, expiry (ttl after a thread's last write),
pruning (which checkpoints go, and which channel values no kept checkpoint references any more), runs
deleted, threads copied. The LangGraph saver (integrations/langgraph.py) only (de)serialises.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta

from alexdb.domain.checkpoints import (
    BlobRow,
    CheckpointRow,
    Snapshot,
    Typed,
    WriteRow,
    assembled,
    check_keep,
    check_key,
    check_ttl,
    chunked,
    expiry,
    wanted,
)
from alexdb.domain.errors import ConflictError, ValidationError
from alexdb.domain.instants import utcnow
from alexdb.domain.models import user_key
from alexdb.ports import CheckpointRecords
from alexdb.services.kept import KeptBytes

PIECE_CACHE_BYTES = 64 * 1024 * 1024
VALUE_CACHE_BYTES = 64 * 1024 * 1024


def _owner(owner: str) -> str:
    return user_key(owner)


def _checked(row: CheckpointRow | BlobRow | WriteRow) -> None:
    check_key("thread_id", row.thread_id)
    check_key("checkpoint_ns", row.ns, empty=True)
    if isinstance(row, CheckpointRow):
        check_key("checkpoint_id", row.checkpoint_id)
        for channel, version in row.versions.items():
            check_key("channel", channel)
            check_key("version", version)
    elif isinstance(row, BlobRow):
        check_key("channel", row.channel)
        check_key("version", row.version)
    else:
        check_key("checkpoint_id", row.checkpoint_id)
        check_key("task_id", row.task_id)
        check_key("channel", row.channel)


def _applied(writes: list[WriteRow]) -> list[WriteRow]:
    """Pending writes in the order a run applies them (task path, task id, index)."""
    return sorted(writes, key=lambda x: (x.task_path, x.task_id, x.idx))


class CheckpointService:
    """The storage-neutral checkpoint store; every call names the owner whose threads it touches.

    ttl: a thread expires that long after its last write (None: never). keep_last: after a write, a thread
    namespace holding more than keep_last checkpoints (plus a quarter, so pruning is amortised) is pruned
    back to the newest keep_last.
    """

    def __init__(self, records: CheckpointRecords, ttl: timedelta | None = None, keep_last: int | None = None) -> None:
        self._records, self.ttl = records, check_ttl(ttl)
        self.keep_last = None if keep_last is None else check_keep(keep_last)
        # Pieces of chunked values by name, and chunked values whole by their list of piece names. Both are
        # named by content (a piece by the hash of its bytes, a value by the names of its pieces), so what is
        # kept can never be stale: reading a thread's latest state again fetches only its manifest, and a
        # newer state only the pieces not seen yet.
        self._pieces, self._values = KeptBytes(PIECE_CACHE_BYTES), KeptBytes(VALUE_CACHE_BYTES)
        # How each channel's last value written from this process was cut (domain.checkpoints.chunked).
        self._cuts = KeptBytes(VALUE_CACHE_BYTES)

    def _keep(self, pieces: Mapping[str, bytes]) -> None:
        for name, data in pieces.items():
            if name not in self._pieces:
                self._pieces.put(name, data, len(data))

    def configured(self, ttl: timedelta | None = None, keep_last: int | None = None) -> CheckpointService:
        """The same store (and what it keeps in this process) with another expiry and pruning policy."""
        other = CheckpointService(self._records, ttl, keep_last)
        other._pieces, other._values, other._cuts = self._pieces, self._values, self._cuts
        return other

    def put(self, owner: str, row: CheckpointRow, blobs: Sequence[BlobRow]) -> None:
        """Store a checkpoint and the channel values new at it (an existing (channel, version) is kept)."""
        _checked(row)
        for blob in blobs:
            _checked(blob)
        now, stored, pieces = utcnow(), [], {}
        key, cuts = _owner(owner), {}
        for blob in blobs:
            place = (key, blob.thread_id, blob.ns, blob.channel)
            kept, parts, cut = chunked(blob, self._cuts.get(place))
            stored.append(kept)
            pieces.update(parts)
            if cut is not None:
                cuts[place] = (kept.chunks, blob.value.data, cut)
        count = self._records.put(key, row, stored, pieces, now, expiry(now, self.ttl))
        self._keep(pieces)
        for place, (manifest, data, cut) in cuts.items():
            self._values.put(manifest, data, len(data))
            self._cuts.put(place, cut, len(data))
        if self.keep_last is not None and count > self.keep_last + max(1, self.keep_last // 4):
            self.prune(owner, [row.thread_id], keep=self.keep_last)

    def put_writes(self, owner: str, rows: Sequence[WriteRow], replace: bool) -> None:
        """Store a task's pending writes; replace: over ones already stored (special writes), else kept."""
        for row in rows:
            _checked(row)
        now = utcnow()
        self._records.put_writes(_owner(owner), list(rows), replace, now, expiry(now, self.ttl))

    def get(self, owner: str, thread_id: str, ns: str, checkpoint_id: str | None) -> CheckpointRow | None:
        """A checkpoint, or the namespace's newest (None when there is none)."""
        return self._records.checkpoint(_owner(owner), check_key("thread_id", thread_id),
                                        check_key("checkpoint_ns", ns, empty=True), checkpoint_id, utcnow())

    def checkpoints(self, owner: str, thread_id: str | None = None, ns: str | None = None,
                    before: str | None = None) -> Iterator[CheckpointRow]:
        """Checkpoints newest first within each thread and namespace (all of the owner's when thread_id is
        None), read in pages as iterated."""
        if thread_id is not None:
            check_key("thread_id", thread_id)
        return self._records.checkpoints(_owner(owner), thread_id, ns, before, utcnow())

    def snapshot(self, owner: str, thread_id: str, ns: str, checkpoint_id: str | None) -> Snapshot | None:
        """A checkpoint (the namespace's newest when checkpoint_id is None) whole: the channel values it
        references and its pending writes, as blobs() and writes() give them, read together."""
        key = _owner(owner)
        found = self._records.snapshot(key, check_key("thread_id", thread_id),
                                       check_key("checkpoint_ns", ns, empty=True), checkpoint_id, utcnow())
        if found is None:
            return None
        return Snapshot(found.checkpoint, self._assembled(key, thread_id, found.blobs), _applied(found.writes))

    def blobs(self, owner: str, row: CheckpointRow) -> list[BlobRow]:
        """The channel values a checkpoint references (chunked ones whole again)."""
        key = _owner(owner)
        return self._assembled(key, row.thread_id,
                               self._records.blobs(key, row.thread_id, row.ns, list(row.versions.items())))

    def _assembled(self, key: str, thread_id: str, found: list[BlobRow]) -> list[BlobRow]:
        whole: dict[tuple[str, ...], bytes] = {}
        for blob in found:
            data = self._values.get(blob.chunks) if blob.chunks else None
            if data is not None:
                whole[blob.chunks] = data
        pieces: dict[str, bytes] = {}
        pending = [blob for blob in found if blob.chunks and blob.chunks not in whole]
        for _ in range(3 if pending else 0):  # a manifest, the list of names it points to, the pieces it names
            names = set().union(*(wanted(blob, pieces) for blob in pending))
            for name in names:
                piece = self._pieces.get(name)
                if piece is not None:
                    pieces[name] = piece
            missing = sorted(names - set(pieces))
            if missing:
                pieces |= self._records.chunks(key, thread_id, missing)
        self._keep(pieces)
        result = []
        for blob in found:
            if not blob.chunks:
                result.append(blob)
            elif blob.chunks in whole:
                result.append(replace(blob, value=Typed(blob.value.type, whole[blob.chunks]), chunks=()))
            else:
                made = assembled(blob, pieces)
                self._values.put(blob.chunks, made.value.data, len(made.value.data))
                result.append(made)
        return result

    def writes(self, owner: str, row: CheckpointRow) -> list[WriteRow]:
        """A checkpoint's pending writes, in the order a run applies them (task path, task id, index)."""
        return _applied(self._records.writes(_owner(owner), row.thread_id, row.ns, row.checkpoint_id))

    def delete_thread(self, owner: str, thread_id: str) -> None:
        """Delete a thread with everything in it."""
        self._records.delete_thread(_owner(owner), check_key("thread_id", thread_id))

    def prune(self, owner: str, thread_ids: Sequence[str], keep: int = 1) -> None:
        """Keep the newest `keep` checkpoints of each namespace of these threads (with their writes and the
        values they reference); delete the rest."""
        key = _owner(owner)
        check_keep(keep)
        for thread_id in thread_ids:
            by_ns: dict[str, list[CheckpointRow]] = defaultdict(list)
            for row in self._records.checkpoints(key, check_key("thread_id", thread_id), None, None, utcnow()):
                by_ns[row.ns].append(row)
            for ns, rows in by_ns.items():
                self._drop(key, thread_id, ns, [row.checkpoint_id for row in rows[keep:]], rows[:keep])

    def _drop(self, key: str, thread_id: str, ns: str, doomed: Sequence[str], kept: Sequence[CheckpointRow]) -> None:
        """Delete checkpoints, and every value of the namespace no kept checkpoint references.

        The pieces of chunked values stay while the thread lives (another value may share them): a
        conversation's later state holds its earlier content, so few become unused, and they go with the
        thread (deleted or expired).
        """
        if not doomed:
            return
        referenced = {item for row in kept for item in row.versions.items()}
        unreferenced = [k for k in self._records.blob_keys(key, thread_id, ns) if k not in referenced]
        self._records.delete_checkpoints(key, thread_id, ns, doomed, unreferenced)

    def delete_for_runs(self, owner: str, run_ids: Sequence[str]) -> None:
        """Delete the checkpoints (and their writes) that runs made; values only they referenced go too."""
        key = _owner(owner)
        if isinstance(run_ids, str):
            raise ValidationError("run_ids", run_ids, "must be a list of run ids")
        places: dict[tuple[str, str], list[str]] = defaultdict(list)
        for thread_id, ns, checkpoint_id in self._records.run_checkpoints(key, list(run_ids)):
            places[thread_id, ns].append(checkpoint_id)
        for (thread_id, ns), doomed in places.items():
            gone = set(doomed)
            kept = [row for row in self._records.checkpoints(key, thread_id, ns, None, utcnow())
                    if row.checkpoint_id not in gone]
            self._drop(key, thread_id, ns, doomed, kept)

    def copy_thread(self, owner: str, source: str, target: str) -> None:
        """Copy every checkpoint, value and write of source to a new thread target (ConflictError if it exists)."""
        key, now = _owner(owner), utcnow()
        rows = self._records.thread(key, check_key("thread_id", source), now)
        if not rows.checkpoints:
            return
        if next(self._records.checkpoints(key, check_key("thread_id", target), None, None, now), None) is not None:
            raise ConflictError(f"thread {target!r} already exists: copy to a new thread")
        self._records.insert_thread(key, target, rows, now, expiry(now, self.ttl))

    def purge_expired(self) -> int:
        """Delete expired threads now (SQL; on DynamoDB its TTL does it, and reads already ignore them)."""
        return self._records.purge_expired(utcnow())
