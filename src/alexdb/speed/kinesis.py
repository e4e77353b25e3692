"""The AWS Lambda handler for Kinesis: each record one tick, or a producer's batch of a symbol's trades
(producer.py), base64 JSON; bad records reported alone.

Wire the event source mapping with FunctionResponseTypes ["ReportBatchItemFailures"]. A malformed
record is returned in batchItemFailures and never fails its batch; give the mapping a retry limit and an
on-failure destination so such a record ends there instead of being retried for its whole retention.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import Any

from alexdb.domain.errors import AlexdbError, ValidationError
from alexdb.domain.ticks import Unreadable
from alexdb.speed.feeds import json_record
from alexdb.speed.pipeline import RETRY_EVERY_S, Ingestor
from alexdb.speed.producer import ticks_of


def decode(data: str) -> list[Any]:
    """A Kinesis record's data as its tick records: one, or a batch's trades (or Unreadable, with the reason)."""
    try:
        text = base64.b64decode(data, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        return [Unreadable(data[:200], f"not base64 UTF-8: {exc}")]
    record = json_record(text)
    if isinstance(record, dict) and "t" in record:
        try:
            return ticks_of(record)
        except ValidationError as exc:
            return [Unreadable(text[:200], str(exc))]
    return [record]


def handle(event: dict[str, Any], ingestor: Ingestor) -> dict[str, list[dict[str, str]]]:
    """Ingest a Kinesis event; the answer names each record that was not taken by sequence number (a
    batch record with a trade that could not be taken is named whole: retried, then sent to the
    mapping's on-failure destination; its other trades are stored once, however often it comes)."""
    records = event.get("Records", [])
    ticks: list[Any] = []
    owner: list[str] = []  # the sequence number of each tick's record
    for record in records:
        number = record["kinesis"]["sequenceNumber"]
        decoded = decode(record["kinesis"]["data"])
        ticks += decoded
        owner += [number] * len(decoded)
    numbers = [record["kinesis"]["sequenceNumber"] for record in records]
    try:
        result = ingestor.ingest(ticks, label=lambda i: f"kinesis record {owner[i]}")
        failed = {owner[rejection.index] for rejection in result.rejections}
    except AlexdbError:
        failed = set(numbers)  # the store refused the batch: every record is retried, none is lost
    ingestor.settle()
    try:  # deliveries left due by a crashed container or a failing channel go out again from here
        if ingestor.retry_due(at_most_every_s=RETRY_EVERY_S):
            ingestor.settle()
    except AlexdbError:
        pass  # the batch itself is done; the next invocation tries again
    return {"batchItemFailures": [{"itemIdentifier": number} for number in numbers if number in failed]}


_ingestor: Ingestor | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """The Lambda entry point: one Ingestor per container, on ALEXDB_URL, notifiers from the environment."""
    global _ingestor
    if _ingestor is None:
        from alexdb import bootstrap

        _ingestor = bootstrap.ingestor(bootstrap.connect(os.environ.get("ALEXDB_URL")))
    return handle(event, _ingestor)
