"""Ticks on DynamoDB (realtime_ticks): one compressed item per symbol, second and batch, not one per trade.

One item per trade puts SPY's 5,000 trades a second on one partition key whose sort key only rises, at
5,000 WCU against a partition's 1,000; no split can spread it. Here a batch stores each symbol's trades of
one second as one item: `timestamp` is its first trade's millisecond (the key), `last` its last, `b` the
trades (milliseconds, prices, volumes and sources as text, zlib-compressed) and `w` when it was written.
At SPY's open that is one item a second per ingest batch, of a few bytes per trade.

A millisecond is stored once: a batch whose item would start at a millisecond already taken merges into
that item (the newer trade of a millisecond wins), and where two items of one second hold the same
millisecond, reads take the one written last, as SQL's upsert does.
"""

from __future__ import annotations

import json
import time
import zlib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from alexdb.adapters.dynamodb.client import ConditionFailedError, Dynamo
from alexdb.domain.alerts import TICK_TTL_MS, Tick
from alexdb.domain.errors import BackendError, ValidationError
from alexdb.domain.instants import now_ms
from alexdb.domain.paging import Bookmark
from alexdb.domain.ticks import TickRow, column_records, tick_columns
from alexdb.ports import Rows

PARALLEL = 16


def encode(ticks: Sequence[TickRow]) -> bytes:
    """One symbol's ticks (in time order, one per millisecond) as a compressed chunk: their columns, with
    milliseconds counted from the first (small numbers compress well)."""
    return zlib.compress(json.dumps(tick_columns(ticks, ticks[0].timestamp), separators=(",", ":")).encode(), 6)


def decode(symbol: str, first: int, data: bytes) -> list[TickRow]:
    """The ticks of a chunk (checked when they were written: built as they are)."""
    return [TickRow(symbol, Decimal(r["price"]), r["timestamp"], Decimal(r["volume"]), r["source"])
            for r in column_records(symbol, json.loads(zlib.decompress(data)), first)]


def _stored_ticks(symbol: str, item: dict[str, Any]) -> list[TickRow]:
    if "b" in item:
        return decode(symbol, int(item["timestamp"]), bytes(item["b"]))
    # One tick an item: the design before chunks (TTL deletes those a day after the upgrade).
    return [TickRow(symbol, item["price"], int(item["timestamp"]), item["volume"], item["source"])]


def _seconds(ticks: Sequence[TickRow]) -> dict[tuple[str, int], list[TickRow]]:
    grouped: dict[tuple[str, int], dict[int, TickRow]] = defaultdict(dict)
    for tick in ticks:
        grouped[tick.symbol, tick.timestamp // 1000][tick.timestamp] = tick  # the last of a millisecond wins
    return {key: [by_ms[ms] for ms in sorted(by_ms)] for key, by_ms in grouped.items()}


class DynamoTicks:
    """db.ticks on DynamoDB: TTL deletes chunks 24 hours after their last trade; reads leave expired ones out."""

    def __init__(self, dynamo: Dynamo, table: str) -> None:
        self._dynamo, self._table = dynamo, table

    def write_ticks(self, ticks: Sequence[TickRow]) -> None:
        """One conditional PutItem per symbol and second, concurrently."""
        chunks = list(_seconds(ticks).values())
        if not chunks:
            return
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(chunks))) as pool:
            list(pool.map(self._put_chunk, chunks))

    def _item(self, ticks: Sequence[TickRow]) -> dict[str, Any]:
        return {"symbol": ticks[0].symbol, "timestamp": ticks[0].timestamp, "last": ticks[-1].timestamp,
                "n": len(ticks), "w": time.time_ns(), "b": encode(ticks),
                "ttl": (ticks[-1].timestamp + TICK_TTL_MS) // 1000}

    def _put_chunk(self, ticks: list[TickRow]) -> None:
        symbol, first = ticks[0].symbol, ticks[0].timestamp
        key: dict[str, Any] = {"symbol": symbol, "timestamp": first}
        written: Any = None  # the w of the item this one replaces (None: there is none)
        for attempt in self._dynamo.retry.rounds():
            try:
                if written is None:
                    self._dynamo.put(self._table, self._item(ticks), "attribute_not_exists(#ts)",
                                     {"#ts": "timestamp"})
                else:
                    self._dynamo.put(self._table, self._item(ticks), "#w = :w", {"#w": "w"}, {":w": written})
                return
            except ConditionFailedError:
                # Another batch's item starts at this millisecond (a redelivery, or more trades): merge.
                stored = self._dynamo.get(self._table, key)
                written = None if stored is None else stored.get("w", 0)
                if stored is not None:
                    merged = {t.timestamp: t for t in _stored_ticks(symbol, stored)}
                    merged.update((t.timestamp, t) for t in ticks)
                    ticks = [merged[ms] for ms in sorted(merged)]
                if attempt:  # a second merge means another batch won again: back off
                    self._dynamo.retry.sleep(min(attempt, 6))
        raise BackendError(f"ticks of {symbol} at {first}: too much contention, gave up")

    def tick_page(self, symbol: str, start_ms: int, end_ms: int, newest_first: bool, after: Bookmark | None,
                  size: int) -> Rows:
        """Live ticks with start_ms <= timestamp <= end_ms, a second's items read together (the key
        condition starts at the first second that can hold one; expired ticks are left out)."""
        low, high = max(start_ms, now_ms() - TICK_TTL_MS + 1), end_ms
        if after is not None:
            if not (isinstance(after, dict) and set(after) == {"timestamp"} and isinstance(after["timestamp"], int)):
                raise ValidationError("cursor", after, "not a position of this list")
            if newest_first:
                high = min(high, after["timestamp"] - 1)
            else:
                low = max(low, after["timestamp"] + 1)
        if low > high:
            return [], None
        found: list[Tick] = []
        for second in self._seconds_read(symbol, low, high, newest_first):
            found += second
            if len(found) > size:
                break
        page = found[:size]
        return page, {"timestamp": page[-1].timestamp} if len(found) > size else None

    def _seconds_read(self, symbol: str, low: int, high: int, newest_first: bool) -> Iterator[list[Tick]]:
        """The ticks of each second in the range, in the order asked, each second complete."""
        items = self._dynamo.query(
            self._table, KeyConditionExpression="symbol = :s AND #t BETWEEN :low AND :high",
            ExpressionAttributeNames={"#t": "timestamp"}, ScanIndexForward=not newest_first, ConsistentRead=True,
            ExpressionAttributeValues={":s": symbol, ":low": low // 1000 * 1000, ":high": high})
        group: list[dict[str, Any]] = []
        for item in items:
            if group and int(item["timestamp"]) // 1000 != int(group[0]["timestamp"]) // 1000:
                yield self._second(symbol, group, low, high, newest_first)
                group = []
            group.append(item)
        if group:
            yield self._second(symbol, group, low, high, newest_first)

    @staticmethod
    def _second(symbol: str, items: list[dict[str, Any]], low: int, high: int, newest_first: bool) -> list[Tick]:
        by_ms: dict[int, TickRow] = {}
        for item in sorted(items, key=lambda item: int(item.get("w", 0))):  # the last written wins a millisecond
            by_ms.update((t.timestamp, t) for t in _stored_ticks(symbol, item))
        chosen = sorted((ms for ms in by_ms if low <= ms <= high), reverse=newest_first)
        # Checked when they were written: no validation again for each of thousands of ticks.
        return [Tick.model_construct(**by_ms[ms]._asdict()) for ms in chosen]

    def purge_expired(self) -> int:
        """Nothing to do: DynamoDB's TTL deletes expired ticks, and reads already leave them out."""
        return 0
