"""SPY at its open: the producer sends a symbol's trades as a few Kinesis records, the Lambda handler stores
every trade, and DynamoDB stores a second of them as a few compressed items.

The producer runs against kinesalite (a local Kinesis); the records it wrote are read back from the stream
and handed to the Lambda handler as Kinesis delivers them, over the store of every backend.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from alexdb import Database
from alexdb.domain.alerts import Tick
from alexdb.domain.errors import BackendError
from alexdb.domain.instants import now_ms
from alexdb.domain.ticks import merge_same_millisecond, parse_ticks
from alexdb.speed.kinesis import handle
from alexdb.speed.pipeline import Ingestor
from alexdb.speed.producer import TickProducer
from tests.conftest import dynamo_engine

TRADES = 5_000  # one second of SPY at its open
INTERVAL_MS = 100


@pytest.fixture
def stream(kinesis_endpoint: str) -> Iterator[tuple[Any, str]]:
    """A one-shard stream of this test's own."""
    client = boto3.client("kinesis", endpoint_url=kinesis_endpoint, region_name="us-east-1")
    name = f"ticks-{uuid.uuid4().hex[:8]}"
    client.create_stream(StreamName=name, ShardCount=1)
    client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1})
    yield client, name
    client.delete_stream(StreamName=name)


def _second_of_trades(start: int) -> list[dict[str, Any]]:
    return [{"symbol": "SPY", "timestamp": start + n * 1000 // TRADES, "price": f"{450 + (n % 37) / 100:.2f}",
             "volume": str(1 + n % 300), "source": "sip"} for n in range(TRADES)]


def _records(client: Any, stream: str) -> list[dict[str, Any]]:
    shard = client.describe_stream(StreamName=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    found = client.get_records(ShardIterator=iterator["ShardIterator"], Limit=10_000)["Records"]
    return [{"kinesis": {"sequenceNumber": r["SequenceNumber"], "partitionKey": r["PartitionKey"],
                         "data": base64.b64encode(r["Data"]).decode()}} for r in found]


def test_a_second_of_spy_is_ten_records_and_every_trade_is_stored(db: Database, stream: tuple[Any, str]) -> None:
    client, name = stream
    producer = TickProducer(name, client)
    start = now_ms() // 1000 * 1000 - 2_000
    trades = _second_of_trades(start)
    for offset in range(0, TRADES, TRADES * INTERVAL_MS // 1000):  # what arrives in each 100 ms interval
        producer.add(trades[offset:offset + TRADES * INTERVAL_MS // 1000])
        producer.flush()
    records = _records(client, name)
    assert len(records) == 1000 // INTERVAL_MS == producer.records_sent
    assert {r["kinesis"]["partitionKey"] for r in records} == {"SPY"}
    answer = handle({"Records": records}, Ingestor(db, {}))
    assert answer == {"batchItemFailures": []}
    expected = merge_same_millisecond(parse_ticks(trades))  # the store keeps one row per millisecond
    stored = list(db.ticks.window("SPY", start, start + 999))
    assert [(t.timestamp, t.price, t.volume, t.source) for t in stored] == [
        (t.timestamp, t.price, t.volume, t.source) for t in expected]
    assert sum(t.volume for t in stored) == sum(Decimal(t["volume"]) for t in trades)
    newest = list(db.ticks.window("SPY", start, start + 999, newest_first=True, limit=7))
    assert [t.timestamp for t in newest] == [t.timestamp for t in reversed(expected)][:7]


def test_a_redelivered_batch_stores_nothing_twice(db: Database, stream: tuple[Any, str]) -> None:
    client, name = stream
    producer = TickProducer(name, client)
    start = now_ms() // 1000 * 1000 - 3_000
    producer.add(_second_of_trades(start)[:800])
    producer.flush()
    records = _records(client, name)
    ingestor = Ingestor(db, {})
    handle({"Records": records}, ingestor)
    before = list(db.ticks.window("SPY", start, start + 999))
    handle({"Records": records}, ingestor)  # Kinesis hands the batch again
    assert list(db.ticks.window("SPY", start, start + 999)) == before
    later = {"symbol": "SPY", "timestamp": before[3].timestamp, "price": "999", "volume": "1", "source": "fix"}
    db.ticks.record_ticks([later])  # a later batch's trade of a stored millisecond replaces it
    after = list(db.ticks.window("SPY", start, start + 999))
    assert len(after) == len(before) and after[3] == Tick(**later)


def test_dynamodb_stores_a_second_of_spy_in_few_write_units(dynamo_db: Database) -> None:
    db = dynamo_db
    start = now_ms() // 1000 * 1000 - 4_000
    trades = _second_of_trades(start)
    meter = dynamo_engine(db).meter
    meter.reset()
    for offset in range(0, TRADES, 500):  # ten ingest batches in the second
        db.ticks.record_ticks(trades[offset:offset + 500])
    units = sum(meter.write_units.values())
    assert meter.requests == {"PutItem": 10}
    assert units < 100  # against 5,000 for one item a trade; the partition's limit is 1,000 a second
    assert len(list(db.ticks.window("SPY", start, start + 999))) == len(merge_same_millisecond(parse_ticks(trades)))


def test_refused_records_are_sent_again_and_never_lost() -> None:
    client = boto3.client("kinesis", region_name="us-east-1")
    stub = Stubber(client)
    throttled = {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow down"}
    written = {"SequenceNumber": "1", "ShardId": "shardId-000000000000"}
    stub.add_response("put_records", {"FailedRecordCount": 1, "Records": [written, throttled]})
    stub.add_response("put_records", {"Records": [written]})
    producer = TickProducer("s", client)
    producer.add([{"symbol": s, "timestamp": now_ms(), "price": "1", "volume": "1"} for s in ("AAA", "BBB")])
    with stub:
        assert producer.flush() == 2
    stub.assert_no_pending_responses()
    assert producer.ticks_sent == 2
    for _ in range(producer.retry.attempts):
        stub.add_response("put_records", {"FailedRecordCount": 1, "Records": [throttled]})
    producer.add([{"symbol": "CCC", "timestamp": now_ms(), "price": "1", "volume": "1"}])
    with stub, pytest.raises(BackendError, match="CCC"):
        producer.flush()
    stub.add_response("put_records", {"Records": [written]})
    with stub:
        assert producer.flush() == 1  # kept buffered, sent by the next flush
    assert producer.ticks_sent == 3


def test_a_batch_record_with_a_bad_trade_is_named_and_its_good_trades_stored(db: Database) -> None:
    at = now_ms() - 5_000
    body = {"symbol": "SPY", "t": [at, at + 1], "p": ["450.10", "-3"], "v": ["1", "1"], "s": ["sip"]}
    record = {"kinesis": {"sequenceNumber": "42", "data": base64.b64encode(json.dumps(body).encode()).decode()}}
    answer = handle({"Records": [record]}, Ingestor(db, {}))
    assert answer == {"batchItemFailures": [{"itemIdentifier": "42"}]}
    assert [t.price for t in db.ticks.window("SPY", at, at + 1)] == [Decimal("450.10")]
