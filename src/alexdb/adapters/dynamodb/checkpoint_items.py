"""The items agent checkpoints are kept as on DynamoDB, read back into rows (see adapters/dynamodb/checkpoints)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from alexdb.domain.checkpoints import SEPARATOR as S
from alexdb.domain.checkpoints import BlobRow, CheckpointRow, Typed, WriteRow

PART_BYTES = 350_000  # a value's bytes per item: under the 400 KB limit with room for the rest
IDX = 10**6  # write indexes (special ones are negative) shifted to sort as text


def parts(data: bytes) -> list[bytes]:
    """A value's bytes in item-sized parts (one empty part for no bytes)."""
    return [data[i:i + PART_BYTES] for i in range(0, len(data), PART_BYTES)] or [b""]


def joined(items: list[dict[str, Any]]) -> bytes | None:
    """The value split across items (sorted by key), or None while some part is missing."""
    if not items or len(items) != int(items[0]["parts"]):
        return None
    return b"".join(bytes(i["data"]) for i in sorted(items, key=lambda i: i["SK"]))


def grouped(items: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Consecutive items of one value (same sort key but the part) as one list."""
    group: list[dict[str, Any]] = []
    for item in items:
        stem = item["SK"].rsplit(S, 1)[0]
        if group and group[0]["SK"].rsplit(S, 1)[0] != stem:
            yield group
            group = []
        group.append(item)
    if group:
        yield group


def checkpoint_row(thread_id: str, items: list[dict[str, Any]]) -> CheckpointRow | None:
    """A checkpoint from its parts (None while a part is missing)."""
    data = joined(items)
    if data is None:
        return None
    first = items[0]
    split = int(first["checkpoint_bytes"])
    _, ns, checkpoint_id, _ = first["SK"].split(S)
    return CheckpointRow(thread_id, ns, checkpoint_id, first.get("parent_id"), Typed(first["type"], data[:split]),
                         Typed(first["metadata_type"], data[split:]), first.get("run_id"),
                         json.loads(first["versions"]))


def blob_row(thread_id: str, items: list[dict[str, Any]]) -> BlobRow | None:
    """A channel value from its parts (None while a part is missing)."""
    data = joined(items)
    if data is None:
        return None
    _, ns, channel, version, _ = items[0]["SK"].split(S)
    chunks = tuple(items[0]["chunks"].split(",")) if "chunks" in items[0] else ()
    return BlobRow(thread_id, ns, channel, version, Typed(items[0]["type"], data), chunks)


def write_row(thread_id: str, items: list[dict[str, Any]]) -> WriteRow | None:
    """A pending write from its parts (None while a part is missing)."""
    items = [i for i in items if int(i["SK"].rsplit(S, 1)[1]) < int(items[0]["parts"])]  # a longer one replaced
    data = joined(items)
    if data is None:
        return None
    _, ns, checkpoint_id, task_id, idx, _ = items[0]["SK"].split(S)
    first = items[0]
    return WriteRow(thread_id, ns, checkpoint_id, task_id, int(idx) - IDX, first["channel"],
                    Typed(first["type"], data), first["task_path"])
