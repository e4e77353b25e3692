"""Conversation memory: chat sessions and their messages, and the rules every backend follows."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, get_args

from pydantic import AwareDatetime, Field, StringConstraints

from alexdb.domain.errors import ValidationError
from alexdb.domain.ids import new_id
from alexdb.domain.instants import utcnow
from alexdb.domain.models import ClerkUserId, Record, clean_text
from alexdb.domain.numbers import WholeNumber
from alexdb.domain.payloads import plain_json
from alexdb.domain.validate import build

Role = Literal["user", "assistant", "system", "tool"]
# How the tutor teaches in a session (seed 003 names the field, not its values; these are ours).
PedagogyMode = Literal["socratic", "direct", "guided", "exploratory"]
ROLES: tuple[str, ...] = get_args(Role)
PEDAGOGY_MODES: tuple[str, ...] = get_args(PedagogyMode)
DEFAULT_MODE: PedagogyMode = "socratic"
DEFAULT_TTL = timedelta(days=30)
MAX_CONTENT_BYTES = 1024 * 1024  # 1 MiB of UTF-8
MAX_CONTEXT_IDS = 100
MAX_TOKENS = 2**31 - 1  # the column is a 32-bit integer on every SQL engine

Title = Annotated[str, StringConstraints(min_length=1, max_length=255)]
ContextId = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=255)]
MAX_TOOL_CALLS = 1000
MAX_BATCH = 1000  # messages appended in one transaction
# Structured parts kept beside the text, as the agent frameworks give them (see MessageParts).
PART_FIELDS = ("name", "message_id", "tool_calls", "tool_call_id", "blocks", "metadata")


class ToolCall(Record):
    """A tool call an assistant message makes: what a later tool message answers (by id)."""

    id: Label | None = None
    name: Annotated[str, StringConstraints(max_length=255)]  # a streamed call's may still be empty
    args: dict[str, Any] = Field(default_factory=dict)


class MessageParts(Record):
    """The structured parts of a message, first-class beside its text.

    blocks keeps content given as a list of blocks (text, images, tool use...) with its structure; content
    then holds the text of its text blocks. metadata keeps whatever else a framework attaches (a LangChain
    message's additional_kwargs, response_metadata, usage, artifact...), as JSON.
    """

    name: Label | None = None
    message_id: Label | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list, max_length=MAX_TOOL_CALLS)
    tool_call_id: Label | None = None
    blocks: list[Any] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class ChatSession(Record):
    """A conversation of one user; expires_at moves forward with every activity."""

    id: uuid.UUID
    user_id: ClerkUserId
    title: Title | None = None
    pedagogy_mode: PedagogyMode = DEFAULT_MODE
    created_at: AwareDatetime
    last_accessed: AwareDatetime
    expires_at: AwareDatetime
    total_tokens: Annotated[WholeNumber, Field(ge=0)] = 0
    message_count: Annotated[WholeNumber, Field(ge=0)] = 0


class ChatMessage(MessageParts):
    """One message; seq orders the messages of a session (1, 2, 3, ... in the order they were added)."""

    session_id: uuid.UUID
    seq: Annotated[WholeNumber, Field(ge=1)]
    role: Role
    content: str
    tokens: Annotated[WholeNumber, Field(ge=0, le=MAX_TOKENS)] | None = None
    context_ids: list[ContextId] = Field(default_factory=list, max_length=MAX_CONTEXT_IDS)
    created_at: AwareDatetime


class SessionStats(Record):
    """What a session holds."""

    session_id: uuid.UUID
    message_count: int
    total_tokens: int
    messages_by_role: dict[str, int]
    content_characters: int
    created_at: datetime
    last_accessed: datetime
    expires_at: datetime


class NewMessage(MessageParts):
    """A message as given, before it has a place in a session."""

    role: Role
    content: str
    tokens: Annotated[WholeNumber, Field(ge=0, le=MAX_TOKENS)] | None = None
    context_ids: list[ContextId] = Field(default_factory=list, max_length=MAX_CONTEXT_IDS)


class _SessionFields(Record):
    user_id: ClerkUserId
    title: Title | None = None
    pedagogy_mode: PedagogyMode = DEFAULT_MODE


def check_new_session(user_id: Any, title: Any, pedagogy_mode: Any) -> _SessionFields:
    """Validated fields of a new session."""
    return build(_SessionFields, {"user_id": user_id, "title": title, "pedagogy_mode": pedagogy_mode})


def new_session(user_id: Any, title: Any, pedagogy_mode: Any, ttl: timedelta,
                session_id: uuid.UUID | None = None) -> ChatSession:
    """A validated new session, active now, expiring ttl from now."""
    fields = check_new_session(user_id, title, pedagogy_mode)
    now = utcnow()
    return ChatSession(id=session_id or new_id(), user_id=fields.user_id, title=fields.title,
                       pedagogy_mode=fields.pedagogy_mode, created_at=now, last_accessed=now, expires_at=now + ttl)


def check_message(role: Any, content: Any, tokens: Any, context_ids: Any,
                  parts: Mapping[str, Any] | None = None) -> NewMessage:
    """A valid message; content up to MAX_CONTENT_BYTES of UTF-8, larger is refused (never truncated), and
    its structured parts JSON of at most as much again."""
    if not isinstance(content, str):
        raise ValidationError("content", content, "must be text")
    if len(content) > MAX_CONTENT_BYTES:  # each character is at least a byte: refused before encoding it
        raise ValidationError("content", f"<{len(content)} characters>",
                              f"larger than the {MAX_CONTENT_BYTES}-byte limit")
    try:
        size = len(clean_text(content).encode("utf-8"))
    except ValueError as exc:
        raise ValidationError("content", content, str(exc)) from exc
    if size > MAX_CONTENT_BYTES:
        raise ValidationError("content", f"<{size} bytes>", f"larger than the {MAX_CONTENT_BYTES}-byte limit")
    given = dict(parts or {})
    unknown = sorted(set(given) - set(PART_FIELDS))
    if unknown:
        raise ValidationError(unknown[0], given[unknown[0]], f"not a message part (one of {', '.join(PART_FIELDS)})")
    for field in ("tool_calls", "blocks", "metadata"):
        if given.get(field) is not None:
            given[field] = plain_json(field, given[field])[1]
    message = build(NewMessage, {"role": role, "content": content, "tokens": tokens,
                                 "context_ids": [] if context_ids is None else context_ids, **given})
    size = len(stored_parts(message) or "")
    if size > MAX_CONTENT_BYTES:
        raise ValidationError("parts", f"<{size} bytes>", f"larger than the {MAX_CONTENT_BYTES}-byte limit")
    return message


def stored_parts(message: MessageParts) -> str | None:
    """The parts a message carries as one JSON document (None when it has none): how every store keeps them."""
    kept = {name: value for name, value in message.model_dump(include=set(PART_FIELDS), mode="json").items()
            if value not in (None, [], {}) or (name == "blocks" and value is not None)}
    return json.dumps(kept, separators=(",", ":"), ensure_ascii=False) if kept else None


def read_parts(text: str | None) -> dict[str, Any]:
    """The parts stored_parts wrote, as fields for a message."""
    return {} if not text else dict(json.loads(text))


def check_mode(mode: Any) -> str:
    """A known pedagogy mode."""
    if mode not in PEDAGOGY_MODES:
        raise ValidationError("pedagogy_mode", mode, f"must be one of {', '.join(PEDAGOGY_MODES)}")
    return str(mode)


def check_title(title: Any) -> str:
    """A title of 1-255 characters."""
    if not isinstance(title, str) or not 1 <= len(title) <= 255:
        raise ValidationError("title", title, "must be 1-255 characters")
    return title


def check_keep_last(keep_last: Any) -> int:
    """How many messages truncate keeps (>= 0)."""
    if isinstance(keep_last, bool) or not isinstance(keep_last, int) or keep_last < 0:
        raise ValidationError("keep_last", keep_last, "must be a whole number >= 0")
    return keep_last


def check_ttl(ttl: Any) -> timedelta:
    """A positive expiry window."""
    if not isinstance(ttl, timedelta) or ttl <= timedelta(0):
        raise ValidationError("chat_ttl", ttl, "must be a positive timedelta")
    return ttl
