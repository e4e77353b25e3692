"""A LangGraph store (BaseStore) over db.memories, on every alexdb backend: long-term memory per user.

    from alexdb.integrations.langgraph_store import AlexdbStore
    store = AlexdbStore(user_id="user-7", db=db, index={"dims": 1536, "embed": embed, "fields": ["text"]})
    graph = builder.compile(checkpointer=saver, store=store)

A store is bound to one user: its namespaces are that user's alone. Semantic search embeds with the
function or Embeddings the caller passes in index= (nothing is downloaded) and ranks by cosine similarity
over the items under the namespace prefix. ttl= (LangGraph's TTLConfig) sets a default lifetime in minutes
and whether reads refresh it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable

from langgraph.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
    ensure_embeddings,
    get_text_at_path,
    tokenize_path,
    validate_op_namespace,
)

import alexdb
from alexdb.database import Database
from alexdb.domain.memories import MemoryItem, check_ttl_minutes


def _item(item: MemoryItem, score: float | None = None, search: bool = False) -> Item:
    if search:
        return SearchItem(namespace=item.namespace, key=item.key, value=item.value, created_at=item.created_at,
                          updated_at=item.updated_at, score=score)
    return Item(value=item.value, key=item.key, namespace=item.namespace, created_at=item.created_at,
                updated_at=item.updated_at)


class AlexdbStore(BaseStore):
    """BaseStore on db.memories, scoped to one user."""

    supports_ttl = True

    def __init__(self, user_id: str, db: Database | None = None, url: str | None = None, *,
                 index: IndexConfig | None = None, ttl: TTLConfig | None = None) -> None:
        """index: {"dims", "embed", "fields"} for semantic search; ttl: {"default_ttl", "refresh_on_read"}."""
        self.db = db if db is not None else alexdb.connect(url)
        self.user_id = user_id
        self.ttl_config = ttl
        self.index_config = None if index is None else index.copy()
        self.embeddings = None if index is None else ensure_embeddings(index.get("embed"))
        self._fields = [(path, tokenize_path(path) if path != "$" else path)
                        for path in ((index or {}).get("fields") or ["$"])]

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ops in order; reads see the store as it was before the batch's writes, which go last (the last
        write of a key wins), as LangGraph's own stores do."""
        ops = list(ops)
        for op in ops:
            validate_op_namespace(op)
        memories, owner = self.db.memories, self.user_id
        results: list[Result] = []
        writes: dict[tuple[tuple[str, ...], str], PutOp] = {}
        queries = self._query_vectors([op for op in ops if isinstance(op, SearchOp)])
        for op in ops:
            if isinstance(op, GetOp):
                found = memories.get(owner, op.namespace, op.key, refresh=op.refresh_ttl)
                results.append(None if found is None else _item(found))
            elif isinstance(op, SearchOp):
                page = memories.search(owner, op.namespace_prefix, filter=op.filter, limit=op.limit,
                                       offset=op.offset, query=queries.get(op.query or ""), refresh=op.refresh_ttl)
                results.append([_item(item, score, search=True) for item, score in page])
            elif isinstance(op, ListNamespacesOp):
                prefix = suffix = None
                for condition in op.match_conditions or ():
                    if condition.match_type == "prefix":
                        prefix = condition.path
                    else:
                        suffix = condition.path
                results.append(memories.namespaces(owner, prefix=prefix, suffix=suffix, max_depth=op.max_depth,
                                                   limit=op.limit, offset=op.offset))
            elif isinstance(op, PutOp):
                writes[op.namespace, op.key] = op
                results.append(None)
            else:
                raise ValueError(f"unknown operation {op!r}")
        vectors = self._vectors(list(writes.values()))
        for (namespace, key), op in writes.items():
            if op.value is None:
                memories.delete(owner, namespace, key)
            else:
                memories.put(owner, namespace, key, op.value, check_ttl_minutes(op.ttl), vectors.get((namespace, key)))
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """batch, off the event loop."""
        return await asyncio.to_thread(self.batch, list(ops))

    def _query_vectors(self, searches: list[SearchOp]) -> dict[str, list[float]]:
        if self.embeddings is None:
            return {}
        texts = sorted({op.query for op in searches if op.query})
        return {text: self.embeddings.embed_query(text) for text in texts}

    def _vectors(self, puts: list[PutOp]) -> dict[tuple[tuple[str, ...], str], dict[str, list[float]]]:
        """The embedding of every text each put indexes (all of them embedded in one call)."""
        if self.embeddings is None:
            return {}
        places: list[tuple[tuple[tuple[str, ...], str], str]] = []
        texts: list[str] = []
        for op in puts:
            if op.value is None or op.index is False:
                continue
            paths = self._fields if op.index is None else [(path, tokenize_path(path)) for path in op.index]
            for path, tokens in paths:
                found = get_text_at_path(op.value, tokens)
                for number, text in enumerate(found):
                    places.append(((op.namespace, op.key), path if len(found) == 1 else f"{path}.{number}"))
                    texts.append(text)
        vectors: dict[tuple[tuple[str, ...], str], dict[str, list[float]]] = defaultdict(dict)
        if texts:
            for (place, path), vector in zip(places, self.embeddings.embed_documents(texts), strict=True):
                vectors[place][path] = list(vector)
        return vectors
