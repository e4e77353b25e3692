"""Ticks on DynamoDB (realtime_ticks): one compressed item per symbol, span and batch, not one per trade.

One item per trade puts SPY's 5,000 trades a second on one partition key whose sort key only rises, at
5,000 WCU against a partition's 1,000; no split can spread it. Here a batch stores each symbol's trades of
one span of ten seconds (SPAN_MS, from a multiple of it) as one item: `timestamp` is its first trade's
millisecond (the key), `last` its last, `b` the trades (milliseconds, prices, volumes and sources as text,
zlib-compressed) and `w` when it was written. At SPY's open, with a batch a second, that is one item a
second (two when a batch straddles a span's end), of a few bytes per trade: 5 or 6 WRU.

With a ticks bucket (tick_archive.py) the compressed trades go to S3, one object per batch, and the item
keeps where its chunk is instead of `b`: `o` the object, `at` and `len` the byte range (1 WRU).

A millisecond is stored once: a batch whose item would start at a millisecond already taken merges into
that item (the newer trade of a millisecond wins), and where two items of one span hold the same
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
from itertools import islice
from typing import Any

from alexdb.adapters.dynamodb.client import READ_POOL, ConditionFailedError, Dynamo
from alexdb.adapters.dynamodb.tick_archive import TickArchive
from alexdb.domain.alerts import TICK_TTL_MS, Tick
from alexdb.domain.errors import BackendError, ValidationError
from alexdb.domain.instants import now_ms
from alexdb.domain.paging import Bookmark
from alexdb.domain.ticks import TickRow, column_records, tick_columns
from alexdb.ports import Rows

PARALLEL = 16
# The time an item may cover. A batch's trades of a symbol are one item unless they cross a multiple of
# it; a read starts at the multiple below its first millisecond. Ten seconds, not one: a batch a second is
# then one item a second, not two whenever it straddles a second (an item is written per batch, so a
# longer span makes no item larger at that rate), at the price of reading up to 9 s of items before a
# window's start (their `last` says so: they are not decoded).
SPAN_MS = 10_000


def encode(ticks: Sequence[TickRow]) -> bytes:
    """One symbol's ticks (in time order, one per millisecond) as a compressed chunk: their columns, with
    milliseconds counted from the first (small numbers compress well)."""
    return zlib.compress(json.dumps(tick_columns(ticks, ticks[0].timestamp), separators=(",", ":")).encode(), 6)


def decode(symbol: str, first: int, data: bytes) -> list[TickRow]:
    """The ticks of a chunk (checked when they were written: built as they are)."""
    return [TickRow(symbol, Decimal(r["price"]), r["timestamp"], Decimal(r["volume"]), r["source"])
            for r in column_records(symbol, json.loads(zlib.decompress(data)), first)]


def _stored_ticks(symbol: str, item: dict[str, Any], data: bytes | None) -> list[TickRow]:
    """An item's ticks; data: its chunk when the chunk is in S3 (fetched by DynamoTicks._chunk)."""
    if data is not None:
        return decode(symbol, int(item["timestamp"]), data)
    if "b" in item:
        return decode(symbol, int(item["timestamp"]), bytes(item["b"]))
    # One tick an item: the design before chunks (TTL deletes those a day after the upgrade).
    return [TickRow(symbol, item["price"], int(item["timestamp"]), item["volume"], item["source"])]


