"""Benchmark: the per-call cost of reaching PostgreSQL through the RDS Data API instead of directly.

    python -m benchmarks.data_api [--calls 300]

The same database of the local PostgreSQL server, opened twice: directly (psycopg) and through
data-api-local (the emulator the tests use, on loopback). Each alexdb call is timed on both, interleaved;
p50/p95 and the ratio go to RESULTS.md. On AWS the Data API adds an HTTPS round trip to a regional endpoint
per statement (and BeginTransaction/CommitTransaction per write): expect more than the loopback figure here.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tests.dynamodb_local import data_api_local

import alexdb
from benchmarks.postgres import throwaway_database
from benchmarks.results import percentile, write_section


def main() -> None:
    """Run and write the section of RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    with throwaway_database("dapi") as direct_url, data_api_local() as endpoint:
        name = direct_url.rsplit("/", 1)[1]
        api_url = (f"aurora-data-api://arn:aws:rds:us-east-1:123456789012:cluster:alex?database={name}"
                   f"&secret_arn=arn:aws:secretsmanager:us-east-1:123456789012:secret:alex&endpoint_url={endpoint}")
        rows = measure(alexdb.connect(direct_url, migrate=True), alexdb.connect(api_url), args.calls)
    table = ["| call | direct p50 ms | direct p95 ms | Data API p50 ms | Data API p95 ms | Data API / direct |",
             "|---|---:|---:|---:|---:|---:|"] + ["| " + " | ".join(r) + " |" for r in rows]
    write_section("data_api", f"python -m benchmarks.data_api --calls {args.calls}", f"""
One database of the local PostgreSQL server, reached directly (psycopg) and through data-api-local on
loopback; {args.calls} calls of each kind, interleaved. A read is one statement in a transaction
(BeginTransaction, ExecuteStatement, CommitTransaction: the dialect has no autocommit); a trade is a
transaction of several statements. On AWS each of those requests is an HTTPS round trip to the regional
endpoint, so the overhead there is larger than on loopback.

{chr(10).join(table)}
""")


def measure(direct: alexdb.Database, api: alexdb.Database, calls: int) -> list[tuple[str, ...]]:
    """p50/p95 of each call on both."""
    direct.users.create_user("bench")
    direct.instruments.create_instrument({"symbol": "SPY", "name": "SPDR", "instrument_type": "etf",
                                          "current_price": "500", "allocation_regions": {"north_america": 100},
                                          "allocation_sectors": {"other": 100},
                                          "allocation_asset_class": {"equity": 100}})
    account = direct.accounts.create_account("bench", "Brokerage", cash_balance=Decimal("1000000"))
    cases: dict[str, Callable[[alexdb.Database], Any]] = {
        "get_user": lambda db: db.users.get_user("bench"),
        "get_portfolio_value": lambda db: db.positions.get_portfolio_value(account.id),
        "record_trade (BUY with price)": lambda db: db.positions.record_trade(account.id, "SPY", "BUY", 1,
                                                                               price="500"),
    }
    rows: list[tuple[str, ...]] = []
    for label, case in cases.items():
        times: dict[str, list[float]] = {"direct": [], "api": []}
        for _ in range(calls):
            for key, db in (("direct", direct), ("api", api)):
                began = time.perf_counter()
                case(db)
                times[key].append(time.perf_counter() - began)
        d50, a50 = percentile(times["direct"], 50), percentile(times["api"], 50)
        rows.append((label, f"{d50 * 1000:.2f}", f"{percentile(times['direct'], 95) * 1000:.2f}", f"{a50 * 1000:.2f}",
                     f"{percentile(times['api'], 95) * 1000:.2f}", f"{a50 / d50:.1f}x"))
        print(rows[-1])
    return rows


if __name__ == "__main__":
    main()
