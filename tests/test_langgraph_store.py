"""The LangGraph store on every backend: LangGraph's own store tests (from the installed langgraph-checkpoint
sdist at test time, with InMemoryStore replaced by AlexdbStore), then scoping, expiry and sizes."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from langgraph.store.base import IndexConfig
from pytest_mock import MockerFixture

from alexdb import Database, ValidationError
from alexdb.integrations.langgraph_store import AlexdbStore
from tests.upstream import load, run_module, source_tests

MODULE = "tests/test_store.py"
SUPPORT = ["tests/__init__.py", "tests/embed_test_utils.py"]


def test_langgraph_own_store_tests_pass_on_alexdb(db: Database, pytestconfig: pytest.Config) -> None:
    root = source_tests(pytestconfig, "langgraph-checkpoint", [MODULE, *SUPPORT])
    module: Any = load(root / MODULE, root)
    embeddings = load(root / "tests/embed_test_utils.py", root)

    class Fresh(AlexdbStore):  # each store its own user: a clean slate, as theirs is
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(user_id=f"user-{uuid.uuid4().hex[:12]}", db=db, **kwargs)

    skipped: list[str] = []
    mocker = MockerFixture(pytestconfig)
    ran, failures = run_module(module, {"InMemoryStore": Fresh},
                               {"fake_embeddings": lambda: embeddings.CharacterEmbeddings(dims=500),
                                "mocker": lambda: mocker}, skipped, after_each=mocker.stopall)
    assert not failures, f"{len(failures)} of {ran} failed:\n" + "\n".join(failures)
    assert ran >= 40 and not skipped, skipped


class Letters:
    """A deterministic embedding: letter counts (nothing downloaded)."""

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.embed_query(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return [float(text.lower().count(chr(ord("a") + n))) for n in range(26)]


def test_semantic_search_ranks_by_similarity_within_the_prefix(db: Database) -> None:
    index: IndexConfig = {"dims": 26, "embed": Letters().embed_documents, "fields": ["text"]}
    store = AlexdbStore(user_id="alice", db=db, index=index)
    store.put(("memories", "goals"), "retire", {"text": "retire early at fifty", "weight": 0.5})
    store.put(("memories", "goals"), "house", {"text": "buy a house"})
    store.put(("memories", "risk"), "bonds", {"text": "prefers bonds"})
    store.put(("other",), "retire", {"text": "retire early at fifty"})
    hits = store.search(("memories",), query="retirement at fifty")
    assert hits[0].key == "retire" and {h.namespace for h in hits} <= {("memories", "goals"),
                                                                                   ("memories", "risk")}
    assert hits[0].score is not None and math.isclose(
        hits[0].score, max(h.score or 0 for h in hits)) and len(hits) == 3
    assert [h.key for h in store.search(("memories",), filter={"weight": {"$gt": 0.4}})] == ["retire"]
    assert store.get(("memories", "goals"), "retire").value["weight"] == 0.5  # type: ignore[union-attr]
    assert store.list_namespaces(prefix=("memories",)) == [("memories", "goals"), ("memories", "risk")]
    assert store.list_namespaces(max_depth=1) == [("memories",), ("other",)]
    store.put(("Memories",), "case", {"text": "upper"})
    store.put(("mem_ories",), "like", {"text": "wildcard"})
    assert {h.namespace for h in store.search(("memories",))} == {("memories", "goals"), ("memories", "risk")}
    assert [h.key for h in store.search(("mem%",))] == []


def test_namespaces_of_one_user_are_never_another_users(db: Database) -> None:
    alice, bob = AlexdbStore(user_id="alice", db=db), AlexdbStore(user_id="bob", db=db)
    alice.put(("prefs",), "theme", {"dark": True})
    assert bob.get(("prefs",), "theme") is None
    assert bob.search(()) == [] and bob.list_namespaces() == []
    bob.delete(("prefs",), "theme")
    assert alice.get(("prefs",), "theme").value == {"dark": True}  # type: ignore[union-attr]


def test_items_expire_and_reads_refresh_them(db: Database) -> None:
    # A 4 s TTL: "dropped" is checked 1 s past its expiry, and "kept" has 1.5 s left for the calls after the
    # second sleep (DynamoDB Local on a loaded machine has taken 0.4 s for one call).
    store = AlexdbStore(user_id="alice", db=db, ttl={"default_ttl": 4 / 60, "refresh_on_read": True})
    store.put(("notes",), "kept", {"n": 1})
    store.put(("notes",), "dropped", {"n": 2})
    store.put(("notes",), "forever", {"n": 3}, ttl=None)
    time.sleep(2.5)
    assert store.get(("notes",), "kept") is not None  # refreshed: 4 s from now
    time.sleep(2.5)
    db.memories.purge_expired()
    assert store.get(("notes",), "dropped", refresh_ttl=False) is None
    assert [i.key for i in store.search(("notes",), refresh_ttl=False)] == ["forever", "kept"]
    created = store.get(("notes",), "kept").created_at  # type: ignore[union-attr]
    store.put(("notes",), "kept", {"n": 4})
    assert store.get(("notes",), "kept").created_at == created  # type: ignore[union-attr]


def test_bad_input_is_refused_naming_the_field(db: Database) -> None:
    store = AlexdbStore(user_id="alice", db=db)
    for namespace, key, value, field in ((("a",), "k", {"x": float("nan")}, "value.x"),
                                         (("a",), "k", {"x": "y" * 400_000}, "value"),
                                         (("a\x1fb",), "k", {}, "namespace"),
                                         (("a",) * 17, "k", {}, "namespace"),
                                         (("a",), "k" * 501, {}, "key")):
        with pytest.raises(ValidationError) as raised:
            store.put(namespace, key, value)
        assert raised.value.field == field
    assert store.search(()) == []


def test_counts_name_agent_memory_on_every_backend(db: Database) -> None:
    AlexdbStore(user_id="alice", db=db).put(("notes",), "a", {"n": 1})
    counts = db.counts()
    assert counts["memory_items"] == 1
    assert {"checkpoint_threads", "checkpoints", "checkpoint_blobs", "checkpoint_writes",
            "checkpoint_chunks"} <= set(counts)
