"""db.chat: conversation memory, scoped by user, expiring after inactivity, over any backend's ChatRecords."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from alexdb.domain.chat import (
    DEFAULT_MODE,
    DEFAULT_TTL,
    MAX_BATCH,
    ChatMessage,
    ChatSession,
    NewMessage,
    SessionStats,
    check_keep_last,
    check_message,
    check_mode,
    check_title,
    check_ttl,
    new_session,
)
from alexdb.domain.errors import ConflictError, NotFoundError, ValidationError
from alexdb.domain.instants import utcnow
from alexdb.domain.models import user_key
from alexdb.domain.paging import Bookmark, Cursors, Results, check_limit, scope
from alexdb.domain.validate import parse_id
from alexdb.ports import ChatRecords, Rows


def _key(session_id: Any) -> uuid.UUID:
    try:
        return parse_id("chat session", session_id)
    except NotFoundError:
        raise NotFoundError("chat session", session_id) from None


def _user(user_id: Any) -> str:
    return user_key(user_id)


def _new_message(number: int, message: NewMessage | Mapping[str, Any]) -> NewMessage:
    """One message of a batch, checked as add_message checks it (the field named with its place)."""
    if isinstance(message, NewMessage):
        message = message.model_dump()
    if not isinstance(message, Mapping):
        raise ValidationError(f"messages[{number}]", message, "must be a message (a mapping or NewMessage)")
    fields = dict(message)
    try:
        return check_message(fields.pop("role", None), fields.pop("content", None), fields.pop("tokens", None),
                             fields.pop("context_ids", None), fields)
    except ValidationError as exc:
        raise ValidationError(f"messages[{number}].{exc.field}", exc.value, exc.reason) from None


def _found(value: Any, session_id: Any) -> Any:
    if value is None or value is False:
        raise NotFoundError("chat session", session_id)
    return value


class ChatService:
    """The public chat API. Every call is scoped by user: another user's session, or an expired one, is not found.

    A session expires `ttl` after its last write (30 days by default); expired sessions never come back.
    """

    def __init__(self, records: ChatRecords, cursors: Cursors, ttl: timedelta = DEFAULT_TTL) -> None:
        self._records, self._cursors, self.ttl = records, cursors, check_ttl(ttl)

    def create_session(self, user_id: str, title: str | None = None, pedagogy_mode: str = DEFAULT_MODE,
                       session_id: uuid.UUID | None = None) -> ChatSession:
        """Open a session for user_id (with a new id unless one is given); ConflictError if the id is taken."""
        session = new_session(user_id, title, pedagogy_mode, self.ttl, session_id)
        if not self._records.insert_session(session):
            raise ConflictError(f"chat session {session.id} already exists")
        return session

    def get_session(self, session_id: uuid.UUID | str, *, user_id: str) -> ChatSession:
        """The user's session; NotFoundError if it does not exist, is another user's, or has expired."""
        found: ChatSession = _found(
            self._records.live_session(_key(session_id), _user(user_id), utcnow()), session_id)
        return found

    def add_message(self, session_id: uuid.UUID | str, role: str, content: str, tokens: int | None = None,
                    context_ids: list[str] | None = None, *, user_id: str, **parts: Any) -> ChatMessage:
        """Append a message; the session's counts, seq and expiry change with it, atomically.

        parts: the message's structured parts (domain.chat.MessageParts: name, message_id, tool_calls,
        tool_call_id, blocks, metadata), kept as given and returned with it.
        """
        new = check_message(role, content, tokens, context_ids, parts)
        return self._append(session_id, user_id, [new])[0]

    def add_messages(self, session_id: uuid.UUID | str, messages: Sequence[NewMessage | Mapping[str, Any]], *,
                     user_id: str) -> list[ChatMessage]:
        """Append several messages in order, all or none: one transaction on every backend.

        Each message is a NewMessage or a mapping of add_message's arguments (role, content, tokens,
        context_ids and the parts); every one is checked before anything is written.
        """
        if isinstance(messages, str | bytes | Mapping) or not isinstance(messages, Sequence):
            raise ValidationError("messages", messages, "must be a list of messages")
        if len(messages) > MAX_BATCH:
            raise ValidationError("messages", f"<{len(messages)} messages>", f"more than {MAX_BATCH} in one batch")
        checked = [_new_message(number, message) for number, message in enumerate(messages)]
        return self._append(session_id, user_id, checked) if checked else []

    def _append(self, session_id: uuid.UUID | str, user_id: str, messages: list[NewMessage]) -> list[ChatMessage]:
        appended: list[ChatMessage] = _found(
            self._records.append(_key(session_id), _user(user_id), messages, utcnow(), self.ttl), session_id)
        return appended

    def get_history(self, session_id: uuid.UUID | str, *, user_id: str, limit: int | None = None,
                    before: int | None = None) -> list[ChatMessage]:
        """Messages oldest first: all of them, or the last `limit` before seq `before` (page backwards with
        before = the first seq returned)."""
        size = None if limit is None else check_limit(limit)
        if before is not None and (isinstance(before, bool) or not isinstance(before, int) or before < 1):
            raise ValidationError("before", before, "must be a message seq (a whole number >= 1)")
        found: list[ChatMessage] = _found(
            self._records.messages(_key(session_id), _user(user_id), utcnow(), size, before), session_id)
        return found

    def list_sessions(self, user_id: str, limit: int | None = None,
                      cursor: str | None = None) -> Results[ChatSession]:
        """The user's live sessions, most recently active first (with limit: one page)."""
        key = _user(user_id)

        def read(after: Bookmark | None, size: int) -> Rows:
            return self._records.session_page(key, utcnow(), self.ttl, after, size)

        return Results(read, scope("chat", key), self._cursors, limit, cursor)

    def update_title(self, session_id: uuid.UUID | str, title: str, *, user_id: str) -> ChatSession:
        """Rename a session."""
        return self._touch(session_id, user_id, {"title": check_title(title)})

    def set_pedagogy_mode(self, session_id: uuid.UUID | str, pedagogy_mode: str, *, user_id: str) -> ChatSession:
        """Change how the tutor teaches in this session."""
        return self._touch(session_id, user_id, {"pedagogy_mode": check_mode(pedagogy_mode)})

    def _touch(self, session_id: uuid.UUID | str, user_id: str, changes: dict[str, Any]) -> ChatSession:
        found: ChatSession = _found(
            self._records.touch(_key(session_id), _user(user_id), utcnow(), self.ttl, changes), session_id)
        return found

    def truncate(self, session_id: uuid.UUID | str, keep_last: int, *, user_id: str) -> int:
        """Delete all but the newest keep_last messages; returns how many were deleted."""
        keep = check_keep_last(keep_last)
        removed: int = _found(
            self._records.truncate(_key(session_id), _user(user_id), keep, utcnow(), self.ttl), session_id)
        return removed

    def delete_session(self, session_id: uuid.UUID | str, *, user_id: str) -> None:
        """Delete a session and every message in it."""
        _found(self._records.delete_session(_key(session_id), _user(user_id), utcnow()), session_id)

    def session_stats(self, session_id: uuid.UUID | str, *, user_id: str) -> SessionStats:
        """Counts by role, tokens and size of a session."""
        found: SessionStats = _found(self._records.stats(_key(session_id), _user(user_id), utcnow()), session_id)
        return found

    def purge_expired(self) -> int:
        """Delete every expired session with its messages now (SQL; DynamoDB's TTL does it there); how many."""
        return self._records.purge_expired(utcnow())
