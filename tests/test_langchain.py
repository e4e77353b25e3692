"""The LangChain history over db.chat, on every backend."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    ChatMessageChunk,
    FunctionMessage,
    FunctionMessageChunk,
    HumanMessage,
    HumanMessageChunk,
    SystemMessage,
    SystemMessageChunk,
    ToolMessage,
    ToolMessageChunk,
)
from langchain_core.runnables.history import RunnableWithMessageHistory

from alexdb import Database, ValidationError
from alexdb.integrations.langchain import AlexdbChatMessageHistory


def test_round_trip_clear_and_scope(db: Database) -> None:
    history = AlexdbChatMessageHistory(session_id="conv-42", user_id="alice", db=db)
    assert history.messages == []
    history.add_messages([SystemMessage("Be Socratic."), HumanMessage("What is an ETF?")])
    history.add_ai_message("A basket of securities traded like a stock.")
    history.add_messages([ToolMessage("{\"price\": 450.25}", tool_call_id="call-1")])
    again = AlexdbChatMessageHistory(session_id="conv-42", user_id="alice", db=db)
    assert [(type(m), m.content) for m in again.messages] == [
        (SystemMessage, "Be Socratic."), (HumanMessage, "What is an ETF?"),
        (AIMessage, "A basket of securities traded like a stock."), (ToolMessage, "{\"price\": 450.25}")]
    tool = again.messages[3]
    assert isinstance(tool, ToolMessage) and tool.tool_call_id == "call-1"
    assert AlexdbChatMessageHistory(session_id="conv-42", user_id="mallory", db=db).messages == []
    history.clear()
    assert again.messages == []
    assert [s.title for s in db.chat.list_sessions("alice")] == []


def test_appends_do_not_read_the_session_and_a_window_reads_the_last_n(db: Database) -> None:
    history = AlexdbChatMessageHistory(session_id="conv-7", user_id="alice", db=db, window=3)
    history.add_messages([HumanMessage(f"q{n}") for n in range(2)])  # creates the session on first use
    reads: list[Any] = []
    original = db.chat.get_session

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(args)
        return original(*args, **kwargs)

    db.chat.get_session = counted  # type: ignore[method-assign]
    history.add_messages([HumanMessage(f"q{n}") for n in range(2, 6)])
    assert reads == []
    assert [m.content for m in history.messages] == ["q3", "q4", "q5"]
    assert [m.content for m in history.last(None)] == [f"q{n}" for n in range(6)]


TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)
JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**63) | TEXT
                    | st.floats(allow_nan=False, allow_infinity=False),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                    max_leaves=8)
OBJECT = st.dictionaries(TEXT, JSON, max_size=3)
BLOCKS = st.lists(TEXT | st.builds(lambda t: {"type": "text", "text": t}, TEXT)
                  | st.builds(lambda u, extra: {"type": "image_url", "image_url": {"url": u}, **extra}, TEXT, OBJECT),
                  max_size=3)
IDS = st.none() | st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20)
COMMON = {"content": TEXT | BLOCKS, "id": IDS, "name": st.none() | TEXT.filter(bool),
          "additional_kwargs": OBJECT, "response_metadata": OBJECT}
CALLS = st.lists(st.fixed_dictionaries({"name": TEXT.filter(bool), "args": OBJECT, "id": IDS}), max_size=3)
USAGE = st.none() | st.builds(lambda i, o: {"input_tokens": i, "output_tokens": o, "total_tokens": i + o},
                              st.integers(0, 10**6), st.integers(0, 10**6))
INVALID = st.lists(st.fixed_dictionaries({"name": st.none() | TEXT, "args": st.none() | TEXT, "id": IDS,
                                          "error": st.none() | TEXT, "type": st.just("invalid_tool_call")}),
                   max_size=2)
CHUNKS = st.lists(st.fixed_dictionaries({"name": st.none() | TEXT, "args": st.none() | TEXT, "id": IDS,
                                         "index": st.none() | st.integers(0, 5)}), max_size=2)
TOOL = {"tool_call_id": TEXT.filter(bool), "status": st.sampled_from(["success", "error"]), "artifact": JSON}


def _of(kind: type[BaseMessage], **extra: Any) -> st.SearchStrategy[BaseMessage]:
    return st.builds(kind, **{**COMMON, **extra})


EVERY_MESSAGE = st.one_of(
    _of(HumanMessage), _of(HumanMessageChunk), _of(SystemMessage), _of(SystemMessageChunk),
    _of(AIMessage, tool_calls=CALLS, usage_metadata=USAGE, invalid_tool_calls=INVALID),
    _of(AIMessageChunk, tool_call_chunks=CHUNKS, usage_metadata=USAGE),
    _of(ToolMessage, **TOOL), _of(ToolMessageChunk, **TOOL),
    _of(ChatMessage, role=TEXT.filter(bool)), _of(ChatMessageChunk, role=TEXT.filter(bool)),
    _of(FunctionMessage, name=TEXT.filter(bool)), _of(FunctionMessageChunk, name=TEXT.filter(bool)))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(messages=st.lists(EVERY_MESSAGE, min_size=1, max_size=4))
def test_every_message_type_and_field_round_trips_exactly(db: Database, messages: list[BaseMessage]) -> None:
    history = AlexdbChatMessageHistory(session_id=str(uuid.uuid4()), user_id="alice", db=db)
    history.add_messages(messages)
    again = AlexdbChatMessageHistory(session_id=history.session_key, user_id="alice", db=db).messages
    assert [(type(m), m.model_dump()) for m in again] == [(type(m), m.model_dump()) for m in messages]


def test_an_agent_turn_keeps_its_tool_calls_for_other_clients(db: Database) -> None:
    history = AlexdbChatMessageHistory(session_id="turn", user_id="alice", db=db)
    call = {"name": "quote", "args": {"symbol": "VTI"}, "id": "call-9", "type": "tool_call"}
    history.add_messages([HumanMessage("VTI?"), AIMessage("", tool_calls=[call]),
                          ToolMessage("245.10", tool_call_id="call-9", artifact={"price": 245.1})])
    stored = db.chat.get_history(history.session_id, user_id="alice")
    assert [m.role for m in stored] == ["user", "assistant", "tool"]
    assert stored[1].tool_calls[0].model_dump() == {"id": "call-9", "name": "quote", "args": {"symbol": "VTI"}}
    assert stored[2].tool_call_id == "call-9"
    blocks: list[str | dict[str, Any]] = [{"type": "text", "text": "See "}, {"type": "image_url", "image_url": {"url": "u"}}, "chart"]
    history.add_messages([HumanMessage(blocks)])
    last = db.chat.get_history(history.session_id, user_id="alice", limit=1)[0]
    assert (last.content, last.blocks) == ("See chart", blocks)
    assert history.messages[-1].content == blocks


def test_a_batch_with_a_message_alexdb_cannot_keep_writes_nothing(db: Database) -> None:
    history = AlexdbChatMessageHistory(session_id="all-or-none", user_id="alice", db=db)
    history.add_messages([HumanMessage("kept")])
    with pytest.raises(ValidationError, match="artifact"):
        history.add_messages([HumanMessage("q"), ToolMessage("r", tool_call_id="c", artifact=object())])
    assert [m.content for m in history.messages] == ["kept"]


def _chain(db: Database) -> RunnableWithMessageHistory:
    model = GenericFakeChatModel(messages=itertools.cycle([AIMessage("Index funds spread the risk.")]))
    return RunnableWithMessageHistory(
        model, lambda session_id: AlexdbChatMessageHistory(session_id=session_id, user_id="alice", db=db))


@pytest.mark.filterwarnings("ignore::langchain_core._api.deprecation.LangChainDeprecationWarning")
def test_runnable_with_message_history_stores_the_reply_on_invoke_stream_and_astream(db: Database) -> None:
    chain = _chain(db)
    chain.invoke([HumanMessage("Why index funds?")], config={"configurable": {"session_id": "invoke"}})
    streamed = list(chain.stream([HumanMessage("Why index funds?")], config={"configurable": {"session_id": "stream"}}))
    assert len(streamed) > 1  # it did stream, chunk by chunk

    async def astream() -> None:
        async for _ in chain.astream([HumanMessage("Why index funds?")],
                                     config={"configurable": {"session_id": "astream"}}):
            pass

    asyncio.run(astream())
    for session in ("invoke", "stream", "astream"):
        stored = AlexdbChatMessageHistory(session_id=session, user_id="alice", db=db).messages
        assert [(m.type, m.content) for m in stored][1:] != []
        assert stored[0] == HumanMessage("Why index funds?")
        assert stored[1].content == "Index funds spread the risk.", session
        assert stored[1].type in ("ai", "AIMessageChunk")
