"""Benchmark: the internet-scale scenario, scaled down, replayed on DynamoDB Local and kinesalite, and the
load measured on each hot key next to what the capacity model predicts for that size.

    python -m benchmarks.scale [--users 10000] [--seconds 60] [--rate 5000] [--alerts 2000] [--processes 4]
                               [--symbols 100]

Phases, each on its own hot key:
1. SPY at its open: a TickProducer sends `rate` trades a second for `seconds` seconds of market time to a
   kinesalite stream; the records are read back and handed to the Lambda handler (an Ingestor over
   DynamoDB) as Kinesis would, with `alerts` alerts on SPY that its walk crosses (a burst), and the other
   `symbols` trading 10 times a second each. Per second of market time: Kinesis records on SPY, write
   units on SPY's ticks, outbox writes per trigger, AlertsBySymbol writes, and instrument writes per
   ticking symbol (cursors, bars, closes: the model's largest cost). Raw ticks go to S3 (s3rver), as
   deployed at scale (docs/dynamodb.md).
2. Portfolio views: `processes` databases (each a process with its own hot-item cache) view accounts that
   hold SPY as fast as 4 threads each can for 30 s: SPY's instrument item reads a second against the
   model's min(views x units, processes x refresh units).
3. Five-year daily series of accounts holding SPY: read units on SPY's daily closes per series; and the
   time a user with 3 accounts of 20 holdings waits for the three 5-year daily series (goal: under 1 s).
Each measured figure is DynamoDB Local's ConsumedCapacity (per table and index) or a count of requests.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import threading
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
from tests.dynamodb_local import TICKS_BUCKET, dynamodb_local, kinesis_local, s3_local

import alexdb
from alexdb.adapters.dynamodb.backend import DynamoBackend
from alexdb.cli.capacity import packaged_profile
from alexdb.domain.capacity import OUTBOX_SHARDS, Workload, hot_keys, refresh_units
from alexdb.domain.instants import now_ms
from alexdb.speed.kinesis import handle
from alexdb.speed.notifiers import Delivery
from alexdb.speed.pipeline import Ingestor
from alexdb.speed.producer import TickProducer
from benchmarks.results import write_section

START = datetime(2020, 1, 1, tzinfo=UTC)
INSTRUMENT = {"instrument_type": "etf", "allocation_regions": {"north_america": 100},
              "allocation_sectors": {"technology": 100}, "allocation_asset_class": {"equity": 100}}
YEARS_DAYS = 5 * 365 + 1


class Quiet:
    """A notifier that accepts every delivery."""

    def send(self, trigger: Any, key: str) -> str:
        """Delivered."""
        return key


def engine_of(db: alexdb.Database) -> DynamoBackend:
    """The DynamoDB engine under db."""
    engine = db.engine
    assert isinstance(engine, DynamoBackend)
    return engine


def units(db: alexdb.Database, resource: str) -> tuple[float, float]:
    """Read and write units metered on a table ("ticks") or index ("alerts/AlertsBySymbol") by role."""
    engine = engine_of(db)
    table, _, index = resource.partition("/")
    key = engine.config.table_names()[table] + (f"/{index}" if index else "")
    read, write = engine.meter.by_resource.get(key, (0.0, 0.0))
    return read, write


def load(db: alexdb.Database, users: int) -> list[Any]:
    """SPY with five years of daily closes, and users with one account each holding SPY (8 threads)."""
    db.instruments.create_instrument({**INSTRUMENT, "symbol": "SPY", "name": "SPDR S&P 500"})
    db.instruments.record_prices([("SPY", f"{300 + d % 200}.25", START + timedelta(days=d, hours=21))
                                  for d in range(YEARS_DAYS)])
    # A split before any holding: SPY's SPLITS item exists, as it does for most old symbols (DynamoDB bills
    # reading an absent item too; DynamoDB Local reports nothing for it).
    db.instruments.record_split("SPY", 2, 1, START - timedelta(days=400))
    accounts: list[Any] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        db.users.create_user(f"user_{n:06d}")
        account = db.accounts.create_account(f"user_{n:06d}", "401(k)")
        db.positions.record_trade(account.id, "SPY", "BUY", 1 + n % 20, at=START + timedelta(hours=22))
        with lock:
            accounts.append(account.id)

    def worker(k: int) -> None:
        for n in range(k, users, 8):
            one(n)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return accounts


def open_of_spy(url: str, kinesis: str, rate: int, seconds: int, alerts: int, others: int) -> dict[str, float]:
    """Phase 1: per second of market time, what SPY's open costs each key (with `others` quieter symbols
    trading 10 times a second each, on the same stream)."""
    client = boto3.client("kinesis", endpoint_url=kinesis, region_name="us-east-1")
    stream = f"ticks-{uuid.uuid4().hex[:6]}"
    client.create_stream(StreamName=stream, ShardCount=1)
    client.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.1})
    db = alexdb.connect(url)
    quiet = [f"Q{n:03d}" for n in range(others)]
    for symbol in quiet:
        db.instruments.create_instrument({**INSTRUMENT, "symbol": symbol, "name": f"{symbol} fund"})
    for n in range(alerts):  # half above the opening price (crossed once as it rises), half far above
        db.alerts.create_alert(f"u{n % 500}", "SPY", {"operator": "crosses_above",
                                                      "threshold": str(Decimal(450) + (n % 2) * 100 + n % 7)})
    ingestor = Ingestor(db, {"websocket": Quiet()}, Delivery(attempts=1))
    producer = TickProducer(stream, client)
    rng, price = random.Random(7), 44_900
    first = now_ms() - (seconds + 5) * 1000
    # Before the open: the new alerts are checked on arrival (armed_at written once per settings change,
    # the one write AlertsBySymbol takes), so the figures below are the open's alone.
    ingestor.ingest([{"symbol": "SPY", "timestamp": first - 1000, "price": "449", "volume": 1}])
    ingestor.settle()
    # DynamoDB Local reports a transaction's units as if it held one item per table: count the outbox
    # index entries the transactions make and remove instead (history items listed with outbox_shard, or
    # updated to keep or drop it; each under 1 KB: 2 WRU apiece, as Local's profile counts them).
    outbox_items = [0]
    original = engine_of(db).dynamo.transact
    history_table = engine_of(db).config.table_names()["notifications"]

    def counted(actions: Any) -> None:
        outbox_items[0] += sum(1 for action in actions for body in action.values()
                               if body.get("TableName") == history_table
                               and ("outbox_shard" in body.get("Item", {})
                                    or "outbox_shard" in body.get("ExpressionAttributeNames", {}).values()))
        original(actions)

    engine_of(db).dynamo.transact = counted  # type: ignore[method-assign]
    engine_of(db).meter.reset()
    shard = client.describe_stream(StreamName=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard,
                                         ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = triggers = 0
    began = time.perf_counter()
    for second in range(seconds):
        for tenth in range(10):  # the producer's 100 ms intervals
            trades = []
            for n in range(rate // 10):
                price += rng.choice((-1, 0, 0, 1, 1))
                at = first + second * 1000 + tenth * 100 + n * 100 // (rate // 10)
                trades.append({"symbol": "SPY", "timestamp": at, "price": str(Decimal(price) / 100),
                               "volume": rng.choice((1, 10, 100, 100, 200, 500)), "source": "sip"})
            trades += [{"symbol": symbol, "timestamp": first + second * 1000 + tenth * 100 + k, "price": "20.5",
                        "volume": 100, "source": "sip"} for k, symbol in enumerate(quiet)]
            producer.add(trades)
            producer.flush()
        found = client.get_records(ShardIterator=iterator, Limit=10_000)  # one Lambda batch a second
        iterator = found["NextShardIterator"]
        records += sum(1 for r in found["Records"] if r["PartitionKey"] == "SPY")
        event = {"Records": [{"kinesis": {"sequenceNumber": r["SequenceNumber"],
                                          "data": base64.b64encode(r["Data"]).decode()}} for r in found["Records"]]}
        answer = handle(event, ingestor)
        assert not answer["batchItemFailures"], answer
    triggers = ingestor.close().sent
    wall = time.perf_counter() - began
    figures = {"records/s": records / seconds, "ticks WRU/s": spy_tick_units(db) / seconds,
               "outbox WRU/trigger": 2 * outbox_items[0] / max(1, triggers), "triggers": triggers,
               "AlertsBySymbol WRU": units(db, "alerts/AlertsBySymbol")[1],
               "instrument WRU/s a symbol": units(db, "instruments")[1] / seconds / (others + 1), "wall s": wall}
    stored = sum(1 for _ in db.ticks.window("SPY", first, first + seconds * 1000))
    figures["stored ticks"] = stored
    db.close()
    return figures


def spy_tick_units(db: alexdb.Database) -> float:
    """The write units SPY's tick items cost (each written once): DynamoDB bills an item's size in KB, rounded
    up, and the other symbols' items share the table, so the table's figure is not SPY's."""
    engine = engine_of(db)
    table = engine.config.table_names()["ticks"]
    total = 0.0
    for item in engine.dynamo.query(table, KeyConditionExpression="symbol = :s",
                                    ExpressionAttributeValues={":s": "SPY"}):
        size = sum(len(name) + (len(bytes(value)) if name == "b" else len(str(value))) for name, value in item.items())
        total += -(-size // 1024)
    return total


def views(url: str, accounts: list[Any], processes: int, duration: float = 30.0) -> dict[str, float]:
    """Phase 2: portfolio views from `processes` caches; SPY's instrument reads a second."""
    dbs = [alexdb.connect(url) for _ in range(processes)]
    for db in dbs:
        engine_of(db).meter.reset()
    done = [0]
    lock = threading.Lock()
    stop = time.monotonic() + duration

    def viewer(db: alexdb.Database, seed: int) -> None:
        rng = random.Random(seed)
        count = 0
        while time.monotonic() < stop:
            db.positions.find_by_account(rng.choice(accounts))
            count += 1
        with lock:
            done[0] += count

    threads = [threading.Thread(target=viewer, args=(db, n * 10 + k)) for n, db in enumerate(dbs) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reads = sum(units(db, "instruments")[0] for db in dbs)
    for db in dbs:
        db.close()
    return {"views/s": done[0] / duration, "SPY instrument RRU/s": reads / duration}


def series(url: str, accounts: list[Any], count: int = 20) -> dict[str, float]:
    """Phase 3: read units on SPY's daily closes per 5-year daily series."""
    db = alexdb.connect(url)
    engine_of(db).meter.reset()
    end = START + timedelta(days=YEARS_DAYS)
    for account in accounts[:count]:
        db.positions.get_value_series(account, START, end, timedelta(days=1))
    reads = units(db, "instruments")[0]
    db.close()
    return {"SPY#M RRU/series": reads / count}


def user_series(url: str, repeats: int = 5) -> dict[str, float]:
    """Phase 3b: a user with 3 accounts of 20 holdings (SPY and 19 more, five years of closes each): the
    seconds its three 5-year daily series take, median of repeats, and the read units they cost."""
    db = alexdb.connect(url)
    symbols = [f"S{n:02d}" for n in range(19)]
    for symbol in symbols:
        db.instruments.create_instrument({"symbol": symbol, "name": f"{symbol} fund", "instrument_type": "etf",
                                          "allocation_regions": {"north_america": 100},
                                          "allocation_sectors": {"technology": 100},
                                          "allocation_asset_class": {"equity": 100}})
    db.instruments.record_prices([(s, f"{50 + (d + n) % 40}.5", START + timedelta(days=d, hours=21))
                                  for n, s in enumerate(symbols) for d in range(YEARS_DAYS)])
    db.users.create_user("big_user")
    accounts = [db.accounts.create_account("big_user", name).id for name in ("401(k)", "IRA", "Taxable")]
    for account in accounts:
        db.positions.record_trades(account, [(s, "BUY", 10, START + timedelta(hours=22)) for s in ["SPY", *symbols]])
    end = START + timedelta(days=YEARS_DAYS)
    timings = []
    for _ in range(repeats):
        engine_of(db).meter.reset()
        began = time.perf_counter()
        for account in accounts:
            db.positions.get_value_series(account, START, end, timedelta(days=1))
        timings.append(time.perf_counter() - began)
    reads = sum(engine_of(db).meter.read_units.values())
    db.close()
    return {"user series s": sorted(timings)[len(timings) // 2], "user series RRU": reads}


def main() -> None:
    """Run the phases on fresh local services and write the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--rate", type=int, default=5000)
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--symbols", type=int, default=100, help="symbols ticking, SPY included")
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    with dynamodb_local() as endpoint, kinesis_local() as kinesis, s3_local() as s3:
        # Raw ticks in S3 (s3rver), as deployed at scale: DynamoDB keeps where each second's chunk is.
        url = (f"dynamodb://{endpoint}?region=us-east-1&prefix=scale{uuid.uuid4().hex[:6]}-"
               f"&ticks_bucket={TICKS_BUCKET}&s3_endpoint={s3}")
        db = alexdb.connect(url, migrate=True)
        began = time.perf_counter()
        accounts = load(db, args.users)
        loaded = time.perf_counter() - began
        db.close()
        spy = open_of_spy(url, kinesis, args.rate, args.seconds, args.alerts, args.symbols - 1)
        seen = views(url, accounts, args.processes)
        daily = series(url, accounts)
        big = user_series(url)
    profile = packaged_profile()
    model = {(row.resource, row.key): row for row in hot_keys(replace(
        Workload(), hot_trades_per_second=args.rate, ticks_per_record=args.rate / 10, processes=args.processes,
        spike=1.0, accounts_per_user=1, hot_holder_share=1.0, trades_per_user_per_day=0.0,
        trigger_burst=spy["triggers"], users=round(seen["views/s"] * 86_400 / 4)), profile)}
    rows = [
        ("Kinesis records a second on SPY's shard", spy["records/s"], model["kinesis", "SPY's shard (records)"].writes),
        ("write units a second on SPY's ticks", spy["ticks WRU/s"], model["ticks", "SPY"].writes),
        ("outbox index write units per trigger", spy["outbox WRU/trigger"],
         profile["trigger"].get("notifications/Outbox", (0, 0))[1]),
        ("AlertsBySymbol write units in the burst", spy["AlertsBySymbol WRU"],
         model["alerts/AlertsBySymbol", "SPY"].writes),
        ("SPY's instrument read units a second (views)", seen["SPY instrument RRU/s"],
         min(seen["views/s"] * profile["view"]["instruments"][0], args.processes * refresh_units(Workload()))),
        ("read units of SPY#M per 5-year series", daily["SPY#M RRU/series"], profile["series"]["instruments"][0]),
        ("instrument write units a second per ticking symbol (cursor, bars, closes)",
         spy["instrument WRU/s a symbol"],
         profile["cursor"]["instruments"][1] + profile["bar"]["instruments"][1]),
    ]
    body = [f"{args.users:,} users with an account holding SPY (loaded in {loaded:.0f} s); SPY at "
            f"{args.rate:,} trades a second, and {args.symbols - 1} other symbols at 10, for {args.seconds} s of "
            "market time through kinesalite and the "
            f"Lambda handler ({spy['wall s']:.1f} s on this machine; {spy['stored ticks']:,.0f} ticks stored, "
            f"one per millisecond), {args.alerts:,} alerts on SPY of which {spy['triggers']:,.0f} crossed; "
            f"{args.processes} processes viewing portfolios at {seen['views/s']:,.0f} views a second; "
            f"outbox in {OUTBOX_SHARDS} shards. Model: `alexdb capacity` at this size (peak factor 1).", "",
            f"A user with 3 accounts of 20 holdings: its three 5-year daily series took {big['user series s']:.2f} s "
            f"(median of 5; goal under 1 s) and {big['user series RRU']:,.0f} read units "
            f"({big['user series RRU'] / 60:.1f} a holding).", "",
            "| hot key | measured | model |", "|---|---:|---:|"]
    body += [f"| {label} | {measured:,.1f} | {predicted:,.1f} |" for label, measured, predicted in rows]
    text = "\n".join(body)
    write_section("scale", "python -m benchmarks.scale", text)
    print(text)


if __name__ == "__main__":
    main()
