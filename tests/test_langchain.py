"""The LangChain history over db.chat, on every backend."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from alexdb import Database
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
