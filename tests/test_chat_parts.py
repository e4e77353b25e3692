"""Contract: structured message parts and all-or-nothing batches in db.chat, on every backend."""

from __future__ import annotations

import pytest

from alexdb import Database, NotFoundError, ValidationError
from alexdb.domain.chat import MAX_CONTENT_BYTES, ToolCall


def test_parts_are_first_class_fields_that_round_trip(db: Database) -> None:
    session = db.chat.create_session("alice")
    call = {"id": "call-1", "name": "quote", "args": {"symbol": "VTI", "window": [1, 2.5], "live": True}}
    asked = db.chat.add_message(session.id, "assistant", "", tool_calls=[call], message_id="run-7",
                                metadata={"model": "m-1", "temperature": 0.7, "nested": {"a": None}},
                                user_id="alice")
    answered = db.chat.add_message(session.id, "tool", '{"price": 245.10}', tool_call_id="call-1", name="quote",
                                   user_id="alice")
    shown = db.chat.add_message(session.id, "user", "Look at this", user_id="alice",
                                blocks=[{"type": "text", "text": "Look at this"},
                                        {"type": "image_url", "image_url": {"url": "https://example.com/c.png"}}])
    plain = db.chat.add_message(session.id, "user", "thanks", user_id="alice")
    history = db.chat.get_history(session.id, user_id="alice")
    assert history == [asked, answered, shown, plain]
    assert history[0].tool_calls == [ToolCall(**call)]
    assert history[0].metadata["temperature"] == 0.7 and isinstance(history[0].metadata["temperature"], float)
    assert (history[1].tool_call_id, history[1].name) == ("call-1", "quote")
    assert history[2].blocks is not None and history[2].blocks[1]["image_url"]["url"].endswith("c.png")
    assert (history[3].tool_calls, history[3].blocks, history[3].metadata) == ([], None, {})
    assert db.chat.get_history(session.id, user_id="alice", limit=2) == [shown, plain]


def test_a_batch_is_appended_in_order(db: Database) -> None:
    session = db.chat.create_session("alice")
    db.chat.add_message(session.id, "system", "Be brief.", user_id="alice")
    added = db.chat.add_messages(session.id, [
        {"role": "user", "content": "Price of VTI?", "tokens": 4},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "name": "quote", "args": {}}]},
        {"role": "tool", "content": "245.10", "tool_call_id": "c1", "tokens": 2}], user_id="alice")
    assert [m.seq for m in added] == [2, 3, 4]
    assert db.chat.get_history(session.id, user_id="alice")[1:] == added
    found = db.chat.get_session(session.id, user_id="alice")
    assert (found.message_count, found.total_tokens) == (4, 6)
    assert db.chat.add_messages(session.id, [], user_id="alice") == []


def test_a_bad_message_in_a_batch_writes_none_of_it(db: Database) -> None:
    session = db.chat.create_session("alice")
    good = {"role": "user", "content": "fine"}
    for bad, field in (({"role": "user", "content": 5}, "messages[1].content"),
                       ({"role": "robot", "content": "x"}, "messages[1].role"),
                       ({"role": "user", "content": "x", "colour": "red"}, "messages[1].colour"),
                       ({"role": "user", "content": "x", "metadata": {"x": float("nan")}}, "messages[1].metadata.x"),
                       ({"role": "assistant", "content": "", "tool_calls": [{"args": {}}]},
                        "messages[1].tool_calls.0.name"),
                       ({"role": "user", "content": "x", "metadata": {"f": object()}}, "messages[1].metadata")):
        with pytest.raises(ValidationError) as raised:
            db.chat.add_messages(session.id, [good, bad, good], user_id="alice")
        assert raised.value.field == field, (bad, raised.value)
    assert db.chat.get_history(session.id, user_id="alice") == []
    assert db.chat.get_session(session.id, user_id="alice").message_count == 0
    with pytest.raises(ValidationError, match="messages"):
        db.chat.add_messages(session.id, "not a list", user_id="alice")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        db.chat.add_messages(session.id, [good], user_id="mallory")


def test_parts_are_bounded_like_content(db: Database) -> None:
    session = db.chat.create_session("alice")
    with pytest.raises(ValidationError, match="parts"):
        db.chat.add_message(session.id, "user", "x", metadata={"blob": "y" * MAX_CONTENT_BYTES}, user_id="alice")
    with pytest.raises(ValidationError, match="nests deeper"):
        deep: dict[str, object] = {}
        for _ in range(100):
            deep = {"d": deep}
        db.chat.add_message(session.id, "user", "x", metadata=deep, user_id="alice")
    assert db.chat.get_history(session.id, user_id="alice") == []


def test_batches_past_one_transaction_are_still_whole(db: Database) -> None:
    """More messages than one DynamoDB transaction holds (100 items), and more bytes (4 MB)."""
    session = db.chat.create_session("alice")
    many = [{"role": "user", "content": f"message {n}", "tokens": 1} for n in range(250)]
    added = db.chat.add_messages(session.id, many, user_id="alice")
    big = [{"role": "assistant", "content": chr(0x4E00 + n) * 300_000, "metadata": {"n": n}} for n in range(5)]
    added += db.chat.add_messages(session.id, big, user_id="alice")
    history = db.chat.get_history(session.id, user_id="alice")
    assert [m.seq for m in history] == list(range(1, 256)) and history == added
    assert [m.metadata for m in history[250:]] == [{"n": n} for n in range(5)]
    found = db.chat.get_session(session.id, user_id="alice")
    assert (found.message_count, found.total_tokens) == (255, 250)
    assert db.chat.add_message(session.id, "user", "after", user_id="alice").seq == 256
