"""Agent checkpoints on SQL: checkpoint_threads, checkpoints, checkpoint_blobs, checkpoint_writes.

A thread's rows reference its checkpoint_threads row (ON DELETE CASCADE), which carries its expiry, so
deleting or purging a thread is one DELETE. Blobs are inserted ON CONFLICT DO NOTHING: a (channel,
version) is written once, which is what keeps a step's write to what changed.
"""

from __future__ import annotations

import json
import uuid
from collections import OrderedDict, namedtuple
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, tuple_, update

from alexdb.adapters.sql.bulk import PreparedStatement, Transaction
from alexdb.adapters.sql.checkpoint_statements import HELD_NAMES, blobs_statement, live, prepared
from alexdb.adapters.sql.checkpoints_pg import KEEP_WRITES, PUT_KNOWN_THREAD, REPLACE_WRITES, put_params, writes_params
from alexdb.adapters.sql.engine import UnitOfWork
from alexdb.adapters.sql.schema import (
    checkpoint_blobs,
    checkpoint_chunks,
    checkpoint_threads,
    checkpoint_writes,
    checkpoints,
)
from alexdb.adapters.sql.upsert import insert_for
from alexdb.domain.checkpoints import (
    BlobRow,
    CheckpointRow,
    Held,
    Snapshot,
    ThreadRows,
    Typed,
    WriteRow,
    known_unheld,
    remember,
    unheld,
)

PAGE = 100  # checkpoints read per query while a listing is iterated
BLOB_KEYS = 16  # (channel, version) keys per blob read: at most this many statements compiled
# One parameter for a list of names: built per element, an IN of 300 names costs more than the query.
NAMES: Any = bindparam("names", expanding=True)
t, c, b, w, k = checkpoint_threads, checkpoints, checkpoint_blobs, checkpoint_writes, checkpoint_chunks


def _columns(table: Any) -> Any:
    """A named tuple of the table's columns in order, to read a prepared statement's rows by name."""
    return namedtuple(f"{table.name}_row", [column.name for column in table.c])


CheckpointColumns, BlobColumns, WriteColumns = _columns(c), _columns(b), _columns(w)


def _checkpoint(row: Any) -> CheckpointRow:
    return CheckpointRow(row.thread_id, row.ns, row.checkpoint_id, row.parent_id,
                         Typed(row.type, bytes(row.checkpoint)), Typed(row.metadata_type, bytes(row.metadata)),
                         row.run_id, json.loads(row.versions))


def _checkpoint_values(owner: str, row: CheckpointRow) -> dict[str, Any]:
    return {"owner": owner, "thread_id": row.thread_id, "ns": row.ns, "checkpoint_id": row.checkpoint_id,
            "parent_id": row.parent_id, "run_id": row.run_id, "type": row.checkpoint.type,
            "checkpoint": row.checkpoint.data, "metadata_type": row.metadata.type, "metadata": row.metadata.data,
            "versions": json.dumps(row.versions)}


def _blob_values(owner: str, row: BlobRow) -> dict[str, Any]:
    return {"owner": owner, "thread_id": row.thread_id, "ns": row.ns, "channel": row.channel,
            "version": row.version, "type": row.value.type, "data": row.value.data,
            "chunks": ",".join(row.chunks) if row.chunks else None}


def _blob(r: Any) -> BlobRow:
    return BlobRow(r.thread_id, r.ns, r.channel, r.version, Typed(r.type, bytes(r.data)),
                   tuple(r.chunks.split(",")) if r.chunks else ())


def _write_values(owner: str, row: WriteRow) -> dict[str, Any]:
    return {"owner": owner, "thread_id": row.thread_id, "ns": row.ns, "checkpoint_id": row.checkpoint_id,
            "task_id": row.task_id, "idx": row.idx, "channel": row.channel, "type": row.value.type,
            "data": row.value.data, "task_path": row.task_path}


