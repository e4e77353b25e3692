"""Benchmark: time travel on one account with 50 symbols, 200,000 trades and 126,000 daily prices over 10 years.

    python -m benchmarks.valuation [--backends sqlite,postgresql] [--queries 1000]

Measures get_account_value_at_date at random instants (p50/p95) against a naive replay (load every trade
and price of the account, replay up to the instant) run in the same process on the same data, and the
daily value series over the 10 years in one sweep. Checks that both methods agree before reporting.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import select

import alexdb
from alexdb.adapters.sql.backend import SqlBackend
from alexdb.adapters.sql.schema import position_history, price_history
from benchmarks.results import median, percentile, write_section

SYMBOLS = [f"S{n:02d}" for n in range(50)]
START = datetime(2016, 1, 4, tzinfo=UTC)
YEARS = 10
TRADES = 200_000
PG_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
console = Console(stderr=True)


def trading_days() -> list[date]:
    """2,520 weekdays from START: 10 years of daily closes."""
    days: list[date] = []
    day = START.date()
    while len(days) < 252 * YEARS:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def make_prices(rng: random.Random) -> list[tuple[str, Decimal, datetime]]:
    """50 random walks of daily closes at 21:00 UTC: 126,000 points."""
    points = []
    for symbol in SYMBOLS:
        price = Decimal(rng.randint(20, 500))
        for day in trading_days():
            price = max(Decimal("1.00"), (price * Decimal(str(round(1 + rng.gauss(0.0003, 0.015), 6))))
                        .quantize(Decimal("0.01")))
            points.append((symbol, price, datetime(day.year, day.month, day.day, 21, tzinfo=UTC)))
    return points


def make_trades(rng: random.Random, end: datetime) -> list[tuple[str, str, Decimal, datetime]]:
    """200,000 trades at random instants over the 10 years; sales never exceed what is held."""
    span = (end - START).total_seconds()
    instants = sorted(START + timedelta(seconds=rng.uniform(0, span)) for _ in range(TRADES))
    held = dict.fromkeys(SYMBOLS, Decimal(0))
    trades = []
    for at in instants:
        symbol = rng.choice(SYMBOLS)
        quantity = Decimal(rng.randint(1, 10_000)) / 100
        action = "BUY"
        if held[symbol] >= quantity and rng.random() < 0.4:
            action = "SELL"
        held[symbol] += quantity if action == "BUY" else -quantity
        trades.append((symbol, action, quantity, at))
    return trades


def load(db: alexdb.Database, prices: list[Any], trades: list[Any]) -> uuid.UUID:
    """Create the user, account and instruments, then load prices and trades in chunks."""
    db.users.create_user("bench")
    for symbol in SYMBOLS:
        db.instruments.create_instrument({
            "symbol": symbol, "name": f"Fund {symbol}", "instrument_type": "etf",
            "allocation_regions": {"global": 100}, "allocation_sectors": {"diversified": 100},
            "allocation_asset_class": {"equity": 100},
        })
    account = db.accounts.create_account("bench", "Benchmark")
    db.cash.deposit(account.id, Decimal("1000.00"), at=START - timedelta(days=1))  # cash since before the trades
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"loading {db.backend}", total=len(prices) + len(trades))
        for i in range(0, len(prices), 12_600):
            db.instruments.record_prices(prices[i:i + 12_600])
            progress.advance(task, 12_600)
        for i in range(0, len(trades), 20_000):
            db.positions.record_trades(account.id, trades[i:i + 20_000])
            progress.advance(task, 20_000)
    account_id: uuid.UUID = account.id
    return account_id


def naive_value(db: alexdb.Database, account_id: uuid.UUID, at: datetime, cash: Decimal) -> Decimal:
    """The baseline: load every trade and price of the account, replay them up to at."""
    backend = db.engine
    assert isinstance(backend, SqlBackend)
    engine = backend.sqlalchemy_engine
    with engine.connect() as conn:
        changes = conn.execute(select(position_history.c.symbol, position_history.c.at, position_history.c.delta)
                               .where(position_history.c.account_id == account_id)).all()
        points = conn.execute(select(price_history.c.symbol, price_history.c.at, price_history.c.price)
                              .where(price_history.c.symbol.in_(SYMBOLS))).all()
    held: dict[str, Decimal] = {}
    for symbol, when, delta in changes:
        if when <= at:
            held[symbol] = held.get(symbol, Decimal(0)) + delta
    latest: dict[str, tuple[datetime, Decimal]] = {}
    for symbol, when, price in points:
        if when <= at and (symbol not in latest or when > latest[symbol][0]):
            latest[symbol] = (when, price)
    return cash + sum((q * latest[s][1] for s, q in held.items() if q and s in latest), Decimal(0))


def measure_in_reader(
    url: str, account_id: uuid.UUID, end: datetime, queries: int, naive_runs: int
) -> dict[str, float]:
    """Measure from a fresh process, as an application reading the database would (not the loader)."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_measure_url, (url, account_id, end, queries, naive_runs))


