"""The SQL of adapters/sql/checkpoints.py, compiled once per dialect (bulk.PreparedStatement)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Dialect, bindparam, case, delete, or_, select, union_all
from sqlalchemy.dialects import postgresql, sqlite

from alexdb.adapters.sql.bulk import PreparedStatement
from alexdb.adapters.sql.schema import (
    checkpoint_blobs,
    checkpoint_chunks,
    checkpoint_threads,
    checkpoint_writes,
    checkpoints,
)

HELD_NAMES = 100  # piece names asked per query when a process first writes to a thread
t, c, b, w, k = checkpoint_threads, checkpoints, checkpoint_blobs, checkpoint_writes, checkpoint_chunks


def live(owner: str, now: datetime) -> Any:
    """The owner's threads that have not expired (a subquery to join on)."""
    return select(t.c.thread_id).where(t.c.owner == owner, or_(t.c.expires_at.is_(None), t.c.expires_at > now))


def checkpoint_select(owner: str, thread_id: str, ns: str, checkpoint_id: str | None, now: datetime) -> Any:
    """One checkpoint of a live thread, or the namespace's newest."""
    statement = select(c).where(c.c.owner == owner, c.c.thread_id == thread_id, c.c.ns == ns,
                                c.c.thread_id.in_(live(owner, now).where(t.c.thread_id == thread_id)))
    if checkpoint_id is None:
        return statement.order_by(c.c.checkpoint_id.desc()).limit(1)
    return statement.where(c.c.checkpoint_id == checkpoint_id)


def writes_select(owner: str, thread_id: str, ns: str, checkpoint_id: str) -> Any:
    return select(w).where(w.c.owner == owner, w.c.thread_id == thread_id, w.c.ns == ns,
                           w.c.checkpoint_id == checkpoint_id)


def param(column: Column[Any], name: str | None = None) -> Any:
    return bindparam(name or column.name, type_=column.type)


def prepared(dialect: Dialect) -> dict[str, PreparedStatement]:
    """The statements of every checkpoint put, compiled once (see bulk.PreparedStatement: for a write
    of a few rows, SQLAlchemy's per-call statement building costs more than the SQL)."""
    module: Any = postgresql if dialect.name == "postgresql" else sqlite
    new_thread = module.insert(t).values(
        owner=param(t.c.owner), thread_id=param(t.c.thread_id), checkpoint_count=param(t.c.checkpoint_count),
        updated_at=param(t.c.updated_at), expires_at=param(t.c.expires_at), generation=param(t.c.generation))
    # A thread that had expired begins again: a new generation and a count of what this write adds.
    expired = t.c.expires_at <= param(t.c.expires_at, "now")
    thread = new_thread.on_conflict_do_update(
        index_elements=[t.c.owner, t.c.thread_id],
        set_={"checkpoint_count": case((expired, param(t.c.checkpoint_count)),
                                       else_=t.c.checkpoint_count + param(t.c.checkpoint_count)),
              "generation": case((expired, param(t.c.generation)), else_=t.c.generation),
              "updated_at": param(t.c.updated_at), "expires_at": param(t.c.expires_at)},
    ).returning(t.c.checkpoint_count, t.c.generation)
    columns = [column for column in c.c]
    checkpoint = module.insert(c).values({column.name: param(column) for column in columns})
    checkpoint = checkpoint.on_conflict_do_update(
        index_elements=[c.c.owner, c.c.thread_id, c.c.ns, c.c.checkpoint_id],
        set_={column.name: param(column) for column in columns
              if column.name not in ("owner", "thread_id", "ns", "checkpoint_id")})
    ensure = new_thread.on_conflict_do_nothing()
    write = module.insert(w).values({column.name: param(column) for column in w.c})
    keep = write.on_conflict_do_nothing()
    replace = write.on_conflict_do_update(
        index_elements=[w.c.owner, w.c.thread_id, w.c.ns, w.c.checkpoint_id, w.c.task_id, w.c.idx],
        set_={name: param(w.c[name]) for name in ("channel", "type", "data", "task_path")})
    blob = module.insert(b).values({column.name: param(column) for column in b.c}).on_conflict_do_nothing()
    chunk = module.insert(k).values({column.name: param(column) for column in k.c}).on_conflict_do_nothing()
    owner, thread_id, ns, now = param(c.c.owner), param(c.c.thread_id), param(c.c.ns), param(t.c.updated_at, "now")
    newest = checkpoint_select(owner, thread_id, ns, None, now)
    named = checkpoint_select(owner, thread_id, ns, param(c.c.checkpoint_id), now)
    writes = writes_select(owner, thread_id, ns, param(w.c.checkpoint_id))
    # A fixed number of names (unused ones empty, which no piece is named) so it is compiled once.
    held = select(k.c.name).where(k.c.owner == param(k.c.owner), k.c.thread_id == param(k.c.thread_id),
                                  k.c.name.in_([bindparam(f"name{i}", type_=k.c.name.type) for i in range(HELD_NAMES)]))
    clear = {f"clear {table.name}": delete(table).where(table.c.owner == param(table.c.owner),
                                                       table.c.thread_id == param(table.c.thread_id))
             for table in (c, b, w, k)}
    return {name: PreparedStatement.compile(dialect, statement)
            for name, statement in (*clear.items(), ("thread", thread), ("checkpoint", checkpoint),
                                    ("ensure thread", ensure), ("keep write", keep), ("replace write", replace),
                                    ("blob", blob), ("chunk", chunk), ("newest", newest),
                                    ("named", named), ("writes", writes), ("held names", held))}


def blobs_statement(dialect: Dialect, count: int) -> PreparedStatement:
    """The blobs of count (channel, version) keys of a namespace, compiled once per count: one primary-key
    lookup per key (SQLite scans the namespace for an OR of keys, and an IN list would be expanded per call)."""
    owner, thread_id, ns = param(b.c.owner), param(b.c.thread_id), param(b.c.ns)
    return PreparedStatement.compile(dialect, union_all(*(select(b).where(
        b.c.owner == owner, b.c.thread_id == thread_id, b.c.ns == ns,
        b.c.channel == bindparam(f"channel{i}", type_=b.c.channel.type),
        b.c.version == bindparam(f"version{i}", type_=b.c.version.type)) for i in range(count))))
