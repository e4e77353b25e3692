"""Conversation memory on SQL: chat_sessions and chat_messages (seq orders messages within a session)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select, update

from alexdb.adapters.sql.engine import UnitOfWork
from alexdb.adapters.sql.paging import keyset_rows
from alexdb.adapters.sql.schema import chat_messages, chat_sessions
from alexdb.domain.chat import (
    DEFAULT_MODE,
    DEFAULT_TTL,
    ChatMessage,
    ChatSession,
    SessionStats,
    check_keep_last,
    check_message,
    check_mode,
    check_title,
    new_session,
)
from alexdb.domain.errors import ConflictError, NotFoundError
from alexdb.domain.instants import utcnow
from alexdb.domain.paging import Bookmark, Cursors, Results, check_limit, scope
from alexdb.domain.validate import parse_id
from alexdb.ports import Rows

SESSION_COLUMNS = [c for c in chat_sessions.c if c.name != "last_seq"]


def _session(row: Row[Any]) -> ChatSession:
    return ChatSession.model_validate({c.name: row._mapping[c.name] for c in SESSION_COLUMNS})


def _message(row: Row[Any]) -> ChatMessage:
    return ChatMessage.model_validate(dict(row._mapping))


class SqlChat:
    """db.chat on SQLite and PostgreSQL. Every call is scoped by user: another user's session is not found."""

    def __init__(self, uow: UnitOfWork, cursors: Cursors, ttl: timedelta = DEFAULT_TTL) -> None:
        self._uow, self.cursors, self.ttl = uow, cursors, ttl

    def create_session(self, user_id: str, title: str | None = None, pedagogy_mode: str = DEFAULT_MODE,
                       session_id: uuid.UUID | None = None) -> ChatSession:
        """Open a session for user_id (with a new id unless one is given); it expires ttl after its last activity.

        ConflictError if session_id is taken.
        """
        session = new_session(user_id, title, pedagogy_mode, self.ttl, session_id)
        now = session.created_at
        try:
            with self._uow.begin(write=True) as conn:
                conn.execute(delete(chat_sessions).where(chat_sessions.c.expires_at <= now))  # purge as we go
                conn.execute(insert(chat_sessions).values(**session.model_dump(), last_seq=0))
        except ConflictError as exc:
            raise ConflictError(f"chat session {session.id} already exists") from exc
        return session

    def _live(self, conn: Connection, session_id: Any, user_id: str, lock: bool = False) -> Row[Any]:
        try:
            key = parse_id("chat session", session_id)
        except NotFoundError:
            raise NotFoundError("chat session", session_id) from None
        statement = select(chat_sessions).where(
            chat_sessions.c.id == key, chat_sessions.c.user_id == user_id, chat_sessions.c.expires_at > utcnow())
        row = conn.execute(statement.with_for_update() if lock else statement).first()
        if row is None:
            raise NotFoundError("chat session", session_id)
        return row

    def get_session(self, session_id: uuid.UUID | str, *, user_id: str) -> ChatSession:
        """The user's session; NotFoundError if it does not exist, is another user's, or has expired."""
        with self._uow.begin() as conn:
            return _session(self._live(conn, session_id, user_id))

    def _touch(self, conn: Connection, row: Row[Any], now: datetime, **values: Any) -> ChatSession:
        conn.execute(update(chat_sessions).where(chat_sessions.c.id == row.id).values(
            last_accessed=now, expires_at=now + self.ttl, **values))
        return _session(conn.execute(select(chat_sessions).where(chat_sessions.c.id == row.id)).one())

    def add_message(self, session_id: uuid.UUID | str, role: str, content: str, tokens: int | None = None,
                    context_ids: list[str] | None = None, *, user_id: str) -> ChatMessage:
        """Append a message; the session's counts and last activity change in the same transaction."""
        new = check_message(role, content, tokens, context_ids)
        with self._uow.begin(write=True) as conn:
            row = self._live(conn, session_id, user_id, lock=True)
            now = utcnow()
            message = ChatMessage(session_id=row.id, seq=row.last_seq + 1, created_at=now, **new.model_dump())
            conn.execute(insert(chat_messages).values(**message.model_dump()))
            self._touch(conn, row, now, last_seq=message.seq, message_count=row.message_count + 1,
                        total_tokens=row.total_tokens + (new.tokens or 0))
        return message

    def get_history(self, session_id: uuid.UUID | str, *, user_id: str, limit: int | None = None,
                    before: int | None = None) -> list[ChatMessage]:
        """Messages oldest first: all of them, or the last `limit` before seq `before` (page backwards with
        before = the first seq returned)."""
        with self._uow.begin() as conn:
            row = self._live(conn, session_id, user_id)
            statement = select(chat_messages).where(chat_messages.c.session_id == row.id)
            if before is not None:
                statement = statement.where(chat_messages.c.seq < before)
            if limit is None:
                return [_message(r) for r in conn.execute(statement.order_by(chat_messages.c.seq))]
            newest = conn.execute(statement.order_by(chat_messages.c.seq.desc()).limit(check_limit(limit))).all()
        return [_message(r) for r in reversed(newest)]

    def list_sessions(self, user_id: str, limit: int | None = None,
                      cursor: str | None = None) -> Results[ChatSession]:
        """The user's live sessions, most recently active first (with limit: one page)."""
        return Results(lambda after, size: self.session_page(user_id, after, size), scope("chat", user_id),
                       self.cursors, limit, cursor)

    def session_page(self, user_id: str, after: Bookmark | None, size: int) -> Rows:
        """The user's live sessions, most recently active first."""
        statement = select(*SESSION_COLUMNS).where(chat_sessions.c.user_id == user_id,
                                                   chat_sessions.c.expires_at > utcnow())
        with self._uow.begin() as conn:
            return keyset_rows(conn, statement, [chat_sessions.c.last_accessed, chat_sessions.c.id], size, after,
                               _session, descending=True)

    def update_title(self, session_id: uuid.UUID | str, title: str, *, user_id: str) -> ChatSession:
        """Rename a session."""
        check_title(title)
        with self._uow.begin(write=True) as conn:
            return self._touch(conn, self._live(conn, session_id, user_id, lock=True), utcnow(), title=title)

    def set_pedagogy_mode(self, session_id: uuid.UUID | str, pedagogy_mode: str, *, user_id: str) -> ChatSession:
        """Change how the tutor teaches in this session."""
        mode = check_mode(pedagogy_mode)
        with self._uow.begin(write=True) as conn:
            return self._touch(conn, self._live(conn, session_id, user_id, lock=True), utcnow(), pedagogy_mode=mode)

    def truncate(self, session_id: uuid.UUID | str, keep_last: int, *, user_id: str) -> int:
        """Delete all but the newest keep_last messages; returns how many were deleted."""
        keep = check_keep_last(keep_last)
        with self._uow.begin(write=True) as conn:
            row = self._live(conn, session_id, user_id, lock=True)
            boundary = row.last_seq - keep
            doomed = chat_messages.c.session_id == row.id, chat_messages.c.seq <= boundary
            removed_tokens = conn.execute(
                select(func.coalesce(func.sum(chat_messages.c.tokens), 0)).where(*doomed)).scalar()
            removed = conn.execute(delete(chat_messages).where(*doomed)).rowcount
            self._touch(conn, row, utcnow(), message_count=row.message_count - removed,
                        total_tokens=row.total_tokens - int(removed_tokens or 0))
        return int(removed)

    def delete_session(self, session_id: uuid.UUID | str, *, user_id: str) -> None:
        """Delete a session and every message in it."""
        with self._uow.begin(write=True) as conn:
            row = self._live(conn, session_id, user_id, lock=True)
            conn.execute(delete(chat_sessions).where(chat_sessions.c.id == row.id))

    def session_stats(self, session_id: uuid.UUID | str, *, user_id: str) -> SessionStats:
        """Counts by role, tokens and size of a session."""
        with self._uow.begin() as conn:
            row = self._live(conn, session_id, user_id)
            roles: Counter[str] = Counter(dict(conn.execute(select(chat_messages.c.role, func.count()).where(
                chat_messages.c.session_id == row.id).group_by(chat_messages.c.role)).all()))
            size = conn.execute(select(func.coalesce(func.sum(func.length(chat_messages.c.content)), 0)).where(
                chat_messages.c.session_id == row.id)).scalar()
        session = _session(row)
        return SessionStats(session_id=session.id, message_count=session.message_count,
                            total_tokens=session.total_tokens, messages_by_role=dict(roles),
                            content_characters=int(size or 0), created_at=session.created_at,
                            last_accessed=session.last_accessed, expires_at=session.expires_at)

    def purge_expired(self) -> int:
        """Delete every expired session with its messages; returns how many sessions."""
        with self._uow.begin(write=True) as conn:
            return int(conn.execute(delete(chat_sessions).where(chat_sessions.c.expires_at <= utcnow())).rowcount)
