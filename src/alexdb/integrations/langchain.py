"""A LangChain chat message history over db.chat (pip install "alexdb[langchain]").

Switching from langchain-community's DynamoDB history is one line:

    history = DynamoDBChatMessageHistory(table_name="SessionTable", session_id="conv-42")
    history = AlexdbChatMessageHistory(session_id="conv-42", user_id="user-7")   # any alexdb backend

LangChain session ids are free text; each (user_id, session_id) maps to a fixed alexdb session id
(UUIDv5), created on first use. The user scopes every read and write.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from typing import Any

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage, messages_from_dict

import alexdb
from alexdb.database import Database
from alexdb.domain.chat import ChatMessage
from alexdb.domain.errors import ConflictError, NotFoundError

NAMESPACE = uuid.UUID("6f0b9a4e-2c51-4d9a-9f3e-5b7a1c2d3e4f")
ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool", "function": "tool"}
TYPES = {"user": "human", "assistant": "ai", "system": "system", "tool": "tool"}


def session_uuid(user_id: str, session_id: str) -> uuid.UUID:
    """The alexdb session id of a LangChain session id (fixed per user and text)."""
    return uuid.uuid5(NAMESPACE, f"{user_id}\x1f{session_id}")


class AlexdbChatMessageHistory(BaseChatMessageHistory):
    """BaseChatMessageHistory stored in db.chat: ordered, atomic appends, no 400 KB ceiling."""

    def __init__(self, session_id: str, user_id: str, db: Database | None = None, url: str | None = None,
                 title: str | None = None, window: int | None = None) -> None:
        """window: `messages` returns only the last `window` messages (what a prompt holds), read as such."""
        self.db = db if db is not None else alexdb.connect(url)
        self.user_id = user_id
        self.session_key = session_id
        self.session_id = session_uuid(user_id, session_id)
        self.window = window
        self._title = title

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """The session's messages, oldest first: all of them, or the last `window`."""
        return self.last(self.window)

    def last(self, count: int | None) -> list[BaseMessage]:
        """The last `count` messages, oldest first (all of them when count is None); one indexed read."""
        try:
            stored = self.db.chat.get_history(self.session_id, user_id=self.user_id, limit=count)
        except NotFoundError:
            return []
        return [to_langchain(message) for message in stored]

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Append messages in order, all or none (one db.chat batch, one transaction on every backend).

        The session is not read first: it is created only when an append finds none.
        """
        batch = [to_chat(message) for message in messages]
        if not batch:
            return
        try:
            self.db.chat.add_messages(self.session_id, batch, user_id=self.user_id)
        except NotFoundError:
            with contextlib.suppress(ConflictError):  # created meanwhile by another writer
                self.db.chat.create_session(self.user_id, self._title, session_id=self.session_id)
            self.db.chat.add_messages(self.session_id, batch, user_id=self.user_id)

    def clear(self) -> None:
        """Forget the session and its messages."""
        with contextlib.suppress(NotFoundError):
            self.db.chat.delete_session(self.session_id, user_id=self.user_id)


def to_chat(message: BaseMessage) -> dict[str, Any]:
    """A LangChain message as a db.chat message, losing nothing: every field of every message type.

    Text, name, id, tool calls and the tool call answered are db.chat's own fields, so other clients read
    them too; content given as blocks keeps its structure (content then holds its text); what only LangChain
    knows (the exact type, chunks included, additional_kwargs, response_metadata, usage, a tool result's
    status and artifact, a ChatMessage's role...) is kept whole under metadata["langchain"].
    """
    data = message.model_dump()
    kind = data.pop("type")
    content = data.pop("content")
    tool_calls = [{"id": call.get("id"), "name": call["name"], "args": call.get("args", {})}
                  for call in data.pop("tool_calls", None) or []]
    usage = data.get("usage_metadata") or {}
    parts: dict[str, Any] = {
        "role": _role(kind, data.get("role")), "tokens": usage.get("total_tokens"),
        "content": content if isinstance(content, str) else _text(content),
        "blocks": None if isinstance(content, str) else content,
        "name": data.pop("name", None), "message_id": data.pop("id", None),
        "tool_call_id": data.pop("tool_call_id", None), "tool_calls": tool_calls,
        "metadata": {"langchain": {"type": kind, **data}}}
    return parts


def _role(kind: str, role: Any) -> str:
    """db.chat's role for a LangChain type (a ChatMessage's own role when db.chat has it)."""
    base = kind.removesuffix("MessageChunk").lower()
    if base == "chat":
        return role if role in ROLES.values() else "assistant"
    return ROLES.get(base, "assistant")


def _text(blocks: list[Any]) -> str:
    """The text of content blocks (plain strings and text blocks), for readers that want only text."""
    return "".join(block if isinstance(block, str) else str(block.get("text", ""))
                   for block in blocks if isinstance(block, str) or block.get("type") == "text")


def to_langchain(message: ChatMessage) -> BaseMessage:
    """The LangChain message a db.chat message holds (to_chat's inverse; any other as its role's type)."""
    kept = dict(message.metadata.get("langchain") or {})
    kind = kept.pop("type", None) or TYPES[message.role]
    data: dict[str, Any] = {**kept, "content": message.content if message.blocks is None else message.blocks}
    if message.name is not None:
        data["name"] = message.name
    if message.message_id is not None:
        data["id"] = message.message_id
    if message.tool_calls:
        data["tool_calls"] = [{"type": "tool_call", **call.model_dump()} for call in message.tool_calls]
    if message.tool_call_id is not None or kind.startswith("tool"):
        data["tool_call_id"] = message.tool_call_id or ((message.context_ids or [""])[0])
    return messages_from_dict([{"type": kind, "data": data}])[0]
