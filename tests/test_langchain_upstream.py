"""LangChain's own unit tests of chat histories and RunnableWithMessageHistory, against db.chat on every
backend: taken from the installed langchain-core's sdist at test time (tests/upstream.py), with the
in-memory history they use replaced by AlexdbChatMessageHistory."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from alexdb import Database
from alexdb.integrations.langchain import AlexdbChatMessageHistory
from tests.upstream import load, run_module, source_tests

MODULES = ["tests/unit_tests/chat_history/test_chat_history.py", "tests/unit_tests/runnables/test_history.py"]
SUPPORT = ["tests/__init__.py", "tests/unit_tests/__init__.py", "tests/unit_tests/pydantic_utils.py",
           "tests/unit_tests/chat_history/__init__.py", "tests/unit_tests/runnables/__init__.py"]


def backed_by(db: Database) -> type[AlexdbChatMessageHistory]:
    """InMemoryChatMessageHistory's constructor and equality, each instance a new session in db."""

    class AlexdbBacked(AlexdbChatMessageHistory):
        def __init__(self, messages: Sequence[BaseMessage] = ()) -> None:
            super().__init__(session_id=str(uuid.uuid4()), user_id="upstream", db=db)
            self.add_messages(messages)

        def __eq__(self, other: object) -> bool:
            return isinstance(other, AlexdbChatMessageHistory) and self.messages == other.messages

        __hash__ = None  # type: ignore[assignment]

    return AlexdbBacked


@pytest.mark.filterwarnings("ignore::langchain_core._api.deprecation.LangChainDeprecationWarning")
@pytest.mark.parametrize("path", MODULES)
def test_langchain_own_tests_pass_on_alexdb(db: Database, path: str, pytestconfig: pytest.Config) -> None:
    root = source_tests(pytestconfig, "langchain-core", MODULES + SUPPORT)
    module: Any = load(root / path, root)
    ran, failures = run_module(module, {"InMemoryChatMessageHistory": backed_by(db)})
    assert not failures, f"{len(failures)} of {ran} failed:\n" + "\n".join(failures)
    assert ran >= (5 if "chat_history" in path else 20)
    assert len(db.chat.list_sessions("upstream")) > 0  # their histories were sessions here