class SqlCheckpoints:
    """CheckpointRecords on SQLite and PostgreSQL."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._held: Held = OrderedDict()  # see _insert_chunks
        self._statements: dict[str, PreparedStatement] = {}

    def _prepared(self, conn: Transaction) -> dict[str, PreparedStatement]:
        if not self._statements:
            self._statements = prepared(self._uow.engine.dialect)
        return self._statements

    def _touch(self, conn: Transaction, owner: str, thread_id: str, now: datetime, expires_at: datetime | None,
               added: int) -> tuple[int, str]:
        """Record activity on the thread (creating it), adding to its checkpoint count; the count after and
        the thread's generation (which names this life of it: a thread deleted or expired and begun again
        has a new one). The upsert locks the thread's row until the transaction ends.

        An expired thread that is written again starts afresh: the upsert gives it the new generation, and
        its old rows go (a thread given the new generation is new or begun again: one statement for the
        common write, four more once in a thread's life).
        """
        fresh = uuid.uuid4().hex
        params = {"owner": owner, "thread_id": thread_id, "now": now, "checkpoint_count": added, "updated_at": now,
                  "expires_at": expires_at, "generation": fresh}
        statements = self._prepared(conn)
        count, generation = statements["thread"].run(conn, params)[0]
        if generation == fresh:
            for table in (c, b, w, k):
                statements[f"clear {table.name}"].run(conn, params)
        return int(count), str(generation)

    def _one_statement(self) -> bool:
        """Whether writes go as one statement (checkpoints_pg): on PostgreSQL, not through the Data API."""
        return self._uow.dialect == "postgresql" and not self._uow.data_api

    def _put_known_thread(self, owner: str, row: CheckpointRow, blobs: list[BlobRow], chunks: Mapping[str, bytes],
                          now: datetime, expires_at: datetime | None) -> int | None:
        """put as one statement, to a thread whose generation this process knows; None (nothing written)
        when it does not, or the thread has changed since (begun again, deleted, expired)."""
        if (owner, row.thread_id) not in self._held:
            return None
        generation, new = known_unheld(self._held, (owner, row.thread_id), chunks)
        params = put_params(owner, row, blobs, new, now, expires_at, generation, json.dumps(row.versions))
        with self._uow.driver(write=True, one_statement=True) as conn, closing(conn.cursor()) as cursor:
            cursor.execute(PUT_KNOWN_THREAD, params)
            found = cursor.fetchall()
        if not found:
            return None
        remember(self._held, (owner, row.thread_id), generation, chunks)
        return int(found[0][0])

    def put(self, owner: str, row: CheckpointRow, blobs: list[BlobRow], chunks: Mapping[str, bytes], now: datetime,
            expires_at: datetime | None) -> int:
        """The checkpoint (replacing one of the same id), its new blobs and pieces (ON CONFLICT DO NOTHING: a
        piece the thread holds is not written again) and the thread's activity: one transaction."""
        if self._one_statement():
            count = self._put_known_thread(owner, row, blobs, chunks, now, expires_at)
            if count is not None:
                return count
        with self._uow.driver(write=True) as conn:
            # The count is of puts: a checkpoint put twice counts twice, so keep_last may prune a little early.
            count, generation = self._touch(conn, owner, row.thread_id, now, expires_at, 1)
            statements = self._prepared(conn)
            statements["blob"].run_many(conn, [_blob_values(owner, x) for x in blobs])
            self._insert_chunks(conn, owner, row.thread_id, generation, chunks)
            statements["checkpoint"].run(conn, _checkpoint_values(owner, row))
        return count

    def put_writes(self, owner: str, rows: list[WriteRow], replace: bool, now: datetime,
                   expires_at: datetime | None) -> None:
        """Pending writes in one transaction (over existing ones when replace)."""
        if not rows:
            return
        if self._one_statement():
            with self._uow.driver(write=True, one_statement=True) as conn, closing(conn.cursor()) as cursor:
                cursor.execute(REPLACE_WRITES if replace else KEEP_WRITES,
                               writes_params(owner, rows, replace, now, expires_at, uuid.uuid4().hex))
            return
        with self._uow.driver(write=True) as conn:
            statements = self._prepared(conn)
            # The thread exists (its checkpoint was put) and its activity is recorded there: this only makes
            # sure of the first, for writes that come before any checkpoint.
            statements["ensure thread"].run(conn, {
                "owner": owner, "thread_id": rows[0].thread_id, "checkpoint_count": 0, "updated_at": now,
                "expires_at": expires_at, "generation": uuid.uuid4().hex})
            statements["replace write" if replace else "keep write"].run_many(
                conn, [_write_values(owner, row) for row in rows])

    def _checkpoint_row(self, conn: Transaction, owner: str, thread_id: str, ns: str, checkpoint_id: str | None,
                        now: datetime) -> CheckpointRow | None:
        statement = self._prepared(conn)["newest" if checkpoint_id is None else "named"]
        rows = statement.run(conn, {"owner": owner, "thread_id": thread_id, "ns": ns,
                                    "checkpoint_id": checkpoint_id, "now": now})
        return _checkpoint(CheckpointColumns(*rows[0])) if rows else None

    def _blob_rows(self, conn: Transaction, owner: str, thread_id: str, ns: str,
                   keys: Sequence[tuple[str, str]]) -> list[BlobRow]:
        """The blobs of these keys, BLOB_KEYS at a time (one statement compiled per count of keys)."""
        found: list[BlobRow] = []
        for start in range(0, len(keys), BLOB_KEYS):
            group = keys[start:start + BLOB_KEYS]
            name = f"blobs {len(group)}"
            statement = self._statements.get(name)
            if statement is None:
                statement = self._statements[name] = blobs_statement(self._uow.engine.dialect, len(group))
            params = {"owner": owner, "thread_id": thread_id, "ns": ns}
            for i, (channel, version) in enumerate(group):
                params[f"channel{i}"], params[f"version{i}"] = channel, version
            found += [_blob(BlobColumns(*row)) for row in statement.run(conn, params)]
        return found

    def _write_rows(self, conn: Transaction, owner: str, thread_id: str, ns: str, checkpoint_id: str) -> list[WriteRow]:
        rows = self._prepared(conn)["writes"].run(conn, {"owner": owner, "thread_id": thread_id, "ns": ns,
                                                         "checkpoint_id": checkpoint_id})
        return [_write(WriteColumns(*row)) for row in rows]

    def checkpoint(self, owner: str, thread_id: str, ns: str, checkpoint_id: str | None,
                   now: datetime) -> CheckpointRow | None:
        """One checkpoint of a live thread, or the namespace's newest."""
        with self._uow.driver() as conn:
            return self._checkpoint_row(conn, owner, thread_id, ns, checkpoint_id, now)

    def snapshot(self, owner: str, thread_id: str, ns: str, checkpoint_id: str | None,
                 now: datetime) -> Snapshot | None:
        """A checkpoint, its values and its writes: three prepared statements in one transaction."""
        with self._uow.driver() as conn:
            found = self._checkpoint_row(conn, owner, thread_id, ns, checkpoint_id, now)
            if found is None:
                return None
            blobs = self._blob_rows(conn, owner, thread_id, ns, list(found.versions.items()))
            writes = self._write_rows(conn, owner, thread_id, ns, found.checkpoint_id)
        return Snapshot(found, blobs, writes)

    def checkpoints(self, owner: str, thread_id: str | None, ns: str | None, before: str | None,
                    now: datetime) -> Iterator[CheckpointRow]:
        """Newest first within each thread and namespace, a page of PAGE at a time (keyset)."""
        statement = select(c).where(c.c.owner == owner, c.c.thread_id.in_(live(owner, now)))
        if thread_id is not None:
            statement = statement.where(c.c.thread_id == thread_id)
        if ns is not None:
            statement = statement.where(c.c.ns == ns)
        if before is not None:
            statement = statement.where(c.c.checkpoint_id < before)
        statement = statement.order_by(c.c.thread_id, c.c.ns, c.c.checkpoint_id.desc()).limit(PAGE)
        after: tuple[str, str, str] | None = None
        while True:
            page = statement
            if after is not None:  # past the last row: a later (thread, ns), or the same one and an older id
                page = page.where(or_(tuple_(c.c.thread_id, c.c.ns) > tuple_(after[0], after[1]),
                                      (c.c.thread_id == after[0]) & (c.c.ns == after[1])
                                      & (c.c.checkpoint_id < after[2])))
            with self._uow.begin() as conn:
                rows = [_checkpoint(row) for row in conn.execute(page)]
            yield from rows
            if len(rows) < PAGE:
                return
            last = rows[-1]
            after = (last.thread_id, last.ns, last.checkpoint_id)

    def _insert_chunks(self, conn: Transaction, owner: str, thread_id: str, generation: str,
                       chunks: Mapping[str, bytes]) -> None:
        """The pieces the thread does not hold yet (domain.checkpoints.unheld): a step sends its few new
        pieces, not every piece again."""
        def stored(names: list[str]) -> set[str]:
            statement, found = self._prepared(conn)["held names"], set[str]()
            for start in range(0, len(names), HELD_NAMES):
                group = names[start:start + HELD_NAMES]
                params = {"owner": owner, "thread_id": thread_id} | {
                    f"name{i}": group[i] if i < len(group) else "" for i in range(HELD_NAMES)}
                found.update(name for (name,) in statement.run(conn, params))
            return found

        new = [{"owner": owner, "thread_id": thread_id, "name": name, "data": data}
               for name, data in unheld(self._held, (owner, thread_id), generation, chunks, stored).items()]
        self._prepared(conn)["chunk"].run_many(conn, new)
        remember(self._held, (owner, thread_id), generation, chunks)

    def chunks(self, owner: str, thread_id: str, names: Sequence[str]) -> dict[str, bytes]:
        """Pieces by name (500 names a query)."""
        found: dict[str, bytes] = {}
        with self._uow.begin() as conn:
            for start in range(0, len(names), 500):
                found.update((name, bytes(data)) for name, data in conn.execute(select(k.c.name, k.c.data).where(
                    k.c.owner == owner, k.c.thread_id == thread_id, k.c.name.in_(NAMES)),
                    {"names": list(names[start:start + 500])}))
        return found

    def blobs(self, owner: str, thread_id: str, ns: str, keys: Sequence[tuple[str, str]]) -> list[BlobRow]:
        """The blobs of these keys that exist."""
        if not keys:
            return []
        with self._uow.driver() as conn:
            return self._blob_rows(conn, owner, thread_id, ns, keys)

    def writes(self, owner: str, thread_id: str, ns: str, checkpoint_id: str) -> list[WriteRow]:
        """A checkpoint's pending writes."""
        with self._uow.driver() as conn:
            return self._write_rows(conn, owner, thread_id, ns, checkpoint_id)

    def thread(self, owner: str, thread_id: str, now: datetime) -> ThreadRows:
        """Everything a live thread holds."""
        with self._uow.begin() as conn:
            alive = conn.execute(live(owner, now).where(t.c.thread_id == thread_id)).first()
            if alive is None:
                return ThreadRows([], [], [])
            cps = conn.execute(select(c).where(c.c.owner == owner, c.c.thread_id == thread_id)).all()
            blobs = conn.execute(select(b).where(b.c.owner == owner, b.c.thread_id == thread_id)).all()
            writes = conn.execute(select(w).where(w.c.owner == owner, w.c.thread_id == thread_id)).all()
            chunks = conn.execute(select(k.c.name, k.c.data).where(k.c.owner == owner,
                                                                   k.c.thread_id == thread_id)).all()
        return ThreadRows([_checkpoint(r) for r in cps], [_blob(r) for r in blobs], [_write(r) for r in writes],
                          {name: bytes(data) for name, data in chunks})

    def insert_thread(self, owner: str, thread_id: str, rows: ThreadRows, now: datetime,
                      expires_at: datetime | None) -> None:
        """A copy's rows under thread_id, in one transaction."""
        with self._uow.begin(write=True) as conn:
            _, generation = self._touch(conn, owner, thread_id, now, expires_at, len(rows.checkpoints))
            self._insert_chunks(conn, owner, thread_id, generation, rows.chunks)
            for table, values in ((c, [_checkpoint_values(owner, x) for x in rows.checkpoints]),
                                  (b, [_blob_values(owner, x) for x in rows.blobs]),
                                  (w, [_write_values(owner, x) for x in rows.writes])):
                if values:
                    conn.execute(insert_for(conn, table), [{**v, "thread_id": thread_id} for v in values])

    def delete_thread(self, owner: str, thread_id: str) -> None:
        """The thread and (by cascade) everything in it."""
        with self._uow.begin(write=True) as conn:
            conn.execute(delete(t).where(t.c.owner == owner, t.c.thread_id == thread_id))

    def delete_checkpoints(self, owner: str, thread_id: str, ns: str, checkpoint_ids: Sequence[str],
                           blobs: Sequence[tuple[str, str]]) -> None:
        """Checkpoints with their writes and the given blobs, and the thread's count, in one transaction."""
        with self._uow.begin(write=True) as conn:
            for start in range(0, len(checkpoint_ids), 500):
                ids = list(checkpoint_ids[start:start + 500])
                conn.execute(delete(w).where(w.c.owner == owner, w.c.thread_id == thread_id, w.c.ns == ns,
                                             w.c.checkpoint_id.in_(ids)))
                removed = conn.execute(delete(c).where(c.c.owner == owner, c.c.thread_id == thread_id,
                                                       c.c.ns == ns, c.c.checkpoint_id.in_(ids))).rowcount
                conn.execute(update(t).where(t.c.owner == owner, t.c.thread_id == thread_id).values(
                    checkpoint_count=t.c.checkpoint_count - removed))
            for start in range(0, len(blobs), 500):
                conn.execute(delete(b).where(b.c.owner == owner, b.c.thread_id == thread_id, b.c.ns == ns,
                                             tuple_(b.c.channel, b.c.version).in_(list(blobs[start:start + 500]))))

    def blob_keys(self, owner: str, thread_id: str, ns: str) -> list[tuple[str, str]]:
        """Every (channel, version) of a namespace."""
        with self._uow.begin() as conn:
            return [(r.channel, r.version) for r in conn.execute(select(b.c.channel, b.c.version).where(
                b.c.owner == owner, b.c.thread_id == thread_id, b.c.ns == ns))]

    def run_checkpoints(self, owner: str, run_ids: Sequence[str]) -> list[tuple[str, str, str]]:
        """The checkpoints of these runs (indexed by owner and run)."""
        with self._uow.begin() as conn:
            return [(r.thread_id, r.ns, r.checkpoint_id) for r in conn.execute(
                select(c.c.thread_id, c.c.ns, c.c.checkpoint_id).where(c.c.owner == owner,
                                                                       c.c.run_id.in_(list(run_ids))))]

    def purge_expired(self, now: datetime) -> int:
        """Expired threads with everything in them; how many threads."""
        with self._uow.begin(write=True) as conn:
            return int(conn.execute(delete(t).where(t.c.expires_at <= now)).rowcount)


def _write(r: Any) -> WriteRow:
    return WriteRow(r.thread_id, r.ns, r.checkpoint_id, r.task_id, r.idx, r.channel, Typed(r.type, bytes(r.data)),
                    r.task_path)
