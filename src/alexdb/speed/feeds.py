"""Tick feeds: files replayed, a deterministic random walk, and Polygon.io's WebSocket stream.

Each feed yields (label, record) pairs: the label says where a record came from ("line 7"), so a
rejection can name it, and the record goes to the Ingestor as it is, to be validated there.
"""

from __future__ import annotations

import contextlib
import csv
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from alexdb.domain.errors import BackendError, ValidationError
from alexdb.domain.instants import to_instant
from alexdb.domain.payloads import read_json
from alexdb.domain.ticks import Unreadable
from alexdb.speed.pipeline import Counts, Ingestor

Labelled = tuple[str, Any]
FLUSH: Labelled = ("end of message", object())  # a live feed's "store what you have": never wait for more
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(record: dict[str, Any]) -> dict[str, Any]:
    """The record with a timestamp given as digits or ISO-8601 text turned into epoch milliseconds."""
    value = record.get("timestamp")
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            record["timestamp"] = int(text)
        else:
            # Left as it is if unreadable: the tick's own validation then names the field and the value.
            with contextlib.suppress(ValidationError):
                record["timestamp"] = (to_instant(text) - EPOCH) // timedelta(milliseconds=1)
    return record


def json_record(line: str) -> Any:
    """One JSON tick record (or Unreadable, with the reason); numbers with a fraction become Decimals."""
    try:
        # Numbers with a fraction become Decimals, never floats: prices stay exact from the first byte.
        record = read_json(line)
    except ValueError as exc:
        return Unreadable(line.strip()[:200], f"not JSON: {exc}")
    return epoch_ms(record) if isinstance(record, dict) else record


def file_kind(path: Path, kind: str | None = None) -> str:
    """csv or jsonl: as given, else by the file's suffix."""
    return kind or ("csv" if path.suffix.lower() == ".csv" else "jsonl")


def read_file(path: Path, kind: str | None = None) -> Iterator[Labelled]:
    """Records of a CSV file (a header row naming the fields) or of a JSON-lines file, labelled by line."""
    kind = file_kind(path, kind)
    with path.open(newline="", encoding="utf-8") as stream:
        if kind == "csv":
            reader = csv.DictReader(stream)
            for row in reader:
                extra = row.pop(None, None)
                record: Any = {k: v for k, v in row.items() if v not in (None, "")}
                if extra:
                    record = Unreadable(",".join(extra), f"{len(extra)} more values than the header has fields")
                yield f"line {reader.line_num}", record if isinstance(record, Unreadable) else epoch_ms(record)
        else:
            for number, line in enumerate(stream, start=1):
                if line.strip():
                    yield f"line {number}", json_record(line)


