"""Raw ticks on DynamoDB: with a ticks bucket their chunks are in S3 and each symbol's second is a 1 WRU item;
without one the item holds the chunk. Both read back exactly, and a chunk that cannot be read is an error,
never a gap in a window."""

from __future__ import annotations

import random
import uuid
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.config import Config

import alexdb
from alexdb import Database, ValidationError
from alexdb.domain.errors import BackendError
from alexdb.domain.instants import now_ms
from alexdb.domain.ticks import merge_same_millisecond, parse_ticks
from tests.conftest import dynamo_engine
from tests.dynamodb_local import TICKS_BUCKET


def spy_second(first: int, seed: int = 7) -> list[dict[str, Any]]:
    """SPY at 5,000 trades a second: five a millisecond, prices a cent apart, round-lot volumes."""
    rng, price = random.Random(seed), 44_900
    trades = []
    for n in range(5_000):
        price += rng.choice((-1, 0, 0, 1, 1))
        trades.append({"symbol": "SPY", "timestamp": first + n // 5, "price": str(Decimal(price) / 100),
                       "volume": rng.choice((1, 10, 100, 100, 200, 500)), "source": "sip"})
    return trades


def stored_items(db: Database) -> list[dict[str, Any]]:
    engine = dynamo_engine(db)
    return list(engine.dynamo.query(engine.config.table_names()["ticks"], KeyConditionExpression="symbol = :s",
                                    ExpressionAttributeValues={":s": "SPY"}))


def expected(trades: list[dict[str, Any]]) -> list[tuple[int, Decimal, Decimal, str]]:
    return [(t.timestamp, t.price, t.volume, t.source) for t in merge_same_millisecond(parse_ticks(trades))]


def window(db: Database, first: int) -> list[tuple[int, Decimal, Decimal, str]]:
    return [(t.timestamp, t.price, t.volume, t.source) for t in db.ticks.window("SPY", first, first + 2_000)]


@pytest.fixture
def inline_url(dynamodb_endpoint: str) -> str:
    """A DynamoDB database that names no ticks bucket."""
    url = f"dynamodb://{dynamodb_endpoint}?region=us-east-1&prefix=ti{uuid.uuid4().hex[:8]}-"
    alexdb.connect(url, migrate=True).close()
    return url


