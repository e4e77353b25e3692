"""Agent checkpoints (LangGraph's persistence): the rows every backend keeps, and the rules on them.

A thread of one owner (a user) holds checkpoints per namespace; a checkpoint stores its channel values
by reference (channel, version), each value written once when its version is new, so a step writes what
changed, not the whole state. Pending writes belong to a checkpoint. Serialised values are opaque typed
bytes (the serializer's type tag and data).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from alexdb.domain.errors import BackendError, ValidationError

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
    """The value of one channel at one version (type "empty" when the channel had none).

    A value larger than CHUNK_BYTES is stored as chunks: value.data is then empty and chunks names, in
    order, the content hashes of the pieces (each piece stored once per thread).
    """

    thread_id: str
    ns: str
    channel: str
    version: str
    value: Typed
    chunks: tuple[str, ...] = ()


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


class Snapshot(NamedTuple):
    """A checkpoint with the channel values it references and its pending writes: what resuming it needs."""

    checkpoint: CheckpointRow
    blobs: list[BlobRow]
    writes: list[WriteRow]


@dataclass(frozen=True)
class ThreadRows:
    """Everything one thread holds (to copy it)."""

    checkpoints: list[CheckpointRow]
    blobs: list[BlobRow]
    writes: list[WriteRow]
    chunks: dict[str, bytes] = field(default_factory=dict)


# A channel's value changes whole from step to step (a conversation's message list is one value), but most
# of its serialised bytes stay as they were: stored in pieces named by their hash, a step stores only the
# pieces that changed, so a thread grows with its new content, not with its whole state at every step.
# The first piece is small because a list's header (its length) changes with every append; the last one
# changes as content is appended, so pieces are small enough that rewriting it costs little.
HEAD_BYTES, CHUNK_BYTES = 64, 2048
NAME_CHARS = 40  # a piece's name: the first 160 bits of its SHA-256, in hex
# Past this many pieces the list of names is itself stored as pieces (it too keeps its prefix from step to
# step), so what a step adds stays constant as the value grows: the list of a 1 MB value is 20 KB.
DIRECT_NAMES = 32
INDIRECT = "@"  # a manifest that begins so names the pieces of the list of names


class Cut(NamedTuple):
    """A value as cut into pieces: the pieces in order and their names."""

    parts: tuple[bytes, ...]
    names: tuple[str, ...]


def _name(part: bytes) -> str:
    return hashlib.sha256(part).hexdigest()[:NAME_CHARS]


def _split(data: bytes, previous: Cut | None = None) -> tuple[Cut, dict[str, bytes]]:
    parts = (data[:HEAD_BYTES], *(data[i:i + CHUNK_BYTES] for i in range(HEAD_BYTES, len(data), CHUNK_BYTES)))
    # Pieces are cut at fixed offsets, so where a value's bytes are those of the channel's previous value
    # at the same place (a list that grew at its end), its pieces are the previous pieces: comparing two
    # pieces costs a tenth of hashing one. Only the pieces that differ are hashed.
    if previous is None:
        names = tuple(map(_name, parts))
    else:
        names = (*(name if part == before else _name(part)
                   for part, before, name in zip(parts, previous.parts, previous.names, strict=False)),
                 *map(_name, parts[len(previous.parts):]))
    return Cut(parts, names), dict(zip(names, parts, strict=True))


def chunked(blob: BlobRow, previous: Cut | None = None) -> tuple[BlobRow, dict[str, bytes], Cut | None]:
    """A blob as stored: itself when small, else its manifest and its pieces by name; and how its value was
    cut (pass it back as previous with the channel's next value: unchanged pieces are not hashed again)."""
    data = blob.value.data
    if len(data) <= 2 * CHUNK_BYTES:
        return blob, {}, None
    cut, pieces = _split(data, previous)
    names = cut.names
    if len(names) > DIRECT_NAMES:
        listing, more = _split("".join(names).encode("ascii"))
        names, pieces = (INDIRECT, *listing.names), pieces | more
    return replace(blob, value=Typed(blob.value.type, b""), chunks=names), pieces, cut


HELD_THREADS = 1024  # threads whose pieces a process remembers having written
Held = OrderedDict[tuple[str, str], tuple[str, set[str]]]
"""(owner, thread) -> (the thread's generation, names of pieces it holds), most recently used last."""


def remember(held: Held, thread: tuple[str, str], generation: str, names: Iterable[str]) -> None:
    """Note that a thread (in this generation) holds these pieces; forget the least recent threads."""
    known = held.pop(thread, None)
    names_held = known[1] if known is not None and known[0] == generation else set()
    names_held.update(names)
    held[thread] = (generation, names_held)
    while len(held) > HELD_THREADS:
        held.popitem(last=False)


def unheld(held: Held, thread: tuple[str, str], generation: str, pieces: Mapping[str, bytes],
           stored: Callable[[list[str]], set[str]]) -> dict[str, bytes]:
    """The pieces a thread does not hold yet, for a store to write.

    Pieces go only with their thread, so what a thread held in one generation it holds for all of it: those
    this process wrote in this generation are left out without asking; on its first write to the thread,
    stored (the store's read of which of these names it holds) says.
    """
    if not pieces:
        return {}
    known = held.get(thread)
    if known is not None and known[0] == generation:
        return known_unheld(held, thread, pieces)[1]
    have = stored(list(pieces))
    return {name: data for name, data in pieces.items() if name not in have}


def known_unheld(held: Held, thread: tuple[str, str], pieces: Mapping[str, bytes]) -> tuple[str, dict[str, bytes]]:
    """For a thread this process has written (KeyError otherwise): the generation it knows the thread by, and
    the pieces the thread does not hold in it (a store that writes only if that generation still holds)."""
    generation, have = held[thread]
    return generation, {name: data for name, data in pieces.items() if name not in have}


def wanted(blob: BlobRow, pieces: dict[str, bytes]) -> set[str]:
    """The names of the pieces a stored blob still needs, given those at hand (an indirect manifest first
    needs the pieces of its list of names, then the pieces they name)."""
    if not blob.chunks:
        return set()
    if blob.chunks[0] != INDIRECT:
        return {name for name in blob.chunks if name not in pieces}
    listing = [name for name in blob.chunks[1:] if name not in pieces]
    if listing:
        return set(listing)
    return {name for name in _names(blob, pieces) if name not in pieces}


def _names(blob: BlobRow, pieces: dict[str, bytes]) -> list[str]:
    if blob.chunks[0] != INDIRECT:
        return list(blob.chunks)
    text = b"".join(pieces[name] for name in blob.chunks[1:]).decode("ascii")
    return [text[i:i + NAME_CHARS] for i in range(0, len(text), NAME_CHARS)]


def assembled(blob: BlobRow, pieces: dict[str, bytes]) -> BlobRow:
    """A stored blob with its value whole again."""
    if not blob.chunks:
        return blob
    missing = wanted(blob, pieces)
    if missing:
        raise BackendError(f"checkpoint value {blob.channel}@{blob.version} of thread {blob.thread_id!r} misses "
                           f"{len(missing)} of its pieces")
    data = b"".join(pieces[name] for name in _names(blob, pieces))
    return replace(blob, value=Typed(blob.value.type, data), chunks=())


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
