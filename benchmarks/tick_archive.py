"""Benchmark: DynamoDB ticks with their trades in S3 (a ticks bucket) against the trades in the items.

    python -m benchmarks.tick_archive [--seconds 60] [--rate 5000] [--reads 20]

SPY at `rate` trades a second for `seconds` seconds, stored one ingest batch a second through
db.ticks.record_ticks into two databases on one DynamoDB Local: one with a ticks bucket (s3rver), one
without. For each: the write units a second SPY's ticks cost, then windows of 1, 10 and 60 s read `reads`
times each, cold (the decoded items a process keeps are dropped before each read): p50 and p95 of the time,
the read units and S3 GETs a read. The two layouts take turns.
"""

from __future__ import annotations

import argparse
import os
import random
import time
import uuid
from decimal import Decimal
from typing import Any

from tests.dynamodb_local import TICKS_BUCKET, dynamodb_local, s3_local

import alexdb
from alexdb.adapters.dynamodb.backend import DynamoBackend
from alexdb.domain.instants import now_ms
from benchmarks.results import median, percentile, write_section

WINDOWS = (1, 10, 60)


def trades(first: int, seconds: int, rate: int) -> list[list[dict[str, Any]]]:
    """Each second's trades of SPY: a random walk a cent at a time, round-lot volumes."""
    rng, price, batches = random.Random(7), 44_900, []
    for second in range(seconds):
        batch = []
        for n in range(rate):
            price += rng.choice((-1, 0, 0, 1, 1))
            batch.append({"symbol": "SPY", "timestamp": first + second * 1000 + n * 1000 // rate,
                          "price": str(Decimal(price) / 100), "volume": rng.choice((1, 10, 100, 100, 200, 500)),
                          "source": "sip"})
        batches.append(batch)
    return batches


def counting_gets(engine: DynamoBackend) -> list[int]:
    """A counter of the S3 GETs the engine's tick archive makes (none without one)."""
    count = [0]
    archive = engine.ticks._archive
    if archive is not None:
        original = archive.get

        def counted(key: str, at: int, length: int) -> bytes:
            count[0] += 1
            return original(key, at, length)

        setattr(archive, "get", counted)  # noqa: B010 - an instance attribute over the method, to count calls
    return count


def main() -> None:
    """Store, read, write the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--rate", type=int, default=5000)
    parser.add_argument("--reads", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    first = (now_ms() // 1000 - args.seconds - 5) * 1000
    batches = trades(first, args.seconds, args.rate)
    with dynamodb_local() as endpoint, s3_local() as s3:
        urls = {"trades in S3 (ticks_bucket)": f"&ticks_bucket={TICKS_BUCKET}&s3_endpoint={s3}",
                "trades in the items": ""}
        dbs = {name: alexdb.connect(f"dynamodb://{endpoint}?region=us-east-1&prefix=ta{uuid.uuid4().hex[:6]}-"
                                    f"{extra}", migrate=True) for name, extra in urls.items()}
        engines = {name: db.engine for name, db in dbs.items()}
        assert all(isinstance(engine, DynamoBackend) for engine in engines.values())
        written: dict[str, float] = {}
        for name, db in dbs.items():
            engine: Any = engines[name]
            engine.meter.reset()
            for batch in batches:
                db.ticks.record_ticks(batch)
            written[name] = sum(engine.meter.write_units.values()) / args.seconds
        gets = {name: counting_gets(engine) for name, engine in engines.items()}  # type: ignore[arg-type]
        rows = []
        for span in WINDOWS:
            start = first + (args.seconds - span) * 1000 // 2  # mid-run, not on a second's boundary
            start += 437
            end = start + span * 1000 - 1
            times: dict[str, list[float]] = {name: [] for name in dbs}
            units: dict[str, float] = {}
            counts: dict[str, int] = {}
            found: dict[str, int] = {}
            for read in range(args.reads):
                for name in (list(dbs) if read % 2 else list(dbs)[::-1]):
                    engine = engines[name]
                    engine.meter.reset()
                    gets[name][0] = 0
                    engine.ticks._decoded.clear()  # a cold read, as by another process or another window
                    began = time.perf_counter()
                    ticks = list(dbs[name].ticks.window("SPY", start, end))
                    times[name].append((time.perf_counter() - began) * 1000)
                    units[name] = sum(engine.meter.read_units.values())
                    counts[name] = gets[name][0]
                    found[name] = len(ticks)
            assert len(set(found.values())) == 1, found  # both layouts give the same ticks
            for name in dbs:
                rows.append(f"| {span} s ({found[name]:,} ticks) | {name} | {median(times[name]):.1f} ms | "
                            f"{percentile(times[name], 95):.1f} ms | {units[name]:g} | {counts[name]} |")
        for db in dbs.values():
            db.close()
    body = [f"SPY at {args.rate:,} trades a second for {args.seconds} s (five trades a millisecond, stored as one "
            "each, the volumes added), one ingest batch a second, on one DynamoDB Local; the bucket is s3rver "
            "on the same machine.", "",
            "| layout | write units a second on SPY's ticks |", "|---|---:|"]
    body += [f"| {name} | {units_a_second:.1f} |" for name, units_a_second in written.items()]
    body += ["", f"Windows read {args.reads} times each, the layouts in turns:", "",
             "| window | layout | p50 | p95 | read units a read | S3 GETs a read |", "|---|---|---:|---:|---:|---:|",
             *rows]
    text = "\n".join(body)
    write_section("tick_archive", "python -m benchmarks.tick_archive", text)
    print(text)


if __name__ == "__main__":
    main()