def test_with_a_ticks_bucket_a_busy_second_is_one_small_item_and_reads_back_exactly(dynamo_db: Database) -> None:
    first = (now_ms() // 1000 - 5) * 1000
    trades = spy_second(first)
    engine = dynamo_engine(dynamo_db)
    engine.meter.reset()
    assert dynamo_db.ticks.record_ticks(trades) == 1_000  # five trades a millisecond, merged and said so
    [item] = stored_items(dynamo_db)
    assert "b" not in item and str(item["o"]).startswith("ticks/") and int(item["len"]) > 1_024
    assert engine.meter.write_units["PutItem"] == 1  # the chunk's 5 KB are in S3: 1 WRU, not 5 or 6
    assert window(dynamo_db, first) == expected(trades)


def test_without_a_ticks_bucket_the_item_holds_the_chunk(inline_url: str) -> None:
    first = (now_ms() // 1000 - 5) * 1000
    trades = spy_second(first)
    with alexdb.connect(inline_url) as db:
        engine = dynamo_engine(db)
        engine.meter.reset()
        db.ticks.record_ticks(trades)
        [item] = stored_items(db)
        assert "o" not in item and len(bytes(item["b"])) > 1_024
        assert engine.meter.write_units["PutItem"] > 2
        assert window(db, first) == expected(trades)


def test_a_batch_starting_at_a_stored_millisecond_merges_with_it_in_s3(dynamo_db: Database) -> None:
    first = (now_ms() // 1000 - 5) * 1000
    earlier = [{"symbol": "SPY", "timestamp": first + n, "price": "100", "volume": 1} for n in range(10)]
    later = [{"symbol": "SPY", "timestamp": first + n, "price": "101", "volume": 2} for n in range(0, 20, 2)]
    dynamo_db.ticks.record_ticks(earlier)
    dynamo_db.ticks.record_ticks(later)  # its chunk starts at the earlier one's first millisecond
    got = {t.timestamp - first: (t.price, t.volume) for t in dynamo_db.ticks.window("SPY", first, first + 999)}
    assert got == {n: (Decimal(101), Decimal(2)) if n % 2 == 0 else (Decimal(100), Decimal(1)) for n in
                   sorted(set(range(10)) | set(range(0, 20, 2)))}
    assert all("o" in item for item in stored_items(dynamo_db))


def test_an_item_replaced_by_a_merge_is_read_anew_not_from_what_the_process_decoded(dynamo_db: Database) -> None:
    first = (now_ms() // 1000 - 5) * 1000
    dynamo_db.ticks.record_ticks([{"symbol": "SPY", "timestamp": first + n, "price": "100"} for n in range(5)])
    assert {t.price for t in dynamo_db.ticks.window("SPY", first, first + 999)} == {Decimal(100)}  # now decoded
    dynamo_db.ticks.record_ticks([{"symbol": "SPY", "timestamp": first, "price": "101"}])  # merged: a new write
    got = [(t.timestamp - first, t.price) for t in dynamo_db.ticks.window("SPY", first, first + 999)]
    assert got == [(0, Decimal(101))] + [(n, Decimal(100)) for n in range(1, 5)]


def test_a_chunk_that_cannot_be_read_is_an_error_not_a_gap(dynamo_db: Database, s3_endpoint: str) -> None:
    first = (now_ms() // 1000 - 5) * 1000
    dynamo_db.ticks.record_ticks(spy_second(first)[:50])
    [item] = stored_items(dynamo_db)
    # The same tables through a URL that names no bucket cannot read chunks that are in one.
    other = alexdb.connect(dynamo_engine(dynamo_db).url.split("&ticks_bucket=")[0])
    with other, pytest.raises(BackendError, match="names no ticks_bucket"):
        list(other.ticks.window("SPY", first, first + 999))
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}))
    s3.delete_object(Bucket=TICKS_BUCKET, Key=str(item["o"]))
    with pytest.raises(BackendError, match="NoSuchKey"):
        list(dynamo_db.ticks.window("SPY", first, first + 999))


@pytest.mark.parametrize(("query", "field"), [("ticks_bucket=Not_A_Bucket", "ticks_bucket"),
                                              ("ticks_bucket=ab", "ticks_bucket"),
                                              ("ticks_bucket=ticks&s3_endpoint=ftp://x", "s3_endpoint")])
def test_a_bad_bucket_or_endpoint_is_refused_naming_the_setting(query: str, field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        alexdb.connect(f"dynamodb://127.0.0.1:1?region=us-east-1&{query}")
    assert raised.value.field == field


def test_a_batch_is_one_item_a_symbol_unless_it_crosses_a_ten_second_mark(
        dynamo_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    mark = (now_ms() // 10_000 - 3) * 10_000
    one_second = [{"symbol": "SPY", "timestamp": mark + 1_000 + n, "price": "100", "volume": 1}
                  for n in range(0, 1_000, 10)]
    across = [{"symbol": "SPY", "timestamp": mark + 9_500 + n, "price": "101", "volume": 1}
              for n in range(0, 1_000, 10)]
    dynamo_db.ticks.record_ticks(one_second)
    assert len(stored_items(dynamo_db)) == 1
    dynamo_db.ticks.record_ticks(across)  # half before the mark at mark + 10 s, half after
    assert sorted(int(i["timestamp"]) - mark for i in stored_items(dynamo_db)) == [1_000, 9_500, 10_000]
    archive = dynamo_engine(dynamo_db).ticks._archive
    assert archive is not None
    fetched: list[str] = []
    original = archive.get

    def counted(key: str, at: int, length: int) -> bytes:
        fetched.append(key)
        return original(key, at, length)

    monkeypatch.setattr(archive, "get", counted)
    got = [t.timestamp - mark for t in dynamo_db.ticks.window("SPY", mark + 9_600, mark + 10_200)]
    assert got == list(range(9_600, 10_201, 10))
    assert len(fetched) == 2  # the first second's item ends before 9.6 s: neither fetched nor decoded
