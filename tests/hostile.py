"""Hostile inputs shared by the tests and the refusal benchmark."""

from __future__ import annotations

from typing import Any


def nested(levels: int) -> dict[str, Any]:
    """A JSON object nested levels deep ({"a": {"a": ...}}), built without recursion."""
    root: dict[str, Any] = {}
    node = root
    for _ in range(levels):
        node["a"] = {}
        node = node["a"]
    return root
