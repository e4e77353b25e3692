"""Agent checkpoints on DynamoDB, in the conversation-memory table (seed 003's chat_sessions).

CKOWNER#<owner> / THREAD#<thread>   the thread: checkpoint count, activity, expiry (its TTL), items_ttl
CKTHREAD#<owner>#<thread> / ...     the thread's rows, sort keys joined by U+001F (no key part holds it):
    C <ns> <checkpoint id> <part>                the checkpoint (with its metadata)
    B <ns> <channel> <version> <part>            a channel value, written once per version
    K <name>                                     a piece of chunked values, by content hash, written once
    W <ns> <checkpoint id> <task> <idx> <part>   a pending write
CKRUN#<owner>#<run> / <thread> <ns> <checkpoint id>   which checkpoints a run made (for delete_for_runs)

Values past PART_BYTES are split across items (no 400 KB ceiling). A write is one transaction when it fits
one (100 items, 4 MB); past that the parts go first and what makes them visible last (the checkpoint's
parts, whose count readers check; the thread item for a copy). Expiry as chat's: the thread item expires
ttl after the last write and gates every read; the rows carry a TTL of twice that, moved forward for the
whole thread about once per half window, so DynamoDB deletes them after the thread.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, NamedTuple

from alexdb.adapters.dynamodb.checkpoint_items import (
    IDX,
    checkpoint_row,
    grouped,
    parts,
)
from alexdb.adapters.dynamodb.checkpoint_reads import DynamoCheckpointReads
from alexdb.adapters.dynamodb.client import ConditionFailedError, Dynamo
from alexdb.domain.checkpoints import (
    HELD_THREADS,
    BlobRow,
    CheckpointRow,
    Held,
    ThreadRows,
    WriteRow,
    known_unheld,
    remember,
    unheld,
)
from alexdb.domain.checkpoints import SEPARATOR as S
from alexdb.domain.instants import instant_text

TRANSACTION_ITEMS, TRANSACTION_BYTES = 99, 3_500_000
RECOUNT = 8  # puts without reading the thread before one reads its count again


class Activity(NamedTuple):
    """What recording a write on a thread takes and tells (see DynamoCheckpoints._activity)."""

    update: dict[str, Any]
    rows_ttl: int | None
    generation: str
    fresh: bool
    checkpoints: int


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


class DynamoCheckpoints(DynamoCheckpointReads):
    """CheckpointRecords on DynamoDB."""

    def __init__(self, dynamo: Dynamo, table: str) -> None:
        super().__init__(dynamo, table)
        # (owner, thread) -> (generation, names of pieces it holds): the threads this process wrote lately.
        self._held: Held = OrderedDict()
        # (owner, thread) -> its checkpoint count as last read, and the puts since that went without reading.
        self._counts: OrderedDict[tuple[str, str], tuple[int, int]] = OrderedDict()

    # Keys and items.

    def _items(self, pk: str, stem: str, data: bytes, ttl: int | None, **attributes: Any) -> list[dict[str, Any]]:
        chunks = parts(data)
        extra = {} if ttl is None else {"ttl": ttl}
        return [{"PK": pk, "SK": f"{stem}{S}{n:03d}", "data": chunk, "parts": len(chunks), **attributes, **extra}
                for n, chunk in enumerate(chunks)]

    def _checkpoint_items(self, owner: str, row: CheckpointRow, ttl: int | None) -> list[dict[str, Any]]:
        attributes = {k: v for k, v in {"parent_id": row.parent_id, "run_id": row.run_id}.items() if v is not None}
        return self._items(self._pk(owner, row.thread_id), f"C{S}{row.ns}{S}{row.checkpoint_id}",
                           row.checkpoint.data + row.metadata.data, ttl, type=row.checkpoint.type,
                           metadata_type=row.metadata.type, checkpoint_bytes=len(row.checkpoint.data),
                           versions=json.dumps(row.versions), **attributes)

    def _blob_items(self, owner: str, row: BlobRow, ttl: int | None) -> list[dict[str, Any]]:
        manifest = {"chunks": ",".join(row.chunks)} if row.chunks else {}
        return self._items(self._pk(owner, row.thread_id), f"B{S}{row.ns}{S}{row.channel}{S}{row.version}",
                           row.value.data, ttl, type=row.value.type, **manifest)

    def _chunk_items(self, owner: str, thread_id: str, chunks: Mapping[str, bytes],
                     ttl: int | None) -> list[dict[str, Any]]:
        extra = {} if ttl is None else {"ttl": ttl}
        return [{"PK": self._pk(owner, thread_id), "SK": f"K{S}{name}", "data": data, **extra}
                for name, data in chunks.items()]

    def _new_chunks(self, owner: str, thread_id: str, chunks: Mapping[str, bytes], generation: str,
                    fresh: bool) -> dict[str, bytes]:
        """The pieces the thread does not hold yet (domain.checkpoints.unheld): a new thread holds none;
        otherwise their keys are read when needed (100 a BatchGetItem: cheaper than rewriting them, a piece
        costing a WCU per KB)."""
        pk = self._pk(owner, thread_id)

        def stored(names: list[str]) -> set[str]:
            if fresh:
                return set()
            return {i["SK"].split(S, 1)[1] for i in self._dynamo.batch_get(
                self._table, [{"PK": pk, "SK": f"K{S}{name}"} for name in names], projection="SK")}

        return unheld(self._held, (owner, thread_id), generation, chunks, stored)

    def _write_items(self, owner: str, row: WriteRow, ttl: int | None) -> list[dict[str, Any]]:
        return self._items(self._pk(owner, row.thread_id),
                           f"W{S}{row.ns}{S}{row.checkpoint_id}{S}{row.task_id}{S}{row.idx + IDX:08d}",
                           row.value.data, ttl, type=row.value.type, channel=row.channel, task_path=row.task_path)

    def _run_item(self, owner: str, row: CheckpointRow, ttl: int | None) -> list[dict[str, Any]]:
        if row.run_id is None:
            return []
        extra = {} if ttl is None else {"ttl": ttl}
        return [{"PK": f"CKRUN#{owner}#{row.run_id}", "SK": f"{row.thread_id}{S}{row.ns}{S}{row.checkpoint_id}",
                 **extra}]

    @staticmethod
    def _run_marker(owner: str, thread_id: str, part: dict[str, Any]) -> dict[str, str] | None:
        """The key of the run marker of the checkpoint whose (first) part this is, if it names a run."""
        if "run_id" not in part:
            return None
        _, ns, checkpoint_id, _ = part["SK"].split(S)
        return {"PK": f"CKRUN#{owner}#{part['run_id']}", "SK": f"{thread_id}{S}{ns}{S}{checkpoint_id}"}

    # The thread item: liveness, activity, expiry.

    def _activity(self, owner: str, thread_id: str, now: datetime, expires_at: datetime | None,
                  added: int) -> Activity:
        """The thread's update (created or refreshed), the TTL its rows get, the thread's generation,
        whether it is new, and its checkpoint count after (as read: a race may make it one off).

        An expired thread's old rows are deleted first, and the rows' TTL is moved forward when half its
        margin has passed. The generation names this life of the thread: it changes only when the thread
        is deleted (or expires) and begins again."""
        current = self._dynamo.get(self._table, self._thread_key(owner, thread_id))
        if current is not None and "expires_at" in current and current["expires_at"] <= instant_text(now):
            self.delete_thread(owner, thread_id)
            current = None
        generation = str(current["generation"]) if current is not None and "generation" in current else str(
            uuid.uuid4())
        values: dict[str, Any] = {":now": instant_text(now), ":n": added, ":gen": generation}
        count_before = 0 if current is None else int(current.get("checkpoint_count", 0))
        clause = "SET updated_at = :now, generation = if_not_exists(generation, :gen)"
        rows_ttl: int | None = None
        if expires_at is None:
            clause += " REMOVE expires_at, #ttl, rows_ttl"
        else:
            rows_ttl = int(current["rows_ttl"]) if current is not None and "rows_ttl" in current else None
            margin = _epoch(expires_at) - _epoch(now)
            if rows_ttl is None or rows_ttl < _epoch(expires_at) + margin // 2:
                rows_ttl = _epoch(expires_at) + margin
                if current is not None:
                    self._restamp(owner, thread_id, rows_ttl)
            clause += ", expires_at = :exp, #ttl = :ttl, rows_ttl = :rows"
            values.update({":exp": instant_text(expires_at), ":ttl": _epoch(expires_at), ":rows": rows_ttl})
        update = {"TableName": self._table, "Key": self._thread_key(owner, thread_id),
                  "UpdateExpression": clause + " ADD checkpoint_count :n", "ExpressionAttributeValues": values,
                  "ExpressionAttributeNames": {"#ttl": "ttl"}}
        return Activity(update, rows_ttl, generation, current is None, count_before + added)

    def _restamp(self, owner: str, thread_id: str, ttl: int) -> None:
        """Move every row's TTL (and its runs') forward: amortised, once per half window of activity."""
        items = list(self._dynamo.query(self._table, KeyConditionExpression="PK = :pk",
                                        ExpressionAttributeValues={":pk": self._pk(owner, thread_id)}))
        runs = [row for group in grouped(iter(i for i in items if i["SK"].startswith("C" + S)))
                if (row := checkpoint_row(thread_id, group)) is not None]
        moved = [{**i, "ttl": ttl} for i in items]
        moved += [item for row in runs for item in self._run_item(owner, row, ttl)]
        self._dynamo.batch_write(self._table, puts=moved)

    @staticmethod
    def _fits(items: list[dict[str, Any]]) -> bool:
        """Whether items (with the thread's update) fit one TransactWriteItems."""
        return len(items) < TRANSACTION_ITEMS and sum(
            len(bytes(i.get("data", b""))) + 1024 for i in items) < TRANSACTION_BYTES

    def _commit(self, items: list[dict[str, Any]], last: list[dict[str, Any]], update: dict[str, Any]) -> None:
        """items, then last (what makes them visible), then the thread: one transaction when it fits."""
        everything = items + last
        if self._fits(everything):
            self._dynamo.transact([*({"Put": {"TableName": self._table, "Item": i}} for i in everything),
                                   {"Update": update}])
            return
        self._dynamo.batch_write(self._table, puts=items)
        self._dynamo.batch_write(self._table, puts=last)
        self._dynamo.transact([{"Update": update}])

    def _put_known_thread(self, owner: str, row: CheckpointRow, blobs: list[BlobRow], chunks: Mapping[str, bytes],
                          now: datetime) -> int | None:
        """put without reading the thread first: for a thread without expiry whose generation and count this
        process knows. The thread's update in the transaction is conditioned on that generation and on no
        expiry, so a thread begun again, deleted or given an expiry since makes it write nothing (None: put
        the long way, which reads the thread). The count is the one last read plus this process's puts
        since, read again every RECOUNT puts (another process's puts make it low until then: keep_last
        prunes that much later)."""
        thread = (owner, row.thread_id)
        counted = self._counts.get(thread)
        if thread not in self._held or counted is None or counted[1] >= RECOUNT:
            return None
        generation, new = known_unheld(self._held, thread, chunks)
        items = self._chunk_items(owner, row.thread_id, new, None)
        items += [i for blob in blobs for i in self._blob_items(owner, blob, None)] + self._run_item(owner, row, None)
        items += self._checkpoint_items(owner, row, None)
        update = {"TableName": self._table, "Key": self._thread_key(owner, row.thread_id),
                  "UpdateExpression": "SET updated_at = :now ADD checkpoint_count :n",
                  "ConditionExpression": "generation = :gen AND attribute_not_exists(expires_at)",
                  "ExpressionAttributeValues": {":now": instant_text(now), ":n": 1, ":gen": generation}}
        if not self._fits(items) or not self._dynamo.transact_if(
                [*({"Put": {"TableName": self._table, "Item": i}} for i in items), {"Update": update}]):
            return None
        remember(self._held, thread, generation, chunks)
        self._noted(owner, row, (counted[0] + 1, counted[1] + 1))
        return counted[0] + 1

    def _noted(self, owner: str, row: CheckpointRow, count: tuple[int, int]) -> None:
        """Note the checkpoint put last in its namespace (see snapshot) and the thread's count."""
        _bounded(self._last, (owner, row.thread_id, row.ns), (row.checkpoint_id, dict(row.versions)))
        _bounded(self._counts, (owner, row.thread_id), count)

    # CheckpointRecords.

    def put(self, owner: str, row: CheckpointRow, blobs: list[BlobRow], chunks: Mapping[str, bytes], now: datetime,
            expires_at: datetime | None) -> int:
        """New pieces, the blobs and the run's marker, then the checkpoint's parts, then the thread's activity."""
        if expires_at is None:
            count = self._put_known_thread(owner, row, blobs, chunks, now)
            if count is not None:
                return count
        # The count is of puts: a checkpoint put twice counts twice, so keep_last may prune a little early.
        activity = self._activity(owner, row.thread_id, now, expires_at, 1)
        ttl = activity.rows_ttl
        items = self._chunk_items(owner, row.thread_id, self._new_chunks(
            owner, row.thread_id, chunks, activity.generation, activity.fresh), ttl)
        items += [i for blob in blobs for i in self._blob_items(owner, blob, ttl)] + self._run_item(owner, row, ttl)
        self._commit(items, self._checkpoint_items(owner, row, ttl), activity.update)
        remember(self._held, (owner, row.thread_id), activity.generation, chunks)
        self._noted(owner, row, (activity.checkpoints, 0))
        return activity.checkpoints

    def put_writes(self, owner: str, rows: list[WriteRow], replace: bool, now: datetime,
                   expires_at: datetime | None) -> None:
        """Pending writes (kept as first stored unless replace), and the thread's activity when it expires.

        A thread that never expires needs nothing of its thread item here (its checkpoint put recorded the
        activity; writes are read only through their checkpoint): new writes are one TransactWriteItems (one
        PutItem when they are one item), each Put conditioned on its item being absent, and only when one is
        not are the stored ones read.
        """
        if expires_at is None:
            items = [i for row in rows for i in self._write_items(owner, row, None)]
            if len(items) == 1:  # a PutItem is atomic by itself, and half a transaction's price
                with contextlib.suppress(ConditionFailedError):  # stored before: the first one stored is kept
                    self._dynamo.put(self._table, items[0], None if replace else "attribute_not_exists(PK)")
                return
            condition = {} if replace else {"ConditionExpression": "attribute_not_exists(PK)"}
            if self._fits(items) and self._dynamo.transact_if(
                    [{"Put": {"TableName": self._table, "Item": i, **condition}} for i in items]):
                return
        activity = self._activity(owner, rows[0].thread_id, now, expires_at, 0)
        update, ttl = activity.update, activity.rows_ttl
        if not replace:
            first = rows[0]
            stored = {(w.task_id, w.idx) for w in self.writes(owner, first.thread_id, first.ns, first.checkpoint_id)}
            rows = [w for w in rows if (w.task_id, w.idx) not in stored]
        self._commit([i for row in rows for i in self._write_items(owner, row, ttl)], [], update)

    def insert_thread(self, owner: str, thread_id: str, rows: ThreadRows, now: datetime,
                      expires_at: datetime | None) -> None:
        """The rows under thread_id, then the thread item, which makes them visible."""
        activity = self._activity(owner, thread_id, now, expires_at, len(rows.checkpoints))
        update, ttl = activity.update, activity.rows_ttl
        items = self._chunk_items(owner, thread_id, rows.chunks, ttl)
        blobs = [replace(x, thread_id=thread_id) for x in rows.blobs]
        writes = [replace(x, thread_id=thread_id) for x in rows.writes]
        copies = [replace(x, thread_id=thread_id) for x in rows.checkpoints]
        items += [i for x in blobs for i in self._blob_items(owner, x, ttl)]
        items += [i for x in writes for i in self._write_items(owner, x, ttl)]
        items += [i for x in copies for i in self._checkpoint_items(owner, x, ttl) + self._run_item(owner, x, ttl)]
        self._dynamo.batch_write(self._table, puts=items)
        self._dynamo.transact([{"Update": update}])

    def delete_thread(self, owner: str, thread_id: str) -> None:
        """The thread item first (the rest is invisible from then on), then its rows and run markers."""
        self._held.pop((owner, thread_id), None)
        self._dynamo.batch_write(self._table, deletes=[self._thread_key(owner, thread_id)])
        items = list(self._query(self._pk(owner, thread_id), ""))
        markers = [self._run_marker(owner, thread_id, i) for i in items if _first_checkpoint_part(i)]
        self._dynamo.batch_write(self._table, deletes=[{"PK": i["PK"], "SK": i["SK"]} for i in items]
                                 + [m for m in markers if m is not None])

    def delete_checkpoints(self, owner: str, thread_id: str, ns: str, checkpoint_ids: Sequence[str],
                           blobs: Sequence[tuple[str, str]]) -> None:
        """The checkpoints' parts first (they vanish whole: a part short reads as absent), their writes and run
        markers, the blobs, and the thread's count."""
        pk, ids, values = self._pk(owner, thread_id), set(checkpoint_ids), set(blobs)
        # One Query per kind of row in the namespace, not one per checkpoint or value.
        found = list(self._query(pk, f"C{S}{ns}{S}", ProjectionExpression="PK, SK, run_id"))
        doomed = [i for i in found if i["SK"].split(S)[2] in ids]
        markers = [self._run_marker(owner, thread_id, i) for i in doomed if _first_checkpoint_part(i)]
        doomed += [i for i in self._query(pk, f"W{S}{ns}{S}", ProjectionExpression="PK, SK")
                   if i["SK"].split(S)[2] in ids]
        doomed += [i for i in self._query(pk, f"B{S}{ns}{S}", ProjectionExpression="PK, SK")
                   if tuple(i["SK"].split(S)[2:4]) in values]
        self._dynamo.batch_write(self._table, deletes=[{"PK": i["PK"], "SK": i["SK"]} for i in doomed]
                                 + [m for m in markers if m is not None])
        self._dynamo.update_if(self._table, self._thread_key(owner, thread_id), "ADD checkpoint_count :n", {},
                               {":n": -len(checkpoint_ids)}, "attribute_exists(PK)")

    def purge_expired(self, now: datetime) -> int:
        """Nothing to do: DynamoDB's TTL deletes expired threads and their rows; reads already ignore them."""
        return 0


def _first_checkpoint_part(item: dict[str, Any]) -> bool:
    """Whether an item is the first part of a checkpoint (every part carries the checkpoint's attributes)."""
    return bool(item["SK"].startswith("C" + S) and item["SK"].endswith(S + "000"))


def _bounded(kept: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    """Keep value under key, newest last, forgetting the oldest past HELD_THREADS."""
    kept.pop(key, None)
    kept[key] = value
    while len(kept) > HELD_THREADS:
        kept.popitem(last=False)
