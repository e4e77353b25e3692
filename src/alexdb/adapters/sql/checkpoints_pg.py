"""PostgreSQL's one-statement checkpoint writes, for adapters/sql/checkpoints.py.

On PostgreSQL every statement costs about as much as a small query (a tenth of a millisecond here, for
the server and the driver), so a checkpoint put as a transaction (BEGIN, the thread, its blobs, pieces
and checkpoint, COMMIT) costs several times what the same rows cost as one statement of data-modifying
CTEs, rows given as arrays (unnest). Each statement here is atomic by itself and runs in autocommit; it
writes exactly what the transaction it stands for writes, or (a put) nothing at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from alexdb.domain.checkpoints import BlobRow, CheckpointRow, WriteRow

_WRITE_COLUMNS = "ns, checkpoint_id, task_id, idx, channel, type, data, task_path"
_WRITE_ARRAYS = ("%(ns)s::text[], %(checkpoint_id)s::text[], %(task_id)s::text[], %(idx)s::int[], "
                 "%(channel)s::text[], %(type)s::text[], %(data)s::bytea[], %(task_path)s::text[]")
_PUT_WRITES = f"""
WITH thread AS (
    INSERT INTO checkpoint_threads (owner, thread_id, checkpoint_count, generation, updated_at, expires_at)
    VALUES (%(owner)s, %(thread_id)s, 0, %(generation)s, %(now)s, %(expires_at)s) ON CONFLICT DO NOTHING)
INSERT INTO checkpoint_writes (owner, thread_id, {_WRITE_COLUMNS})
SELECT %(owner)s, %(thread_id)s, w.* FROM unnest({_WRITE_ARRAYS}) AS w({_WRITE_COLUMNS})
ON CONFLICT (owner, thread_id, ns, checkpoint_id, task_id, idx) DO """
KEEP_WRITES = _PUT_WRITES + "NOTHING"
REPLACE_WRITES = _PUT_WRITES + ("UPDATE SET channel = excluded.channel, type = excluded.type, data = excluded.data, "
                                "task_path = excluded.task_path")

# A put to a thread whose generation this process knows and that has not expired: the thread's update
# gates every insert, so a thread begun again, deleted or expired meanwhile makes it write nothing (and
# give no row): the caller then puts through the transaction, which handles those.
PUT_KNOWN_THREAD = """
WITH thread AS (
    UPDATE checkpoint_threads SET checkpoint_count = checkpoint_count + 1, updated_at = %(now)s,
        expires_at = %(expires_at)s
    WHERE owner = %(owner)s AND thread_id = %(thread_id)s AND generation = %(generation)s
        AND (expires_at IS NULL OR expires_at > %(now)s)
    RETURNING checkpoint_count),
blobs AS (
    INSERT INTO checkpoint_blobs (owner, thread_id, ns, channel, version, type, data, chunks)
    SELECT %(owner)s, %(thread_id)s, v.* FROM unnest(%(b_ns)s::text[], %(b_channel)s::text[],
        %(b_version)s::text[], %(b_type)s::text[], %(b_data)s::bytea[], %(b_chunks)s::text[])
        AS v(ns, channel, version, type, data, chunks)
    WHERE EXISTS (SELECT FROM thread)
    ON CONFLICT DO NOTHING),
pieces AS (
    INSERT INTO checkpoint_chunks (owner, thread_id, name, data)
    SELECT %(owner)s, %(thread_id)s, v.* FROM unnest(%(k_name)s::text[], %(k_data)s::bytea[]) AS v(name, data)
    WHERE EXISTS (SELECT FROM thread)
    ON CONFLICT DO NOTHING),
checkpoint AS (
    INSERT INTO checkpoints (owner, thread_id, ns, checkpoint_id, parent_id, run_id, type, checkpoint,
        metadata_type, metadata, versions)
    SELECT %(owner)s, %(thread_id)s, %(ns)s, %(checkpoint_id)s, %(parent_id)s, %(run_id)s, %(type)s,
        %(checkpoint)s, %(metadata_type)s, %(metadata)s, %(versions)s
    WHERE EXISTS (SELECT FROM thread)
    ON CONFLICT (owner, thread_id, ns, checkpoint_id) DO UPDATE SET parent_id = excluded.parent_id,
        run_id = excluded.run_id, type = excluded.type, checkpoint = excluded.checkpoint,
        metadata_type = excluded.metadata_type, metadata = excluded.metadata, versions = excluded.versions)
SELECT checkpoint_count FROM thread
"""


def writes_params(owner: str, rows: Sequence[WriteRow], replace: bool, now: datetime, expires_at: datetime | None,
                  generation: str) -> dict[str, Any]:
    """KEEP_WRITES' or REPLACE_WRITES' parameters. One statement may not update a row twice: of writes to
    the same key the last is kept when replacing (as one statement per write would leave it), the first
    otherwise."""
    chosen: dict[tuple[str, str, str, int], WriteRow] = {}
    for row in rows:
        key = (row.ns, row.checkpoint_id, row.task_id, row.idx)
        if replace or key not in chosen:
            chosen[key] = row
    kept = list(chosen.values())
    return {"owner": owner, "thread_id": rows[0].thread_id, "generation": generation, "now": now,
            "expires_at": expires_at, "ns": [r.ns for r in kept], "checkpoint_id": [r.checkpoint_id for r in kept],
            "task_id": [r.task_id for r in kept], "idx": [r.idx for r in kept], "channel": [r.channel for r in kept],
            "type": [r.value.type for r in kept], "data": [r.value.data for r in kept],
            "task_path": [r.task_path for r in kept]}


def put_params(owner: str, row: CheckpointRow, blobs: Sequence[BlobRow], chunks: Mapping[str, bytes],
               now: datetime, expires_at: datetime | None, generation: str, versions: str) -> dict[str, Any]:
    """PUT_KNOWN_THREAD's parameters (versions: the checkpoint's versions as stored, JSON text)."""
    return {"owner": owner, "thread_id": row.thread_id, "generation": generation, "now": now,
            "expires_at": expires_at, "b_ns": [x.ns for x in blobs], "b_channel": [x.channel for x in blobs],
            "b_version": [x.version for x in blobs], "b_type": [x.value.type for x in blobs],
            "b_data": [x.value.data for x in blobs],
            "b_chunks": [",".join(x.chunks) if x.chunks else None for x in blobs],
            "k_name": list(chunks), "k_data": list(chunks.values()), "ns": row.ns, "checkpoint_id": row.checkpoint_id,
            "parent_id": row.parent_id, "run_id": row.run_id, "type": row.checkpoint.type,
            "checkpoint": row.checkpoint.data, "metadata_type": row.metadata.type, "metadata": row.metadata.data,
            "versions": versions}
