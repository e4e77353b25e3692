"""Conversation memory on SQL: chat_sessions and chat_messages (seq orders messages within a session)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Dialect, Row, bindparam, cast, delete, func, insert, select, update

from alexdb.adapters.sql.bulk import PreparedStatement
from alexdb.adapters.sql.engine import UnitOfWork
from alexdb.adapters.sql.paging import keyset_rows
from alexdb.adapters.sql.schema import chat_messages, chat_sessions
from alexdb.domain.chat import ChatMessage, ChatSession, NewMessage, SessionStats, read_parts, stored_parts
from alexdb.domain.errors import ConflictError
from alexdb.domain.paging import Bookmark
from alexdb.ports import Rows

SESSION_COLUMNS = [c for c in chat_sessions.c if c.name != "last_seq"]


def _session(row: Row[Any]) -> ChatSession:
    return ChatSession.model_validate({c.name: row._mapping[c.name] for c in SESSION_COLUMNS})


MESSAGE_COLUMNS = ("seq", "role", "content", "tokens", "context_ids", "created_at", "parts")


def _messages_statement(newest_first: bool) -> Any:
    """The messages of a live session of the user, below seq :before; one statement, built once."""
    m, s = chat_messages, chat_sessions
    statement = (select(*(m.c[name] for name in MESSAGE_COLUMNS))
                 .join(s, s.c.id == m.c.session_id)
                 .where(s.c.id == bindparam("sid", type_=s.c.id.type), s.c.user_id == bindparam("uid"),
                        s.c.expires_at > bindparam("now", type_=s.c.expires_at.type),
                        m.c.seq < bindparam("before", type_=m.c.seq.type)))
    if newest_first:
        return statement.order_by(m.c.seq.desc()).limit(bindparam("n", type_=m.c.seq.type))
    return statement.order_by(m.c.seq)


NEWEST, OLDEST_FIRST = _messages_statement(True), _messages_statement(False)
AFTER_ALL = 2**31 - 1  # a seq above any


def _bump() -> Any:
    """Take the next seq of a live session of the user and record the activity: one UPDATE ... RETURNING."""
    s = chat_sessions
    return (update(s)
            .where(s.c.id == bindparam("sid", type_=s.c.id.type),
                   s.c.user_id == bindparam("uid", type_=s.c.user_id.type),
                   s.c.expires_at > bindparam("now", type_=s.c.expires_at.type))
            .values(last_seq=s.c.last_seq + bindparam("count", type_=s.c.last_seq.type),
                    message_count=s.c.message_count + bindparam("count", type_=s.c.message_count.type),
                    total_tokens=s.c.total_tokens + bindparam("add_tokens", type_=s.c.total_tokens.type),
                    last_accessed=bindparam("at", type_=s.c.last_accessed.type),
                    expires_at=bindparam("until", type_=s.c.expires_at.type))
            .returning(s.c.id, s.c.last_seq))


def _message_values(seq: Any) -> dict[str, Any]:
    m = chat_messages
    # Cast where a SELECT list carries them: PostgreSQL cannot type a parameter there by itself when the
    # driver sends it untyped (the RDS Data API sends NULLs and text so).
    return {"seq": seq, "role": cast(bindparam("m_role", type_=m.c.role.type), m.c.role.type),
            "content": cast(bindparam("m_content", type_=m.c.content.type), m.c.content.type),
            "tokens": cast(bindparam("m_tokens", type_=m.c.tokens.type), m.c.tokens.type),
            "context_ids": bindparam("m_context", type_=m.c.context_ids.type),
            "created_at": bindparam("at", type_=m.c.created_at.type),
            "parts": cast(bindparam("m_parts", type_=m.c.parts.type), m.c.parts.type)}


def _append_statements(dialect: Dialect) -> list[PreparedStatement]:
    """The append as prepared SQL: on PostgreSQL one statement (a data-modifying CTE, one round trip);
    SQLite has no such CTE, and in-process two statements cost about what one does."""
    m = chat_messages
    if dialect.name == "postgresql":
        bumped = _bump().cte("bumped")
        values = _message_values(bumped.c.last_seq)
        columns = ["session_id", *values]
        statement = insert(m).from_select(columns, select(bumped.c.id, *values.values())).returning(m.c.seq)
        return [PreparedStatement.compile(dialect, statement)]
    message = insert(m).values(session_id=bindparam("sid", type_=m.c.session_id.type),
                               **_message_values(bindparam("m_seq", type_=m.c.seq.type)))
    return [PreparedStatement.compile(dialect, _bump()), PreparedStatement.compile(dialect, message)]


class SqlChat:
    """ChatRecords on SQLite and PostgreSQL."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._append: list[PreparedStatement] | None = None
        self._bump_many: PreparedStatement | None = None
        self._read: dict[bool, PreparedStatement] = {}
        self._loaders: list[Any] = []

    def _prepare_reads(self, dialect: Dialect) -> None:
        self._read = {newest: PreparedStatement.compile(dialect, NEWEST if newest else OLDEST_FIRST)
                      for newest in (True, False)}
        # The stored form of each column read back as SQLAlchemy would (instants on SQLite are text).
        self._loaders = [chat_messages.c[name].type.dialect_impl(dialect).result_processor(dialect, None)
                         for name in MESSAGE_COLUMNS]

    def _stored(self, session_id: uuid.UUID, row: tuple[Any, ...]) -> ChatMessage:
        # Rows this store wrote were validated on the way in: rebuilding them skips validation, so a read
        # of the last 50 messages costs what the query does.
        seq, role, content, tokens, context_ids, created_at, parts = (
            load(value) if load and value is not None else value
            for load, value in zip(self._loaders, row, strict=True))
        fields = {"session_id": session_id, "seq": seq, "role": role, "content": content, "tokens": tokens,
                  "context_ids": context_ids, "created_at": created_at}
        if parts is not None:  # tool calls are models of their own: validated into them
            return ChatMessage.model_validate({**fields, **read_parts(parts)})
        return ChatMessage.model_construct(**fields)

    def insert_session(self, session: ChatSession) -> bool:
        """Insert (purging expired sessions as it goes); False when the id is taken."""
        try:
            with self._uow.begin(write=True) as conn:
                conn.execute(delete(chat_sessions).where(chat_sessions.c.expires_at <= session.created_at))
                conn.execute(insert(chat_sessions).values(**session.model_dump(), last_seq=0))
        except ConflictError:
            return False
        return True

    def _live(self, conn: Connection, session_id: uuid.UUID, user_id: str, now: datetime,
              lock: bool = False) -> Row[Any] | None:
        statement = select(chat_sessions).where(
            chat_sessions.c.id == session_id, chat_sessions.c.user_id == user_id, chat_sessions.c.expires_at > now)
        return conn.execute(statement.with_for_update() if lock else statement).first()

    def live_session(self, session_id: uuid.UUID, user_id: str, now: datetime) -> ChatSession | None:
        """The user's live session, or None."""
        with self._uow.begin() as conn:
            row = self._live(conn, session_id, user_id, now)
        return None if row is None else _session(row)

    def append(self, session_id: uuid.UUID, user_id: str, messages: list[NewMessage], now: datetime,
               ttl: timedelta) -> list[ChatMessage] | None:
        """The seqs taken and the messages inserted in one transaction, as prepared statements (see _bump)."""
        params = {"sid": session_id, "uid": user_id, "now": now, "at": now, "until": now + ttl,
                  "count": len(messages), "add_tokens": sum(m.tokens or 0 for m in messages)}
        with self._uow.begin(write=True) as conn:
            if self._append is None:
                self._append = _append_statements(conn.dialect)
                self._bump_many = PreparedStatement.compile(conn.dialect, _bump())
            if len(messages) == 1:
                last = self._append_one(conn, params, messages[0])
            else:
                assert self._bump_many is not None
                taken = self._bump_many.run(conn, params)
                last = taken[0][1] if taken else None
                if last is not None:
                    first = last - len(messages) + 1
                    conn.execute(insert(chat_messages), [
                        {"session_id": session_id, "seq": first + n, "created_at": now, "parts": stored_parts(m),
                         **m.model_dump(include={"role", "content", "tokens", "context_ids"})}
                        for n, m in enumerate(messages)])
        if last is None:
            return None
        first = last - len(messages) + 1
        return [ChatMessage(session_id=session_id, seq=first + n, created_at=now, **m.model_dump())
                for n, m in enumerate(messages)]

    def _append_one(self, conn: Connection, params: dict[str, Any], message: NewMessage) -> int | None:
        """One message: on PostgreSQL one round trip (see _append_statements); its seq, or None."""
        assert self._append is not None
        params.update(m_role=message.role, m_content=message.content, m_tokens=message.tokens,
                      m_context=message.context_ids, m_parts=stored_parts(message))
        *bump, insert_message = self._append
        if bump:
            taken = bump[0].run(conn, params)
            if not taken:
                return None
            params["m_seq"] = seq = taken[0][1]
            insert_message.run(conn, params)
            return int(seq)
        inserted = insert_message.run(conn, params)
        return int(inserted[0][0]) if inserted else None

    def messages(self, session_id: uuid.UUID, user_id: str, now: datetime, limit: int | None,
                 before: int | None) -> list[ChatMessage] | None:
        """Messages oldest first: all, or the last `limit` before seq `before` (one query with the session check)."""
        params = {"sid": session_id, "uid": user_id, "now": now, "before": AFTER_ALL if before is None else before,
                  "n": limit}
        with self._uow.begin() as conn:
            if not self._read:
                self._prepare_reads(conn.dialect)
            rows = self._read[limit is not None].run(conn, params)
            if not rows and self._live(conn, session_id, user_id, now) is None:
                return None
        ordered = rows if limit is None else reversed(rows)
        return [self._stored(session_id, row) for row in ordered]

    def session_page(self, user_id: str, now: datetime, ttl: timedelta, after: Bookmark | None, size: int) -> Rows:
        """The user's live sessions, most recently active first."""
        statement = select(*SESSION_COLUMNS).where(chat_sessions.c.user_id == user_id, chat_sessions.c.expires_at > now)
        with self._uow.begin() as conn:
            return keyset_rows(conn, statement, [chat_sessions.c.last_accessed, chat_sessions.c.id], size, after,
                               _session, descending=True)

    def touch(self, session_id: uuid.UUID, user_id: str, now: datetime, ttl: timedelta,
              changes: Mapping[str, Any]) -> ChatSession | None:
        """Set changes and record the activity, under the session's row lock."""
        with self._uow.begin(write=True) as conn:
            row = self._live(conn, session_id, user_id, now, lock=True)
            return None if row is None else self._touched(conn, row.id, now, ttl, **changes)

    def _touched(self, conn: Connection, key: uuid.UUID, now: datetime, ttl: timedelta, **values: Any) -> ChatSession:
        conn.execute(update(chat_sessions).where(chat_sessions.c.id == key).values(
            last_accessed=now, expires_at=now + ttl, **values))
        return _session(conn.execute(select(chat_sessions).where(chat_sessions.c.id == key)).one())

    def truncate(self, session_id: uuid.UUID, user_id: str, keep: int, now: datetime, ttl: timedelta) -> int | None:
        """Delete all but the newest keep messages, and their counts, in one transaction."""
        with self._uow.begin(write=True) as conn:
            row = self._live(conn, session_id, user_id, now, lock=True)
            if row is None:
                return None
            doomed = chat_messages.c.session_id == row.id, chat_messages.c.seq <= row.last_seq - keep
            removed_tokens = conn.execute(
                select(func.coalesce(func.sum(chat_messages.c.tokens), 0)).where(*doomed)).scalar()
            removed = conn.execute(delete(chat_messages).where(*doomed)).rowcount
            self._touched(conn, row.id, now, ttl, message_count=row.message_count - removed,
                          total_tokens=row.total_tokens - int(removed_tokens or 0))
        return int(removed)

    def delete_session(self, session_id: uuid.UUID, user_id: str, now: datetime) -> bool:
        """Delete the session; its messages go with it (foreign key cascade)."""
        with self._uow.begin(write=True) as conn:
            return bool(conn.execute(delete(chat_sessions).where(
                chat_sessions.c.id == session_id, chat_sessions.c.user_id == user_id,
                chat_sessions.c.expires_at > now)).rowcount)

    def stats(self, session_id: uuid.UUID, user_id: str, now: datetime) -> SessionStats | None:
        """Counts by role, tokens and size of a session."""
        with self._uow.begin() as conn:
            row = self._live(conn, session_id, user_id, now)
            if row is None:
                return None
            roles: Counter[str] = Counter(dict(conn.execute(select(chat_messages.c.role, func.count()).where(
                chat_messages.c.session_id == row.id).group_by(chat_messages.c.role)).all()))
            size = conn.execute(select(func.coalesce(func.sum(func.length(chat_messages.c.content)), 0)).where(
                chat_messages.c.session_id == row.id)).scalar()
        session = _session(row)
        return SessionStats(session_id=session.id, message_count=session.message_count,
                            total_tokens=session.total_tokens, messages_by_role=dict(roles),
                            content_characters=int(size or 0), created_at=session.created_at,
                            last_accessed=session.last_accessed, expires_at=session.expires_at)

    def purge_expired(self, now: datetime) -> int:
        """Delete every expired session with its messages; how many sessions."""
        with self._uow.begin(write=True) as conn:
            return int(conn.execute(delete(chat_sessions).where(chat_sessions.c.expires_at <= now)).rowcount)