def _spans(ticks: Sequence[TickRow]) -> dict[tuple[str, int], list[TickRow]]:
    """A batch's ticks by symbol and span (SPAN_MS long, from a multiple of it)."""
    grouped: dict[tuple[str, int], dict[int, TickRow]] = defaultdict(dict)
    for tick in ticks:
        grouped[tick.symbol, tick.timestamp // SPAN_MS][tick.timestamp] = tick  # the last of a millisecond wins
    return {key: [by_ms[ms] for ms in sorted(by_ms)] for key, by_ms in grouped.items()}


class DynamoTicks:
    """db.ticks on DynamoDB: TTL deletes chunks 24 hours after their last trade; reads leave expired ones out."""

    def __init__(self, dynamo: Dynamo, table: str, archive: TickArchive | None = None) -> None:
        self._dynamo, self._table, self._archive = dynamo, table, archive

    def write_ticks(self, ticks: Sequence[TickRow]) -> None:
        """One conditional PutItem per symbol and span, concurrently (after the batch's one S3 object,
        with a ticks bucket: an item never points to a chunk not stored yet)."""
        chunks = list(_spans(ticks).values())
        if not chunks:
            return
        bodies = self._bodies(chunks)
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(chunks))) as pool:
            list(pool.map(self._put_chunk, chunks, bodies))

    def _bodies(self, chunks: Sequence[Sequence[TickRow]]) -> list[dict[str, Any]]:
        """Each chunk's data as its item holds it: the bytes, or where they are in S3."""
        encoded = [encode(chunk) for chunk in chunks]
        if self._archive is None:
            return [{"b": data} for data in encoded]
        spans = self._archive.put(encoded, min(chunk[0].timestamp for chunk in chunks))
        return [{"o": key, "at": offset, "len": length} for key, offset, length in spans]

    def _item(self, ticks: Sequence[TickRow], body: dict[str, Any]) -> dict[str, Any]:
        return {"symbol": ticks[0].symbol, "timestamp": ticks[0].timestamp, "last": ticks[-1].timestamp,
                "n": len(ticks), "w": time.time_ns(), **body, "ttl": (ticks[-1].timestamp + TICK_TTL_MS) // 1000}

    def _put_chunk(self, ticks: list[TickRow], body: dict[str, Any]) -> None:
        symbol, first = ticks[0].symbol, ticks[0].timestamp
        key: dict[str, Any] = {"symbol": symbol, "timestamp": first}
        written: Any = None  # the w of the item this one replaces (None: there is none)
        for attempt in self._dynamo.retry.rounds():
            try:
                if written is None:
                    self._dynamo.put(self._table, self._item(ticks, body), "attribute_not_exists(#ts)",
                                     {"#ts": "timestamp"})
                else:
                    self._dynamo.put(self._table, self._item(ticks, body), "#w = :w", {"#w": "w"}, {":w": written})
                return
            except ConditionFailedError:
                # Another batch's item starts at this millisecond (a redelivery, or more trades): merge.
                stored = self._dynamo.get(self._table, key)
                written = None if stored is None else stored.get("w", 0)
                if stored is not None:
                    merged = {t.timestamp: t for t in _stored_ticks(symbol, stored, self._chunk(stored))}
                    merged.update((t.timestamp, t) for t in ticks)
                    ticks = [merged[ms] for ms in sorted(merged)]
                    body = self._bodies([ticks])[0]
                if attempt:  # a second merge means another batch won again: back off
                    self._dynamo.retry.sleep(min(attempt, 6))
        raise BackendError(f"ticks of {symbol} at {first}: too much contention, gave up")

    def _chunk(self, item: dict[str, Any]) -> bytes | None:
        """The chunk an item points to in S3 (None: the item holds its ticks itself)."""
        if "o" not in item:
            return None
        if self._archive is None:
            raise BackendError(f"ticks of {item['symbol']} at {item['timestamp']} are in S3 ({item['o']}), "
                               "and this database names no ticks_bucket")
        return self._archive.get(str(item["o"]), int(item["at"]), int(item["len"]))

    def _with_chunks(self, items: Iterator[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], bytes | None]]:
        """Items in order, each with its S3 chunk, fetched PARALLEL at a time ahead of the reader."""
        if self._archive is None:  # an item pointing to S3 all the same is an error (_chunk), not a gap
            yield from ((item, self._chunk(item)) for item in items)
            return
        while batch := list(islice(items, PARALLEL)):
            yield from zip(batch, READ_POOL.map(self._chunk, batch), strict=True)

    def tick_page(self, symbol: str, start_ms: int, end_ms: int, newest_first: bool, after: Bookmark | None,
                  size: int) -> Rows:
        """Live ticks with start_ms <= timestamp <= end_ms, a span's items read together (the key
        condition starts at the first span that can hold one; expired ticks are left out)."""
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
        for span in self._spans_read(symbol, low, high, newest_first):
            found += span
            if len(found) > size:
                break
        page = found[:size]
        return page, {"timestamp": page[-1].timestamp} if len(found) > size else None

    def _spans_read(self, symbol: str, low: int, high: int, newest_first: bool) -> Iterator[list[Tick]]:
        """The ticks of each span in the range, in the order asked, each span complete."""
        items = self._dynamo.query(
            self._table, KeyConditionExpression="symbol = :s AND #t BETWEEN :low AND :high",
            ExpressionAttributeNames={"#t": "timestamp"}, ScanIndexForward=not newest_first, ConsistentRead=True,
            ExpressionAttributeValues={":s": symbol, ":low": low // SPAN_MS * SPAN_MS, ":high": high})
        group: list[tuple[dict[str, Any], bytes | None]] = []
        # An item wholly before low holds nothing asked: not fetched, not decoded (items of one tick, the
        # design before chunks, have no `last`).
        wanted = (item for item in items if int(item.get("last", item["timestamp"])) >= low)
        for item, data in self._with_chunks(wanted):
            if group and int(item["timestamp"]) // SPAN_MS != int(group[0][0]["timestamp"]) // SPAN_MS:
                yield self._span_ticks(symbol, group, low, high, newest_first)
                group = []
            group.append((item, data))
        if group:
            yield self._span_ticks(symbol, group, low, high, newest_first)

    @staticmethod
    def _span_ticks(symbol: str, items: list[tuple[dict[str, Any], bytes | None]], low: int, high: int,
                newest_first: bool) -> list[Tick]:
        by_ms: dict[int, TickRow] = {}
        # The last written wins a millisecond.
        for item, data in sorted(items, key=lambda pair: int(pair[0].get("w", 0))):
            by_ms.update((t.timestamp, t) for t in _stored_ticks(symbol, item, data))
        chosen = sorted((ms for ms in by_ms if low <= ms <= high), reverse=newest_first)
        # Checked when they were written: no validation again for each of thousands of ticks.
        return [Tick.model_construct(**by_ms[ms]._asdict()) for ms in chosen]

    def purge_expired(self) -> int:
        """Nothing to do: DynamoDB's TTL deletes expired ticks, and reads already leave them out."""
        return 0
