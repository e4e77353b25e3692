"""Agent checkpoints on DynamoDB, the reads: the item layout is in checkpoints.py, which writes them."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from alexdb.adapters.dynamodb.checkpoint_items import blob_row, checkpoint_row, grouped, write_row
from alexdb.adapters.dynamodb.client import READ_POOL, Dynamo
from alexdb.domain.checkpoints import SEPARATOR as S
from alexdb.domain.checkpoints import BlobRow, CheckpointRow, Snapshot, ThreadRows, WriteRow
from alexdb.domain.instants import instant_text


class DynamoCheckpointReads:
    """The reads of CheckpointRecords on DynamoDB (DynamoCheckpoints adds the writes)."""

    def __init__(self, dynamo: Dynamo, table: str) -> None:
        self._dynamo, self._table = dynamo, table
        # (owner, thread, namespace) -> the id and versions of the checkpoint this process put there last:
        # what a snapshot reads beside finding the newest (see snapshot).
        self._last: OrderedDict[tuple[str, str, str], tuple[str, dict[str, str]]] = OrderedDict()

    # Keys and the thread item.

    def _live(self, owner: str, thread_id: str, now: datetime) -> dict[str, Any] | None:
        item = self._dynamo.get(self._table, self._thread_key(owner, thread_id))
        return item if _alive(item, now) else None

    def _thread_key(self, owner: str, thread_id: str) -> dict[str, str]:
        return {"PK": f"CKOWNER#{owner}", "SK": f"THREAD#{thread_id}"}

    @staticmethod
    def _pk(owner: str, thread_id: str) -> str:
        return f"CKTHREAD#{owner}#{thread_id}"

    # CheckpointRecords' reads.

    def _query(self, pk: str, prefix: str, newest_first: bool = False, upto: str | None = None,
               **request: Any) -> Iterator[dict[str, Any]]:
        condition, values = "PK = :pk AND begins_with(SK, :prefix)", {":pk": pk, ":prefix": prefix}
        if not prefix:  # the whole partition (a key condition cannot name an empty prefix)
            condition, values = "PK = :pk", {":pk": pk}
        if upto is not None:
            condition, values = "PK = :pk AND SK BETWEEN :prefix AND :upto", {":pk": pk, ":prefix": prefix,
                                                                               ":upto": upto}
        return self._dynamo.query(self._table, ConsistentRead=True, ScanIndexForward=not newest_first,
                                  KeyConditionExpression=condition, ExpressionAttributeValues=values, **request)

    def checkpoint(self, owner: str, thread_id: str, ns: str, checkpoint_id: str | None,
                   now: datetime) -> CheckpointRow | None:
        """One checkpoint of a live thread, or the namespace's newest complete one."""
        if self._live(owner, thread_id, now) is None:
            return None
        return self._checkpoint(owner, thread_id, ns, checkpoint_id)

    def snapshot(self, owner: str, thread_id: str, ns: str, checkpoint_id: str | None,
                 now: datetime) -> Snapshot | None:
        """A checkpoint, its values and its writes in two round trips, not four: the thread's GetItem beside
        the checkpoint's Query, then the values' BatchGetItem beside the writes' Query.

        One round trip of three requests when this process put the checkpoint found (as an agent reading back
        its thread does): the values and writes of the checkpoint it put last are read beside finding the
        newest, and used only if that is the one found; the thread item comes in the values' BatchGetItem.
        Values are written once per (channel, version), so reading them first reads what they are when the
        checkpoint is found."""
        guess = self._last.get((owner, thread_id, ns))
        if guess is not None and checkpoint_id in (None, guess[0]):
            thread_and_blobs = READ_POOL.submit(self._thread_and_blobs, owner, thread_id, ns, list(guess[1].items()))
            writes = READ_POOL.submit(self.writes, owner, thread_id, ns, guess[0])
            found = self._checkpoint(owner, thread_id, ns, checkpoint_id)
            thread, blobs = thread_and_blobs.result()
            if not _alive(thread, now) or found is None:
                return None
            if guess == (found.checkpoint_id, found.versions):
                return Snapshot(found, blobs, writes.result())
        else:
            live = READ_POOL.submit(self._live, owner, thread_id, now)
            found = self._checkpoint(owner, thread_id, ns, checkpoint_id)
            if live.result() is None or found is None:
                return None
        later_writes = READ_POOL.submit(self.writes, owner, thread_id, ns, found.checkpoint_id)
        blobs = self.blobs(owner, thread_id, ns, list(found.versions.items()))
        return Snapshot(found, blobs, later_writes.result())

    def _checkpoint(self, owner: str, thread_id: str, ns: str, checkpoint_id: str | None) -> CheckpointRow | None:
        prefix = f"C{S}{ns}{S}" + ("" if checkpoint_id is None else f"{checkpoint_id}{S}")
        for group in grouped(self._small_pages(self._pk(owner, thread_id), prefix)):
            row = checkpoint_row(thread_id, group)
            if row is not None:
                return row
        return None

    def _small_pages(self, pk: str, prefix: str) -> Iterator[dict[str, Any]]:
        """A prefix's items newest first, a few per Query: the newest checkpoint is a part or two, and a
        full page would read up to 1 MB of older ones."""
        start: dict[str, Any] | None = None
        while True:
            items, start = self._dynamo.query_page(
                self._table, 4, start, ConsistentRead=True, ScanIndexForward=False,
                KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
                ExpressionAttributeValues={":pk": pk, ":prefix": prefix})
            yield from items
            if start is None:
                return

    def checkpoints(self, owner: str, thread_id: str | None, ns: str | None, before: str | None,
                    now: datetime) -> Iterator[CheckpointRow]:
        """Newest first within each namespace of each live thread, as the queries page."""
        threads = [thread_id] if thread_id is not None else [
            item["SK"].removeprefix("THREAD#") for item in self._dynamo.query(
                self._table, KeyConditionExpression="PK = :pk", ExpressionAttributeValues={
                    ":pk": f"CKOWNER#{owner}"})]
        for thread in threads:
            if self._live(owner, thread, now) is None:
                continue
            prefix = f"C{S}" + ("" if ns is None else f"{ns}{S}")
            upto = None if before is None or ns is None else f"{prefix}{before}"
            for group in grouped(self._query(self._pk(owner, thread), prefix, newest_first=True, upto=upto)):
                row = checkpoint_row(thread, group)
                if row is not None and (before is None or row.checkpoint_id < before):
                    yield row

    def blobs(self, owner: str, thread_id: str, ns: str, keys: Sequence[tuple[str, str]]) -> list[BlobRow]:
        """One BatchGetItem for the first parts, a Query for any value of more."""
        return self._thread_and_blobs(owner, thread_id, ns, keys, with_thread=False)[1]

    def _thread_and_blobs(self, owner: str, thread_id: str, ns: str, keys: Sequence[tuple[str, str]],
                          with_thread: bool = True) -> tuple[dict[str, Any] | None, list[BlobRow]]:
        """The thread item (None: absent, or not asked) and blobs, their keys in one BatchGetItem."""
        pk, thread_key = self._pk(owner, thread_id), self._thread_key(owner, thread_id)
        firsts = self._dynamo.batch_get(self._table, ([thread_key] if with_thread else []) + [
            {"PK": pk, "SK": f"B{S}{ns}{S}{c}{S}{v}{S}000"} for c, v in keys])
        thread = next((i for i in firsts if i["PK"] == thread_key["PK"]), None)
        found = []
        for first in firsts:
            if first is thread:
                continue
            group = [first] if int(first["parts"]) == 1 else list(
                self._query(pk, first["SK"].rsplit(S, 1)[0] + S))
            row = blob_row(thread_id, group)
            if row is not None:
                found.append(row)
        return thread, found

    def chunks(self, owner: str, thread_id: str, names: Sequence[str]) -> dict[str, bytes]:
        """Pieces by name (BatchGetItem, 100 keys a call)."""
        pk = self._pk(owner, thread_id)
        return {i["SK"].split(S, 1)[1]: bytes(i["data"])
                for i in self._dynamo.batch_get(self._table, [{"PK": pk, "SK": f"K{S}{name}"} for name in names])}

    def writes(self, owner: str, thread_id: str, ns: str, checkpoint_id: str) -> list[WriteRow]:
        """A checkpoint's pending writes (one Query)."""
        groups = grouped(self._query(self._pk(owner, thread_id), f"W{S}{ns}{S}{checkpoint_id}{S}"))
        return [row for group in groups if (row := write_row(thread_id, group)) is not None]

    def thread(self, owner: str, thread_id: str, now: datetime) -> ThreadRows:
        """Everything a live thread holds (one Query of its partition)."""
        if self._live(owner, thread_id, now) is None:
            return ThreadRows([], [], [])
        rows = ThreadRows([], [], [])
        items = list(self._query(self._pk(owner, thread_id), ""))
        rows.chunks.update((i["SK"].split(S, 1)[1], bytes(i["data"])) for i in items if i["SK"].startswith("K" + S))
        for group in grouped(iter(i for i in items if not i["SK"].startswith("K" + S))):
            kind = group[0]["SK"][0]
            if kind == "C" and (cp := checkpoint_row(thread_id, group)) is not None:
                rows.checkpoints.append(cp)
            elif kind == "B" and (blob := blob_row(thread_id, group)) is not None:
                rows.blobs.append(blob)
            elif kind == "W" and (write := write_row(thread_id, group)) is not None:
                rows.writes.append(write)
        return rows

    def blob_keys(self, owner: str, thread_id: str, ns: str) -> list[tuple[str, str]]:
        """Every (channel, version) of a namespace (keys only)."""
        found = []
        for item in self._query(self._pk(owner, thread_id), f"B{S}{ns}{S}", ProjectionExpression="SK"):
            _, _, channel, version, part = item["SK"].split(S)
            if part == "000":
                found.append((channel, version))
        return found

    def run_checkpoints(self, owner: str, run_ids: Sequence[str]) -> list[tuple[str, str, str]]:
        """One Query per run of its markers."""
        found = []
        for run_id in run_ids:
            for item in self._dynamo.query(self._table, KeyConditionExpression="PK = :pk",
                                           ExpressionAttributeValues={":pk": f"CKRUN#{owner}#{run_id}"}):
                thread_id, ns, checkpoint_id = item["SK"].split(S)
                found.append((thread_id, ns, checkpoint_id))
        return found


def _alive(thread: dict[str, Any] | None, now: datetime) -> bool:
    """Whether a thread item is there and has not expired."""
    return thread is not None and not ("expires_at" in thread and thread["expires_at"] <= instant_text(now))
