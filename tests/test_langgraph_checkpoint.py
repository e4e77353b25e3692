"""The LangGraph checkpointer on every backend: langgraph-checkpoint-conformance (every capability, base and
extended), then what the suite does not ask: scoping by user, incremental storage, pruning, expiry, size."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import ALL_CAPABILITIES
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

import alexdb
from alexdb import Database, ValidationError
from alexdb.integrations.langgraph import AlexdbSaver


def test_the_conformance_suite_passes_every_capability(db: Database) -> None:
    @checkpointer_test(name="alexdb")
    async def saver() -> AsyncIterator[AlexdbSaver]:
        yield AlexdbSaver(user_id=f"user-{uuid.uuid4().hex[:8]}", db=db)

    report = asyncio.run(validate(saver))
    results = {name: (result.passed, result.tests_passed, result.failures) for name, result in report.results.items()}
    assert set(results) == {c.value for c in ALL_CAPABILITIES}
    assert all(passed for passed, _, _ in results.values()), {k: v for k, v in results.items() if not v[0]}
    assert sum(count for _, count, _ in results.values()) >= 80


def _config(thread: str, checkpoint_id: str | None = None) -> Any:
    configurable = {"thread_id": thread, "checkpoint_ns": ""}
    if checkpoint_id is not None:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


class State(TypedDict):
    messages: Annotated[list[Any], add_messages]
    context: str  # a large channel no step changes


def _graph(saver: AlexdbSaver) -> Any:
    def reply(state: State) -> dict[str, Any]:
        return {"messages": [AIMessage(f"answer {len(state['messages'])}")]}

    builder = StateGraph(State)
    builder.add_node("reply", reply)
    builder.add_edge(START, "reply")
    builder.add_edge("reply", END)
    return builder.compile(checkpointer=saver)


def _turns(graph: Any, thread: str, count: int, context: str = "ctx") -> None:
    for n in range(count):
        update: dict[str, Any] = {"messages": [HumanMessage(f"question {n}")]}
        if n == 0:
            update["context"] = context
        graph.invoke(update, {"configurable": {"thread_id": thread}})


def test_a_graph_resumes_its_thread_and_unchanged_channels_are_stored_once(db: Database) -> None:
    saver = AlexdbSaver(user_id="alice", db=db)
    graph = _graph(saver)
    _turns(graph, "t1", 5, context="x" * 50_000)
    state = graph.get_state({"configurable": {"thread_id": "t1"}})
    assert [m.content for m in state.values["messages"]][-2:] == ["question 4", "answer 9"]
    assert len(state.values["messages"]) == 10 and state.values["context"] == "x" * 50_000
    history = list(graph.get_state_history({"configurable": {"thread_id": "t1"}}))
    assert len(history) == len(list(saver.list(_config("t1"))))
    stored = db.engine.checkpoints.blob_keys("alice", "t1", "")
    assert sum(1 for channel, _ in stored if channel == "context") == 1  # written once, referenced by all


def test_a_task_write_stored_again_keeps_the_first_and_a_special_write_the_last(db: Database) -> None:
    from langgraph.checkpoint.base import empty_checkpoint

    saver = AlexdbSaver(user_id="alice", db=db)
    config = saver.put(_config("writes"), empty_checkpoint(), {"source": "input", "step": -1, "parents": {}}, {})
    for value in ("first", "second"):  # a retried task writes again: one write, then two
        saver.put_writes(config, [("messages", value)], "task-1")
        saver.put_writes(config, [("messages", value), ("route", value)], "task-2")
        saver.put_writes(config, [("__error__", value)], "task-3")  # special: the latest replaces it
    latest = saver.get_tuple(config)
    assert latest is not None
    assert sorted(latest.pending_writes or []) == [
        ("task-1", "messages", "first"), ("task-2", "messages", "first"), ("task-2", "route", "first"),
        ("task-3", "__error__", "second")]


def test_threads_are_scoped_by_user(db: Database) -> None:
    alice, bob = AlexdbSaver(user_id="alice", db=db), AlexdbSaver(user_id="bob", db=db)
    _turns(_graph(alice), "shared-name", 2)
    assert bob.get_tuple(_config("shared-name")) is None
    assert list(bob.list(None)) == [] and list(bob.list(_config("shared-name"))) == []
    bob.delete_thread("shared-name")
    bob.prune(["shared-name"])
    latest = alice.get_tuple(_config("shared-name"))
    assert latest is not None and len(latest.checkpoint["channel_values"]["messages"]) == 4
    assert bob.get_tuple(_config("shared-name", latest.checkpoint["id"])) is None
    counts = db.counts()
    assert (counts["checkpoint_threads"], counts["checkpoints"]) == (1, len(list(alice.list(None))))


def test_keep_last_prunes_a_thread_as_it_grows_and_keeps_its_state(db: Database) -> None:
    saver = AlexdbSaver(user_id="alice", db=db, keep_last=3)
    graph = _graph(saver)
    _turns(graph, "long", 12)
    kept = list(saver.list(_config("long")))
    assert 3 <= len(kept) <= 4  # pruned back to 3 each time it passes 3 + a quarter
    state = graph.get_state({"configurable": {"thread_id": "long"}})
    assert len(state.values["messages"]) == 24
    referenced = {item for t in kept for item in t.checkpoint["channel_versions"].items()}
    assert len(db.engine.checkpoints.blob_keys("alice", "long", "")) <= len(referenced)  # no orphans kept


def test_threads_expire_after_their_ttl(db: Database) -> None:
    saver = AlexdbSaver(user_id="alice", db=db, ttl=timedelta(seconds=3))
    graph = _graph(saver)
    _turns(graph, "brief", 2)
    _turns(graph, "purged", 2)
    assert saver.get_tuple(_config("brief")) is not None
    time.sleep(3.2)
    assert saver.get_tuple(_config("brief")) is None and list(saver.list(None)) == []
    _turns(graph, "brief", 1)  # expired but not purged: written again, it begins empty
    saver.store.purge_expired()  # "purged" goes; brief's new life has not expired
    assert saver.get_tuple(_config("purged")) is None and saver.get_tuple(_config("brief")) is not None
    for thread in ("purged", "fresh"):
        _turns(graph, thread, 1)
    for thread in ("brief", "purged"):
        state = graph.get_state({"configurable": {"thread_id": thread}})
        assert [m.content for m in state.values["messages"]] == ["question 0", "answer 1"]
        assert len(list(saver.list(_config(thread)))) == len(list(saver.list(_config("fresh"))))


def test_values_past_any_item_size_round_trip(db: Database) -> None:
    saver = AlexdbSaver(user_id="alice", db=db)
    graph = _graph(saver)
    big = "".join(chr(0x4E00 + n % 5000) for n in range(700_000))  # about 2 MB of UTF-8
    _turns(graph, "big", 2, context=big)
    state = graph.get_state({"configurable": {"thread_id": "big"}})
    assert state.values["context"] == big


def test_bad_keys_are_refused_naming_the_field(db: Database) -> None:
    saver = AlexdbSaver(user_id="alice", db=db)
    for config, field in ((_config("x" * 256), "thread_id"), (_config("a\x1fb"), "thread_id")):
        with pytest.raises(ValidationError) as raised:
            _turns(_graph(saver), config["configurable"]["thread_id"], 1)
        assert raised.value.field == field
    with pytest.raises(ValidationError):
        AlexdbSaver(user_id="has space", db=db).get_tuple(_config("t"))
    with pytest.raises(ValidationError, match="keep_last"):
        AlexdbSaver(user_id="alice", db=db, keep_last=0)


def test_a_growing_conversation_stores_its_new_content_not_its_whole_state_each_step(db: Database) -> None:
    saver = AlexdbSaver(user_id="alice", db=db)
    graph = _graph(saver)

    def stored_after(turns: range) -> int:
        for n in turns:
            graph.invoke({"messages": [HumanMessage(f"question {n}: " + "word " * 400)]},
                         {"configurable": {"thread_id": "chat"}})
        rows = db.engine.checkpoints.thread("alice", "chat", datetime.now(UTC))
        return sum(len(b.value.data) for b in rows.blobs) + sum(len(piece) for piece in rows.chunks.values())

    half, full = stored_after(range(20)), stored_after(range(20, 40))
    state = graph.get_state({"configurable": {"thread_id": "chat"}})
    assert len(state.values["messages"]) == 80
    elsewhere = _graph(AlexdbSaver(user_id="alice", db=db))  # another process: nothing in memory yet
    assert elsewhere.get_state({"configurable": {"thread_id": "chat"}}).values == state.values
    whole = len(saver.serde.dumps_typed(state.values["messages"])[1])
    # Linear growth doubles the bytes from 20 turns to 40; the whole state at every step quadruples them,
    # and would total about 20 times the final state.
    assert full < 2.5 * half and full < 4 * whole, (half, full, whole)


def test_a_thread_deleted_and_begun_again_stores_its_pieces_again(db: Database) -> None:
    saver = AlexdbSaver(user_id="alice", db=db)
    graph = _graph(saver)

    def talk() -> list[str]:
        for n in range(6):
            graph.invoke({"messages": [HumanMessage(f"question {n}: " + "word " * 600)]},
                         {"configurable": {"thread_id": "again"}})
        return [m.content for m in graph.get_state({"configurable": {"thread_id": "again"}}).values["messages"]]

    first = talk()
    saver.delete_thread("again")
    assert talk() == first  # the same pieces, written again for the thread's new life


def test_checkpoints_larger_than_an_item_are_deleted_with_their_run(db: Database) -> None:
    saver = AlexdbSaver(user_id="alice", db=db)
    def big(run_id: str) -> Any:  # metadata may carry any keys: these make the checkpoint several items
        return {"run_id": run_id, "notes": "n" * 800_000}

    config = saver.put(_config("big-meta"), empty_checkpoint(), big("run-1"), {})
    saver.put(config, {**empty_checkpoint(), "id": "2" + empty_checkpoint()["id"][1:]}, {"run_id": "run-2"}, {})
    saver.delete_for_runs(["run-1"])
    assert [t.metadata["run_id"] for t in saver.list(_config("big-meta"))] == ["run-2"]
    saver.put(config, empty_checkpoint(), big("run-3"), {})
    saver.delete_thread("big-meta")
    assert list(saver.list(_config("big-meta"))) == []


def test_two_processes_on_one_thread_read_each_others_newest(shared_url: str) -> None:
    """What one process keeps of a thread it wrote (its pieces, its last checkpoint) never hides what
    another process wrote since: a newer checkpoint, a thread deleted and begun again."""
    first, second = alexdb.connect(shared_url), alexdb.connect(shared_url)
    try:
        mine, theirs = AlexdbSaver(user_id="alice", db=first), AlexdbSaver(user_id="alice", db=second)
        ours, others = _graph(mine), _graph(theirs)

        def contents(graph: Any) -> list[str]:
            return [m.content for m in graph.get_state({"configurable": {"thread_id": "shared"}}).values["messages"]]

        _turns(ours, "shared", 2)
        _turns(others, "shared", 1)  # builds on the first process's checkpoint
        assert len(contents(ours)) == 6 and contents(ours) == contents(others)
        theirs.delete_thread("shared")
        _turns(others, "shared", 1)  # a new life of the thread
        _turns(ours, "shared", 1)  # builds on that life, not on what this process wrote before
        assert contents(ours) == ["question 0", "answer 1", "question 0", "answer 3"]
        fresh = _graph(AlexdbSaver(user_id="alice", db=alexdb.connect(shared_url)))
        assert contents(fresh) == contents(ours) == contents(others)
        # A large value is stored as pieces, each once per life of the thread: pieces this process wrote
        # before the thread was begun again are not in its new life, and are written again.
        big = "".join(f"fact {n}; " for n in range(3000))
        _turns(ours, "again", 1, context=big)
        theirs.delete_thread("again")
        _turns(others, "again", 1, context="small")
        ours.invoke({"messages": [HumanMessage("question 1")], "context": big}, {"configurable": {"thread_id": "again"}})
        state = fresh.get_state({"configurable": {"thread_id": "again"}})
        assert state.values["context"] == big and len(state.values["messages"]) == 4
    finally:
        first.close()
        second.close()


def test_a_checkpoint_read_again_is_a_fresh_copy_equal_to_the_first(db: Database) -> None:
    """Reading a large state again (served from a kept copy from the third read on) gives values equal to
    the first read, and never the same objects: changing what one read returned changes no later read."""
    saver = AlexdbSaver(user_id="alice", db=db)
    graph = _graph(saver)
    for n in range(12):
        graph.invoke({"messages": [HumanMessage(f"question {n}: " + "word " * 400)]},
                     {"configurable": {"thread_id": "again"}})
    reads = [saver.get_tuple(_config("again")) for _ in range(4)]
    assert all(read is not None for read in reads)
    values = [read.checkpoint["channel_values"]["messages"] for read in reads if read is not None]
    expected = [(type(m), m.id, m.content) for m in values[0]]
    assert len(expected) == 24 and all([(type(m), m.id, m.content) for m in v] == expected for v in values)
    assert len({id(value[0]) for value in values}) == len(values)  # never the same objects twice
    for value in values:
        value[0].content = "changed"
        value.append(AIMessage("added"))
    later = saver.get_tuple(_config("again"))
    assert later is not None
    assert [(type(m), m.id, m.content) for m in later.checkpoint["channel_values"]["messages"]] == expected
