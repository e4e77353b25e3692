"""Long-term memory (LangGraph's store): JSON items by namespace and key, per user, and the rules on them.

A namespace is a tuple of labels; stores keep it as text, each label followed by U+001F, so the text of a
namespace prefix is a prefix of the text of every namespace under it, and nothing else's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from alexdb.domain.errors import ValidationError
from alexdb.domain.payloads import plain_json

END = "\x1f"  # ends each label of a namespace's text
MAX_LABEL, MAX_DEPTH = 255, 16
# A namespace's text and a key each within 500 bytes of UTF-8: together they make DynamoDB's sort key
# (at most 1,024 bytes) and, with the owner, PostgreSQL's primary key (an index entry holds 2,704).
MAX_BYTES = 500
MAX_ITEM_BYTES = 350_000  # value and vectors: one DynamoDB item (400 KB) with room for the rest, everywhere
OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")


@dataclass(frozen=True)
class MemoryItem:
    """A stored value; vectors holds the embedding of each indexed text (by its path in the value)."""

    namespace: tuple[str, ...]
    key: str
    value: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = None
    ttl: timedelta | None = None
    vectors: dict[str, list[float]] = field(default_factory=dict)


def check_namespace(field_name: str, namespace: Any, empty: bool = False) -> tuple[str, ...]:
    """A namespace: a tuple of 1-255 character labels without '.', NUL, U+001E or U+001F (empty only as a
    prefix), at most MAX_DEPTH deep."""
    if not isinstance(namespace, tuple) or (not namespace and not empty) or len(namespace) > MAX_DEPTH:
        raise ValidationError(field_name, namespace, f"must be a tuple of 1-{MAX_DEPTH} labels")
    for label in namespace:
        if (not isinstance(label, str) or not 0 < len(label) <= MAX_LABEL
                or any(bad in label for bad in (".", "\x00", "\x1e", END))):
            raise ValidationError(field_name, namespace,
                                  f"labels must be 1-{MAX_LABEL} characters without '.', NUL, U+001E or U+001F")
    if len(namespace_text(namespace).encode("utf-8")) > MAX_BYTES:
        raise ValidationError(field_name, namespace, f"longer than {MAX_BYTES} bytes (labels and separators)")
    return namespace


def check_key(key: Any) -> str:
    """An item key: text of 1 to MAX_BYTES bytes without NUL."""
    if (not isinstance(key, str) or not key or len(key) > MAX_BYTES or "\x00" in key
            or len(key.encode("utf-8", "surrogatepass")) > MAX_BYTES):
        raise ValidationError("key", key, f"must be text of 1-{MAX_BYTES} bytes without NUL")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError("key", key, "contains a lone surrogate (not valid Unicode text)") from exc
    return key


def namespace_text(namespace: Sequence[str]) -> str:
    """The text a store keeps a namespace (or a prefix of one) as."""
    return "".join(label + END for label in namespace)


def namespace_of(text: str) -> tuple[str, ...]:
    """The namespace a namespace_text is of."""
    return tuple(text.split(END)[:-1])


def check_value(value: Any, vectors: Mapping[str, list[float]]) -> tuple[dict[str, Any], str]:
    """A JSON object (as it reads back) and its text, value and vectors together within MAX_ITEM_BYTES."""
    if not isinstance(value, Mapping):
        raise ValidationError("value", value, "must be a JSON object (dict)")
    text, read = plain_json("value", dict(value))
    size = len(text.encode("utf-8")) + sum(len(v) * 24 for v in vectors.values())
    if size > MAX_ITEM_BYTES:
        raise ValidationError("value", f"<{size} bytes>", f"larger than the {MAX_ITEM_BYTES}-byte limit "
                                                          "(with its embeddings)")
    return read, text


def check_ttl_minutes(ttl: Any) -> timedelta | None:
    """LangGraph's ttl (minutes, or None for no expiry) as a timedelta."""
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not 0 < ttl < 10**8 or ttl != ttl:
        raise ValidationError("ttl", ttl, "must be a positive number of minutes, or None")
    return timedelta(minutes=ttl)


def matches(value: Any, wanted: Any) -> bool:
    """Whether a stored value satisfies a filter: equality, nested objects field by field, lists element by
    element, and the comparison operators ($eq, $ne, $gt, $gte, $lt, $lte) as LangGraph's stores read them."""
    if isinstance(wanted, Mapping):
        operators = [k for k in wanted if k.startswith("$")]
        if operators:
            return all(_compare(value, op, operand) for op, operand in wanted.items())
        return isinstance(value, Mapping) and all(matches(value.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list | tuple):
        return (isinstance(value, list | tuple) and len(value) == len(wanted)
                and all(matches(v, w) for v, w in zip(value, wanted, strict=True)))
    return bool(value == wanted)


def _compare(value: Any, operator: str, operand: Any) -> bool:
    if operator == "$eq":
        return bool(value == operand)
    if operator == "$ne":
        return bool(value != operand)
    if operator not in OPERATORS:
        raise ValidationError("filter", operator, f"unknown operator (one of {', '.join(OPERATORS)})")
    try:
        left, right = float(value), float(operand)
    except (TypeError, ValueError):
        return False
    return {"$gt": left > right, "$gte": left >= right, "$lt": left < right, "$lte": left <= right}[operator]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity (0 when either vector is zero)."""
    dot = math.fsum(x * y for x, y in zip(a, b, strict=False))
    norms = math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b))
    return dot / norms if norms else 0.0


def label_matches(namespace: tuple[str, ...], path: Sequence[str], suffix: bool) -> bool:
    """Whether a namespace starts (or ends) with path, '*' matching any one label."""
    if len(namespace) < len(path):
        return False
    part = namespace[len(namespace) - len(path):] if suffix else namespace[:len(path)]
    return all(p in ("*", n) for n, p in zip(part, path, strict=True))
