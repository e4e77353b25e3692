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
import threading
import time
import zlib
from collections import OrderedDict, defaultdict
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
DECODED_ITEMS = 64  # items' decoded ticks kept per process (SPY's second: some 200 KB)
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


def _last(item: dict[str, Any]) -> int:
    return int(item.get("last", item["timestamp"]))


def _position(after: Bookmark) -> tuple[int, int]:
    """A page's bookmark: (its last tick's millisecond, where the group holding it begins)."""
    if isinstance(after, dict) and set(after) in ({"timestamp"}, {"timestamp", "from"}):
        at, begins = after["timestamp"], after.get("from", 0)
        if isinstance(at, int) and isinstance(begins, int) and not isinstance(at, bool) and (
                begins == 0 or at // SPAN_MS * SPAN_MS <= begins <= at):
            return at, begins
    raise ValidationError("cursor", after, "not a position of this list")


def _group_ticks(items: list[tuple[dict[str, Any], list[TickRow]]], low: int, high: int,
                 newest_first: bool) -> tuple[int, list[Tick]]:
    by_ms: dict[int, TickRow] = {}
    for _, rows in sorted(items, key=lambda pair: int(pair[0].get("w", 0))):  # the last written wins
        by_ms.update((t.timestamp, t) for t in rows)
    chosen = sorted((ms for ms in by_ms if low <= ms <= high), reverse=newest_first)
    # Checked when they were written: no validation again for each of thousands of ticks.
    return (min(int(item["timestamp"]) for item, _ in items),
            [Tick.model_construct(**by_ms[ms]._asdict()) for ms in chosen])


class DynamoTicks:
    """db.ticks on DynamoDB: TTL deletes chunks 24 hours after their last trade; reads leave expired ones out."""

    def __init__(self, dynamo: Dynamo, table: str, archive: TickArchive | None = None) -> None:
        self._dynamo, self._table, self._archive = dynamo, table, archive
        self._decoded: OrderedDict[tuple[str, int, int], list[TickRow]] = OrderedDict()
        self._decoded_lock = threading.Lock()

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

    def _rows(self, item: dict[str, Any]) -> list[TickRow]:
        """An item's ticks, decoded once: the pages of a window read one item again and again."""
        key = (str(item["symbol"]), int(item["timestamp"]), int(item.get("w", 0)))
        with self._decoded_lock:
            rows = self._decoded.get(key)
            if rows is not None:
                self._decoded.move_to_end(key)
                return rows
        rows = _stored_ticks(key[0], item, self._chunk(item))
        with self._decoded_lock:
            self._decoded[key] = rows
            while len(self._decoded) > DECODED_ITEMS:
                self._decoded.popitem(last=False)
        return rows

    def _with_rows(self, items: Iterator[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], list[TickRow]]]:
        """Items in order with their ticks. With a bucket the chunks are fetched side by side ahead of the
        reader, 2 at first and twice as many each time up to PARALLEL: a page of SPY needs an item or two,
        a window of a quiet symbol many small ones."""
        if self._archive is None:  # an item pointing to S3 all the same is an error (_chunk), not a gap
            yield from ((item, self._rows(item)) for item in items)
            return
        ahead = 2
        while batch := list(islice(items, ahead)):
            yield from zip(batch, READ_POOL.map(self._rows, batch), strict=True)
            ahead = min(PARALLEL, ahead * 2)

    def tick_page(self, symbol: str, start_ms: int, end_ms: int, newest_first: bool, after: Bookmark | None,
                  size: int) -> Rows:
        """Live ticks with start_ms <= timestamp <= end_ms (expired ticks are left out). Items whose times
        overlap are read together; the key condition starts where the last page's group did, else at the
        first span that can hold a tick of the range."""
        low, high = max(start_ms, now_ms() - TICK_TTL_MS + 1), end_ms
        start = low // SPAN_MS * SPAN_MS
        if after is not None:
            position = _position(after)
            if newest_first:
                high = min(high, position[0] - 1)
            else:
                low = max(low, position[0] + 1)
                start = max(start, position[1])
        if low > high:
            return [], None
        found: list[Tick] = []
        begins = start  # where the group holding the page's last tick begins
        for group_begins, ticks in self._groups_read(symbol, start, low, high, newest_first):
            if len(found) < size <= len(found) + len(ticks):
                begins = group_begins
            found += ticks
            if len(found) > size:
                break
        page = found[:size]
        if len(found) <= size:
            return page, None
        last = page[-1].timestamp
        if newest_first:  # the next page's Query starts just below this one's last tick anyway
            return page, {"timestamp": last}
        # Ascending, the next page's Query starts at that group's first item, not at its span's start.
        return page, {"timestamp": last, "from": begins}

    def _items(self, symbol: str, start: int, high: int, newest_first: bool) -> Iterator[dict[str, Any]]:
        """A symbol's items keyed from start to high, in Queries of 2 items, then twice as many each time up
        to 128: DynamoDB bills a Query for all it reads (up to 1 MB), and a page of SPY needs an item or two
        of some 5 KB. Limit is exact here: there is no filter."""
        limit, after = 2, None
        while True:
            items, after = self._dynamo.query_page(
                self._table, limit, after, KeyConditionExpression="symbol = :s AND #t BETWEEN :low AND :high",
                ExpressionAttributeNames={"#t": "timestamp"}, ScanIndexForward=not newest_first,
                ConsistentRead=True, ExpressionAttributeValues={":s": symbol, ":low": start, ":high": high})
            yield from items
            if after is None:
                return
            limit = min(128, limit * 2)

    def _groups_read(self, symbol: str, start: int, low: int, high: int,
                     newest_first: bool) -> Iterator[tuple[int, list[Tick]]]:
        """(first millisecond of its first item, ticks) of each group of items whose times overlap, in the
        order asked: a millisecond stored in two items is in one group, where the item written last wins."""
        items = self._items(symbol, start, high, newest_first)
        # An item wholly before low holds nothing asked: not fetched, not decoded (items of one tick, the
        # design before chunks, have no `last`).
        wanted = (item for item in items if _last(item) >= low)
        group: list[tuple[dict[str, Any], list[TickRow]]] = []
        edge = 0  # ascending: the group's latest last trade; descending: its earliest first
        for item, rows in self._with_rows(wanted):
            first, last = int(item["timestamp"]), _last(item)
            if group and (last < edge if newest_first else first > edge):
                yield _group_ticks(group, low, high, newest_first)
                group = []
            edge = (min(edge, first) if newest_first else max(edge, last)) if group else (
                first if newest_first else last)
            group.append((item, rows))
        if group:
            yield _group_ticks(group, low, high, newest_first)

    def purge_expired(self) -> int:
        """Nothing to do: DynamoDB's TTL deletes expired ticks, and reads already leave them out."""
        return 0