def _measure_url(url: str, account_id: uuid.UUID, end: datetime, queries: int, naive_runs: int) -> dict[str, float]:
    db = alexdb.connect(url)
    try:
        return measure(db, account_id, end, queries, naive_runs)
    finally:
        db.close()


def measure(db: alexdb.Database, account_id: uuid.UUID, end: datetime, queries: int,
            naive_runs: int) -> dict[str, float]:
    """Time the indexed valuation, the naive replay and the daily series on one loaded database."""
    rng = random.Random(7)
    span = (end - START).total_seconds()
    instants = [START + timedelta(seconds=rng.uniform(0, span)) for _ in range(queries)]
    fast = []
    for at in instants:
        began = time.perf_counter()
        db.positions.get_account_value_at_date(account_id, at)
        fast.append(time.perf_counter() - began)
    naive = []
    for at in instants[:naive_runs]:
        began = time.perf_counter()
        expected = naive_value(db, account_id, at, Decimal("1000.00"))
        naive.append(time.perf_counter() - began)
        got = db.positions.get_account_value_at_date(account_id, at).total
        assert got == expected, f"valuation disagrees with the replay at {at}: {got} != {expected}"
    series = []
    for _ in range(5):
        began = time.perf_counter()
        points = db.positions.get_value_series(account_id, START, end, timedelta(days=1))
        series.append(time.perf_counter() - began)
    assert points[-1].total == db.positions.get_account_value_at_date(account_id, points[-1].at).total
    return {"p50": percentile(fast, 50), "p95": percentile(fast, 95), "naive_p50": median(naive),
            "series": median(series), "series_points": len(points)}


def open_backend(name: str, workdir: Path) -> tuple[Any, Any]:
    """A fresh database of the backend and a function that removes it."""
    if name == "sqlite":
        db = alexdb.connect(f"sqlite:///{workdir / 'valuation.db'}")
        return db, lambda: None
    database = f"alexdb_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    db = alexdb.connect(PG_SERVER.rsplit("/", 1)[0] + "/" + database, migrate=True)

    def drop() -> None:
        db.close()
        with psycopg.connect(PG_SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return db, drop


def main() -> None:
    """Run the benchmark and write its section of RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--naive-runs", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(42)
    prices = make_prices(rng)
    end = max(at for _, _, at in prices)
    trades = make_trades(rng, end)
    rows = []
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as workdir:
            db, cleanup = open_backend(backend, Path(workdir))
            try:
                began = time.perf_counter()
                account_id = load(db, prices, trades)
                loaded = time.perf_counter() - began
                url = db.url
                db.close()
                result = measure_in_reader(url, account_id, end, args.queries, args.naive_runs)
            finally:
                db.close()
                cleanup()
        result["load"] = loaded
        console.print(f"{backend}: {result}")
        rows.append((backend, result))
    command = "python -m benchmarks.valuation " + f"--backends {args.backends} --queries {args.queries}"
    body = [
        f"One account, {len(SYMBOLS)} symbols, {len(trades):,} trades and {len(prices):,} daily prices over "
        f"{YEARS} years. {args.queries} valuations at random instants; the naive replay (load every trade and "
        f"price, replay to the instant) timed {args.naive_runs} times on the same data in the same run, and its "
        "totals checked equal to the indexed valuation's. Data is loaded by the benchmark process and measured "
        "from a fresh reader process, as an application would read it; the series figure is the median of 5 runs.",
        "",
        "| backend | value_at p50 | value_at p95 | naive replay p50 | speed-up (naive p50 / p50) "
        "| daily series, 10 years | load |",
        "|---|---|---|---|---|---|---|",
    ]
    for backend, r in rows:
        body.append(
            f"| {backend} | {r['p50'] * 1000:.2f} ms | {r['p95'] * 1000:.2f} ms | {r['naive_p50'] * 1000:.0f} ms "
            f"| {r['naive_p50'] / r['p50']:.0f}x | {r['series']:.3f} s ({int(r['series_points'])} points) "
            f"| {r['load']:.1f} s |"
        )
    body += ["", "Goals: p50 under 5 ms on SQLite, at least 100x faster than the replay; series under 0.5 s on SQLite."]
    write_section("valuation", command, "\n".join(body))
    console.print("\n".join(body))


if __name__ == "__main__":
    main()
