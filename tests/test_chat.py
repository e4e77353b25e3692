"""Contract: conversation memory, on every backend."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from alexdb import Database, NotFoundError, ValidationError


def test_sessions_are_scoped_by_user(db: Database) -> None:
    mine = db.chat.create_session("alice", "Bonds 101", pedagogy_mode="direct")
    theirs = db.chat.create_session("bob", "Secret")
    assert db.chat.get_session(mine.id, user_id="alice") == mine
    for call in (lambda: db.chat.get_session(theirs.id, user_id="alice"),
                 lambda: db.chat.add_message(theirs.id, "user", "hi", user_id="alice"),
                 lambda: db.chat.get_history(theirs.id, user_id="alice"),
                 lambda: db.chat.update_title(theirs.id, "mine now", user_id="alice"),
                 lambda: db.chat.truncate(theirs.id, 0, user_id="alice"),
                 lambda: db.chat.delete_session(theirs.id, user_id="alice"),
                 lambda: db.chat.session_stats(theirs.id, user_id="alice")):
        with pytest.raises(NotFoundError):
            call()
    assert [s.id for s in db.chat.list_sessions("alice")] == [mine.id]
    assert db.chat.get_session(theirs.id, user_id="bob").title == "Secret"
    with pytest.raises(NotFoundError):
        db.chat.get_session("not-an-id", user_id="alice")


def test_messages_and_counters_change_together(db: Database) -> None:
    session = db.chat.create_session("alice")
    first = db.chat.add_message(session.id, "user", "What is a bond?", tokens=5, user_id="alice")
    db.chat.add_message(session.id, "assistant", "A loan you make.", tokens=7, context_ids=["doc-1", "doc-2"],
                        user_id="alice")
    db.chat.add_message(session.id, "tool", "{}", user_id="alice")
    found = db.chat.get_session(session.id, user_id="alice")
    assert (found.message_count, found.total_tokens) == (3, 12)
    assert found.last_accessed >= first.created_at and found.expires_at > found.last_accessed
    history = db.chat.get_history(session.id, user_id="alice")
    assert [(m.seq, m.role) for m in history] == [(1, "user"), (2, "assistant"), (3, "tool")]
    assert history[1].context_ids == ["doc-1", "doc-2"] and history[2].tokens is None
    with pytest.raises(ValidationError) as info:
        db.chat.add_message(session.id, "robot", "hi", user_id="alice")
    assert info.value.field == "role"


def test_order_survives_same_millisecond_appends_and_paging(db: Database) -> None:
    session = db.chat.create_session("alice")
    for n in range(25):
        db.chat.add_message(session.id, "user", f"message {n}", user_id="alice")
    newest = db.chat.get_history(session.id, user_id="alice", limit=10)
    assert [m.content for m in newest] == [f"message {n}" for n in range(15, 25)]
    collected, before = list(newest), newest[0].seq
    while True:
        page = db.chat.get_history(session.id, user_id="alice", limit=10, before=before)
        if not page:
            break
        collected = page + collected
        before = page[0].seq
    assert [m.content for m in collected] == [f"message {n}" for n in range(25)]


def test_sessions_list_by_recency_and_page(db: Database) -> None:
    ids = [db.chat.create_session("alice", f"s{n}").id for n in range(5)]
    db.chat.add_message(ids[1], "user", "back to this one", user_id="alice")
    first = db.chat.list_sessions("alice", limit=2)
    rest = db.chat.list_sessions("alice", limit=10, cursor=first.next_cursor)
    assert [s.id for s in first] + [s.id for s in rest] == [ids[1], ids[4], ids[3], ids[2], ids[0]]
    assert rest.next_cursor is None


def test_title_mode_truncate_delete_and_stats(db: Database) -> None:
    session = db.chat.create_session("alice")
    assert db.chat.update_title(session.id, "Retirement", user_id="alice").title == "Retirement"
    assert db.chat.set_pedagogy_mode(session.id, "exploratory", user_id="alice").pedagogy_mode == "exploratory"
    with pytest.raises(ValidationError):
        db.chat.set_pedagogy_mode(session.id, "lecture", user_id="alice")
    for n in range(6):
        db.chat.add_message(session.id, "user" if n % 2 == 0 else "assistant", "x" * (n + 1), tokens=n,
                            user_id="alice")
    assert db.chat.truncate(session.id, 2, user_id="alice") == 4
    kept = db.chat.get_history(session.id, user_id="alice")
    assert [m.seq for m in kept] == [5, 6]
    assert db.chat.add_message(session.id, "user", "after", user_id="alice").seq == 7
    stats = db.chat.session_stats(session.id, user_id="alice")
    assert (stats.message_count, stats.total_tokens) == (3, 4 + 5)
    assert stats.messages_by_role == {"user": 2, "assistant": 1} and stats.content_characters == 5 + 6 + 5
    db.chat.delete_session(session.id, user_id="alice")
    with pytest.raises(NotFoundError):
        db.chat.get_session(session.id, user_id="alice")
    assert list(db.chat.list_sessions("alice")) == []


def test_expired_sessions_never_come_back(db: Database) -> None:
    # Margins of 2 s either side: DynamoDB Local on a loaded 2-core machine has taken 0.4 s for one call, and
    # the four calls after the second sleep must all land before the kept session expires (0.8 s was short:
    # a CI run failed on it).
    db.chat.ttl = timedelta(seconds=5)
    stale = db.chat.create_session("alice", "old")
    db.chat.add_message(stale.id, "user", "hello", user_id="alice")
    fresh = db.chat.create_session("alice", "kept alive")
    time.sleep(4)
    db.chat.add_message(fresh.id, "user", "still here", user_id="alice")  # activity moves the expiry
    time.sleep(3)  # the old session is 2 s past its expiry; the kept one has 2 s left
    with pytest.raises(NotFoundError):
        db.chat.get_history(stale.id, user_id="alice")
    with pytest.raises(NotFoundError):
        db.chat.add_message(stale.id, "user", "anyone?", user_id="alice")
    assert [s.id for s in db.chat.list_sessions("alice")] == [fresh.id]
    assert [m.content for m in db.chat.get_history(fresh.id, user_id="alice")] == ["still here"]


def test_one_megabyte_round_trips_and_more_is_refused(db: Database) -> None:
    session = db.chat.create_session("alice")
    big = ("€ and ascii " * 100_000)[: 1024 * 1024 // 3]
    big += "x" * (1024 * 1024 - len(big.encode()))
    assert len(big.encode()) == 1024 * 1024
    db.chat.add_message(session.id, "assistant", big, user_id="alice")
    assert db.chat.get_history(session.id, user_id="alice")[0].content == big
    with pytest.raises(ValidationError) as info:
        db.chat.add_message(session.id, "assistant", big + "!", user_id="alice")
    assert info.value.field == "content"
    assert db.chat.get_session(session.id, user_id="alice").message_count == 1


def test_concurrent_writers_lose_nothing(db: Database) -> None:
    session = db.chat.create_session("alice")
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for n in range(10):
                db.chat.add_message(session.id, "user", f"{worker}-{n}", tokens=1, user_id="alice")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    history = db.chat.get_history(session.id, user_id="alice")
    assert [m.seq for m in history] == list(range(1, 81))
    assert sorted(m.content for m in history) == sorted(f"{w}-{n}" for w in range(8) for n in range(10))
    found = db.chat.get_session(session.id, user_id="alice")
    assert (found.message_count, found.total_tokens) == (80, 80)


def test_sql_purges_expired_sessions_with_their_messages(sql_url: str) -> None:
    import alexdb

    db = alexdb.connect(sql_url, chat_ttl=timedelta(seconds=1))
    session = db.chat.create_session("alice")
    db.chat.add_message(session.id, "user", "hello", user_id="alice")
    time.sleep(1.1)
    assert db.chat.purge_expired() == 1
    assert (db.counts()["chat_sessions"], db.counts()["chat_messages"]) == (0, 0)
