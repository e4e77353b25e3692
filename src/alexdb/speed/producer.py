"""The tick producer: a symbol's trades of each short interval go to Kinesis as one record, not one each.

A Kinesis shard takes 1,000 records a second, and one partition key (the symbol) maps to one shard, so
SPY's 5,000 trades a second sent one by one cannot fit. TickProducer buffers the trades it is given and,
every `interval_s` (default 0.1 s: at most 10 records a second per symbol), sends each symbol's buffer as
one record, keyed by the symbol so that a symbol's records stay in order on one shard. A record is JSON
with the trades as columns (domain/ticks.tick_columns: `t` milliseconds, `p` prices and `v` volumes as
exact text, `s` the sources, `i` each trade's when there are several):

    {"symbol": "SPY", "t": [1767225600000, ...], "p": ["451.23", ...], "v": ["100", ...], "s": ["polygon"]}

The Lambda handler (kinesis.py) reads such a record as its trades. Nothing is lost: PutRecords entries
Kinesis refuses (throttled) are sent again with backoff; a flush that still cannot send them raises
BackendError and keeps them buffered for the next flush.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from alexdb.adapters.dynamodb.client import RetryPolicy
from alexdb.domain.errors import BackendError, ValidationError
from alexdb.domain.ticks import TickRow, column_records, parse_ticks, tick_columns

MAX_RECORD_BYTES = 900_000  # under Kinesis' 1 MiB a record, with room for the JSON around the columns
MAX_PUT_RECORDS, MAX_PUT_BYTES = 500, 4_500_000  # PutRecords' limits: 500 records, 5 MiB a request


def record_of(ticks: list[TickRow]) -> dict[str, Any]:
    """One symbol's trades as a record's JSON body: the symbol and the trades as columns (tick_columns)."""
    return {"symbol": ticks[0].symbol, **tick_columns(ticks)}


def ticks_of(body: Mapping[str, Any]) -> list[Any]:
    """A batch record's trades as tick records (each validated by the ingestor like any other)."""
    return column_records(body.get("symbol"), body)


class TickProducer:
    """Buffers trades and sends each symbol's as one Kinesis record per interval (see the module)."""

    def __init__(self, stream: str, client: Any = None, interval_s: float = 0.1, retry: RetryPolicy | None = None,
                 region: str | None = None, endpoint_url: str | None = None) -> None:
        if not 0.001 <= interval_s <= 60:
            raise ValidationError("interval_s", interval_s, "must be from 0.001 to 60 seconds")
        self.retry = retry or RetryPolicy()
        if client is None:
            import boto3

            client = boto3.client("kinesis", region_name=region, endpoint_url=endpoint_url,
                                  config=self.retry.botocore_config())
        self.stream, self.client, self.interval_s = stream, client, interval_s
        self._buffer: dict[str, list[TickRow]] = defaultdict(list)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.records_sent = self.ticks_sent = 0

    def add(self, ticks: Iterable[Any]) -> int:
        """Check and buffer ticks (a bad one refuses the call, naming its record); returns how many."""
        rows = parse_ticks(ticks)
        with self._lock:
            for row in rows:
                self._buffer[row.symbol].append(row)
        return len(rows)

    def flush(self) -> int:
        """Send what is buffered, one record per symbol (more if one would pass 1 MiB); returns records sent."""
        with self._lock:
            buffered, self._buffer = self._buffer, defaultdict(list)
        entries: list[tuple[dict[str, Any], list[TickRow]]] = []
        for symbol, rows in buffered.items():
            entries += self._records(symbol, rows)
        unsent = self._send(entries)
        with self._lock:  # what Kinesis would not take goes back first, ahead of what arrived meanwhile
            for symbol, rows in reversed(unsent):
                self._buffer[symbol][:0] = rows
        sent = len(entries) - len(unsent)
        self.records_sent += sent
        self.ticks_sent += sum(len(rows) for _, rows in entries) - sum(len(rows) for _, rows in unsent)
        if unsent:
            raise BackendError(f"Kinesis refused {len(unsent)} records of {sorted({s for s, _ in unsent})} after "
                               f"{self.retry.attempts} tries: they stay buffered for the next flush")
        return sent

    def _records(self, symbol: str, rows: list[TickRow]) -> list[tuple[dict[str, Any], list[TickRow]]]:
        out: list[tuple[dict[str, Any], list[TickRow]]] = []
        start = 0
        while start < len(rows):
            size = len(rows) - start
            while True:  # halve until it fits one record (trades are small: rarely more than once)
                data = json.dumps(record_of(rows[start:start + size]), separators=(",", ":")).encode()
                if len(data) <= MAX_RECORD_BYTES or size == 1:
                    break
                size //= 2
            out.append(({"Data": data, "PartitionKey": symbol}, rows[start:start + size]))
            start += size
        return out

    def _send(self, entries: list[tuple[dict[str, Any], list[TickRow]]]) -> list[tuple[str, list[TickRow]]]:
        """Send entries, again those Kinesis refuses (within the retry policy); returns what was not sent."""
        pending = list(entries)
        for attempt in self.retry.tries():
            if not pending:
                break
            if attempt:
                self.retry.sleep(attempt)
            failed: list[tuple[dict[str, Any], list[TickRow]]] = []
            for batch in _batches(pending):
                response = self.client.put_records(StreamName=self.stream, Records=[entry for entry, _ in batch])
                if response.get("FailedRecordCount"):
                    # Results come back in order; those with an ErrorCode were not written (throttled).
                    failed += [pair for pair, result in zip(batch, response["Records"], strict=True)
                               if "ErrorCode" in result]
            pending = failed
        return [(entry["PartitionKey"], rows) for entry, rows in pending]

    def start(self) -> None:
        """Flush every interval in a background thread until close()."""
        def loop() -> None:
            while not self._stop.wait(self.interval_s):
                try:
                    self.flush()
                except BackendError:
                    continue  # kept buffered: the next interval tries again
        self._thread = threading.Thread(target=loop, name="tick-producer", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the background thread and send what is left."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()


def _batches(entries: list[tuple[dict[str, Any], list[TickRow]]]) -> Iterable[list[tuple[dict[str, Any],
                                                                                          list[TickRow]]]]:
    batch: list[tuple[dict[str, Any], list[TickRow]]] = []
    size = 0
    for pair in entries:
        length = len(pair[0]["Data"]) + len(pair[0]["PartitionKey"])
        if batch and (len(batch) == MAX_PUT_RECORDS or size + length > MAX_PUT_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(pair)
        size += length
    if batch:
        yield batch
