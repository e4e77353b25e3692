"""Agent checkpoints (LangGraph's persistence): the rows every backend keeps, and the rules on them.

A thread of one owner (a user) holds checkpoints per namespace; a checkpoint stores its channel values
by reference (channel, version), each value written once when its version is new, so a step writes what
changed, not the whole state. Pending writes belong to a checkpoint. Serialised values are opaque typed
bytes (the serializer's type tag and data).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alexdb.domain.errors import ValidationError

MAX_KEY = 255  # thread ids, namespaces, channel names, task ids, versions
SEPARATOR = "\x1f"


@dataclass(frozen=True)
class Typed:
    """A serialised value: the serializer's type tag and its bytes."""

    type: str
    data: bytes


@dataclass(frozen=True)
class CheckpointRow:
    """One checkpoint without its channel values (they are BlobRows, by channel version)."""

    thread_id: str
    ns: str
    checkpoint_id: str
    parent_id: str | None
    checkpoint: Typed
    metadata: Typed
    run_id: str | None
    versions: dict[str, str]  # channel -> version of every value it holds (the blobs it references)


@dataclass(frozen=True)
class BlobRow:
    """The value of one channel at one version (type "empty" when the channel had none)."""

    thread_id: str
    ns: str
    channel: str
    version: str
    value: Typed


@dataclass(frozen=True)
class WriteRow:
    """A pending write of a task, against a checkpoint (idx < 0: a special write, replaced when rewritten)."""

    thread_id: str
    ns: str
    checkpoint_id: str
    task_id: str
    idx: int
    channel: str
    value: Typed
    task_path: str


@dataclass(frozen=True)
class ThreadRows:
    """Everything one thread holds (to copy it)."""

    checkpoints: list[CheckpointRow]
    blobs: list[BlobRow]
    writes: list[WriteRow]


def check_key(field: str, value: Any, empty: bool = False) -> str:
    """A key part: text of at most MAX_KEY characters (empty only where empty is allowed), without NUL or
    the unit separator (U+001F: DynamoDB's sort keys join parts with it)."""
    if (not isinstance(value, str) or len(value) > MAX_KEY or (not value and not empty) or "\x00" in value
            or SEPARATOR in value):
        raise ValidationError(field, value, f"must be text of {'0' if empty else '1'}-{MAX_KEY} characters, "
                                            "without NUL or U+001F")
    return value


def check_keep(keep: Any) -> int:
    """How many checkpoints of a namespace pruning keeps (>= 1)."""
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise ValidationError("keep_last", keep, "must be a whole number >= 1")
    return keep


def check_ttl(ttl: Any) -> timedelta | None:
    """A positive lifetime after the last write, or None (threads never expire)."""
    if ttl is not None and (not isinstance(ttl, timedelta) or ttl <= timedelta(0)):
        raise ValidationError("ttl", ttl, "must be a positive timedelta or None")
    return ttl


def expiry(now: datetime, ttl: timedelta | None) -> datetime | None:
    """When a thread written at now expires."""
    return None if ttl is None else now + ttl