def simulate(symbols: dict[str, Decimal], count: int, seed: int = 0, start_ms: int = 0,
             rate: int = 1000) -> Iterator[Labelled]:
    """count random-walk ticks over symbols (round robin), rate per second of tick time.

    Deterministic for a seed: the same seed gives the same prices. Steps are whole basis points drawn as
    integers, and prices are kept in whole cents, so no float ever touches a price.
    """
    rng = random.Random(seed)
    names = sorted(symbols)
    cents = {name: max(1, int(symbols[name] * 100)) for name in names}
    for n in range(count):
        name = names[n % len(names)]
        cents[name] = max(1, cents[name] * (10_000 + rng.randint(-25, 25)) // 10_000)
        yield f"tick {n + 1}", {"symbol": name, "price": Decimal(cents[name]) / 100,
                                "timestamp": start_ms + n * 1000 // rate, "volume": rng.randint(1, 500),
                                "source": "simulated"}


def paced(records: Iterable[Labelled], rate: int) -> Iterator[Labelled]:
    """records at no more than rate per second of wall-clock time."""
    began = time.monotonic()
    for n, labelled in enumerate(records):
        ahead = began + n / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
        yield labelled


class FeedError(BackendError):
    """A feed could not be read: refused credentials, a lost connection, a protocol breach."""


def polygon_record(event: dict[str, Any]) -> Any:
    """A Polygon.io trade (ev "T") or aggregate (ev "A"/"AM") event as a tick record."""
    if event.get("ev") == "T":
        pairs = {"symbol": "sym", "price": "p", "timestamp": "t", "volume": "s"}
    else:
        pairs = {"symbol": "sym", "price": "c", "timestamp": "e", "volume": "v"}
    return {ours: event[theirs] for ours, theirs in pairs.items() if theirs in event} | {"source": "polygon"}


@dataclass
class PolygonFeed:
    """Trades (or minute aggregates) from a server speaking Polygon.io's WebSocket protocol.

    It authenticates with the API key, subscribes, and yields events until max_messages, the deadline,
    or the server closes; a dropped connection is reopened up to `reconnects` times with backoff.
    """

    url: str
    api_key: str
    channels: str = "T.*"
    max_messages: int | None = None
    duration: float | None = None
    reconnects: int = 3

    def __iter__(self) -> Iterator[Labelled]:
        from websockets.exceptions import ConnectionClosedError

        deadline = None if self.duration is None else time.monotonic() + self.duration
        received, attempt = 0, 0
        while True:
            try:
                for event in self._events(deadline):
                    if event is FLUSH:
                        yield FLUSH
                        continue
                    received += 1
                    attempt = 0
                    yield f"event {received}", polygon_record(event) if isinstance(event, dict) else event
                    if self.max_messages is not None and received >= self.max_messages:
                        return
                return
            except (ConnectionClosedError, OSError) as exc:
                attempt += 1
                if attempt > self.reconnects:
                    raise FeedError(f"polygon feed {self.url} lost: {exc}") from exc
                time.sleep(min(5.0, 0.1 * 2 ** attempt))

    def _events(self, deadline: float | None) -> Iterator[Any]:
        from websockets.exceptions import ConnectionClosedOK
        from websockets.sync.client import connect

        with connect(self.url, open_timeout=10) as socket:
            socket.send(json.dumps({"action": "auth", "params": self.api_key}))
            subscribed = False
            while deadline is None or time.monotonic() < deadline:
                try:
                    text = socket.recv(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
                except (TimeoutError, ConnectionClosedOK):
                    return  # the deadline, or the server ended the stream
                try:
                    events = json.loads(text, parse_float=Decimal)
                except ValueError as exc:  # one unreadable message is rejected; the stream goes on
                    events = [Unreadable(str(text)[:200], f"not JSON: {exc}")]
                for event in events if isinstance(events, list) else [events]:
                    if isinstance(event, dict) and event.get("ev") == "status":
                        status = event.get("status")
                        if status == "auth_failed":
                            raise FeedError(f"polygon refused the API key: {event.get('message', '')}")
                        if status == "auth_success" and not subscribed:
                            socket.send(json.dumps({"action": "subscribe", "params": self.channels}))
                            subscribed = True
                        continue
                    yield event
                yield FLUSH


def run(ingestor: Ingestor, records: Iterable[Labelled], batch_size: int = 1000,
        progress: Callable[[int], None] | None = None) -> Counts:
    """Feed labelled records to the ingestor in batches of batch_size, or up to a FLUSH from a live feed;
    progress(n) after each batch; the final counts once every delivery is made. Ctrl-C ends a live feed
    cleanly: what was read is ingested and the counts come back."""
    batch: list[Any] = []
    labels: list[str] = []
    try:
        for labelled in records:
            if labelled is FLUSH:
                if batch:
                    _flush(ingestor, batch, labels, progress)
                continue
            label, record = labelled
            labels.append(label)
            batch.append(record)
            if len(batch) >= batch_size:
                _flush(ingestor, batch, labels, progress)
    except KeyboardInterrupt:
        ingestor.counts.interrupted = True
    if batch:
        _flush(ingestor, batch, labels, progress)
    return ingestor.close()


def _flush(ingestor: Ingestor, batch: list[Any], labels: list[str], progress: Callable[[int], None] | None) -> None:
    ingestor.ingest(batch, label=labels.__getitem__)
    if progress is not None:
        progress(len(batch))
    batch.clear()
    labels.clear()


def count_lines(path: Path) -> int:
    """The number of lines of a file (for a progress bar's total)."""
    with path.open("rb") as stream:
        return sum(buffer.count(b"\n") for buffer in iter(lambda: stream.read(1 << 20), b""))

