"""Long-term memory on SQL: memory_items, one row per (owner, namespace text, key)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, String, bindparam, case, delete, func, literal, literal_column, or_, select, update

from alexdb.adapters.sql.engine import UnitOfWork
from alexdb.adapters.sql.schema import memory_items as m
from alexdb.adapters.sql.upsert import insert_for
from alexdb.domain.memories import MemoryItem, namespace_of, namespace_text

PAGE = 500


def _item(row: Row[Any]) -> MemoryItem:
    return MemoryItem(namespace_of(row.namespace), row.key, json.loads(row.value), row.created_at, row.updated_at,
                      row.expires_at, None if row.ttl_seconds is None else timedelta(seconds=row.ttl_seconds),
                      json.loads(row.vectors) if row.vectors else {})


def _live(now: datetime) -> Any:
    return or_(m.c.expires_at.is_(None), m.c.expires_at > now)


class SqlMemories:
    """MemoryRecords on SQLite and PostgreSQL."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def get(self, owner: str, namespace: str, key: str, now: datetime) -> MemoryItem | None:
        """One live item."""
        with self._uow.begin() as conn:
            row = conn.execute(select(m).where(m.c.owner == owner, m.c.namespace == namespace, m.c.key == key,
                                               _live(now))).first()
        return None if row is None else _item(row)

    def put(self, owner: str, item: MemoryItem, now: datetime) -> MemoryItem:
        """Upsert; a live row's created_at is kept (an expired one is replaced whole)."""
        values = {"owner": owner, "namespace": namespace_text(item.namespace), "key": item.key,
                  "value": json.dumps(item.value, separators=(",", ":"), ensure_ascii=False),
                  "vectors": json.dumps(item.vectors) if item.vectors else None, "created_at": item.created_at,
                  "updated_at": item.updated_at, "expires_at": item.expires_at,
                  "ttl_seconds": None if item.ttl is None else item.ttl.total_seconds()}
        with self._uow.begin(write=True) as conn:
            statement = insert_for(conn, m).values(values)
            statement = statement.on_conflict_do_update(
                index_elements=[m.c.owner, m.c.namespace, m.c.key],
                set_={**{k: statement.excluded[k] for k in values if k not in ("owner", "namespace", "key")},
                      # the row replaced is live: the item began then; an expired one is a new item
                      "created_at": case((_live(now), m.c.created_at), else_=statement.excluded.created_at)})
            created = conn.execute(statement.returning(m.c.created_at)).scalar_one()
        return MemoryItem(**{**item.__dict__, "created_at": created})

    def delete(self, owner: str, namespace: str, key: str) -> None:
        """Delete an item."""
        with self._uow.begin(write=True) as conn:
            conn.execute(delete(m).where(m.c.owner == owner, m.c.namespace == namespace, m.c.key == key))

    def under(self, owner: str, prefix: str, now: datetime) -> Iterator[MemoryItem]:
        """Live items under a namespace prefix, by namespace and key, PAGE rows per query (keyset)."""
        statement = select(m).where(m.c.owner == owner, _live(now),
                                    # not LIKE: SQLite's ignores case. The 1 is SQL text: a parameter would
                                    # reach PostgreSQL through the Data API as a bigint, which substr refuses.
                                    func.substr(m.c.namespace, literal_column("1"),
                                                func.length(literal(prefix, String))) == prefix)
        statement = statement.order_by(m.c.namespace, m.c.key).limit(PAGE)
        after: tuple[str, str] | None = None
        while True:
            page = statement if after is None else statement.where(
                or_(m.c.namespace > after[0], (m.c.namespace == after[0]) & (m.c.key > after[1])))
            with self._uow.begin() as conn:
                rows = conn.execute(page).all()
            yield from (_item(row) for row in rows)
            if len(rows) < PAGE:
                return
            after = (rows[-1].namespace, rows[-1].key)

    def namespaces(self, owner: str, now: datetime) -> list[str]:
        """Every namespace holding a live item."""
        with self._uow.begin() as conn:
            return list(conn.execute(select(m.c.namespace).where(m.c.owner == owner, _live(now)).distinct()).scalars())

    def refresh(self, owner: str, items: Sequence[MemoryItem]) -> None:
        """New expiries, in one transaction."""
        if not items:
            return
        with self._uow.begin(write=True) as conn:
            conn.execute(update(m).where(m.c.owner == bindparam("o"), m.c.namespace == bindparam("ns"),
                                         m.c.key == bindparam("k")).values(expires_at=bindparam("until")),
                         [{"o": owner, "ns": namespace_text(i.namespace), "k": i.key, "until": i.expires_at}
                          for i in items])

    def purge_expired(self, now: datetime) -> int:
        """Delete expired items; how many."""
        with self._uow.begin(write=True) as conn:
            return int(conn.execute(delete(m).where(m.c.expires_at <= now)).rowcount)
