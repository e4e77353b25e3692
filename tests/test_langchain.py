"""The LangChain history over db.chat, on every backend."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from alexdb.integrations.langchain import AlexdbChatMessageHistory


def test_round_trip_clear_and_scope(db):
    history = AlexdbChatMessageHistory(session_id="conv-42", user_id="alice", db=db)
    assert history.messages == []
    history.add_messages([SystemMessage("Be Socratic."), HumanMessage("What is an ETF?")])
    history.add_ai_message("A basket of securities traded like a stock.")
    history.add_messages([ToolMessage("{\"price\": 450.25}", tool_call_id="call-1")])
    again = AlexdbChatMessageHistory(session_id="conv-42", user_id="alice", db=db)
    assert [(type(m), m.content) for m in again.messages] == [
        (SystemMessage, "Be Socratic."), (HumanMessage, "What is an ETF?"),
        (AIMessage, "A basket of securities traded like a stock."), (ToolMessage, "{\"price\": 450.25}")]
    assert again.messages[3].tool_call_id == "call-1"
    assert AlexdbChatMessageHistory(session_id="conv-42", user_id="mallory", db=db).messages == []
    history.clear()
    assert again.messages == []
    assert [s.title for s in db.chat.list_sessions("alice")] == []


def test_appends_do_not_read_the_session_and_a_window_reads_the_last_n(db):
    history = AlexdbChatMessageHistory(session_id="conv-7", user_id="alice", db=db, window=3)
    history.add_messages([HumanMessage(f"q{n}") for n in range(2)])  # creates the session on first use
    reads = []
    original = db.chat.get_session
    db.chat.get_session = lambda *a, **k: reads.append(a) or original(*a, **k)
    history.add_messages([HumanMessage(f"q{n}") for n in range(2, 6)])
    assert reads == []
    assert [m.content for m in history.messages] == ["q3", "q4", "q5"]
    assert [m.content for m in history.last(None)] == [f"q{n}" for n in range(6)]
