"""A LangChain chat message history over db.chat (pip install "alexdb[langchain]").

Switching from langchain-community's DynamoDB history is one line:

    history = DynamoDBChatMessageHistory(table_name="SessionTable", session_id="conv-42")
    history = AlexdbChatMessageHistory(session_id="conv-42", user_id="user-7")   # any alexdb backend

LangChain session ids are free text; each (user_id, session_id) maps to a fixed alexdb session id
(UUIDv5), created on first use. The user scopes every read and write.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Sequence
from typing import Any

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

import alexdb
from alexdb.database import Database
from alexdb.domain.errors import ConflictError, NotFoundError

NAMESPACE = uuid.UUID("6f0b9a4e-2c51-4d9a-9f3e-5b7a1c2d3e4f")
ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


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
        return [_to_langchain(message) for message in stored]

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Append messages in order (each append is atomic with the session's counters).

        The session is not read first: it is created only when an append finds none.
        """
        for message in messages:
            role = ROLES.get(message.type)
            if role is None:
                raise ValueError(f"unsupported LangChain message type {message.type!r}")
            content = message.content if isinstance(message.content, str) else json.dumps(message.content)
            usage = getattr(message, "usage_metadata", None) or {}
            context = [message.tool_call_id] if isinstance(message, ToolMessage) else None
            try:
                self._append(role, content, usage.get("total_tokens"), context)
            except NotFoundError:
                with contextlib.suppress(ConflictError):  # created meanwhile by another writer
                    self.db.chat.create_session(self.user_id, self._title, session_id=self.session_id)
                self._append(role, content, usage.get("total_tokens"), context)

    def _append(self, role: str, content: str, tokens: int | None, context: list[str] | None) -> None:
        self.db.chat.add_message(self.session_id, role, content, tokens=tokens, context_ids=context,
                                 user_id=self.user_id)

    def clear(self) -> None:
        """Forget the session and its messages."""
        with contextlib.suppress(NotFoundError):
            self.db.chat.delete_session(self.session_id, user_id=self.user_id)


def _to_langchain(message: Any) -> BaseMessage:
    if message.role == "user":
        return HumanMessage(content=message.content)
    if message.role == "assistant":
        return AIMessage(content=message.content)
    if message.role == "system":
        return SystemMessage(content=message.content)
    return ToolMessage(content=message.content, tool_call_id=(message.context_ids or [""])[0])
