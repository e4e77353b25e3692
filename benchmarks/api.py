"""Benchmark: the HTTP service under a bounded load, against a hand-written FastAPI peer on the same data.

    python -m benchmarks.api [--backends sqlite,postgresql] [--clients 16] [--seconds 10]

One user's account: 20 ETFs held, 1,000 trades and a year of daily prices. `alexdb serve` (one uvicorn
process) answers GET /v1/accounts/{id}/value and GET /v1/accounts/{id}/series (a year, daily); the peer
(benchmarks/api_peer.py, one uvicorn process) answers the same questions with one SQL statement and with
pandas. 16 clients on loopback keep one request each in flight for the given seconds; requests per second
and latency percentiles are written to RESULTS.md. The first answers of both are checked to agree.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
from rich.console import Console
from tests.dynamodb_local import free_port

import alexdb
from benchmarks.results import percentile, write_section

PG_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
SYMBOLS = [f"E{n:02d}" for n in range(20)]
START = datetime(2025, 1, 1, 21, tzinfo=UTC)
DAYS = 365
console = Console(stderr=True)


def fill(url: str) -> str:
    """The test portfolio in a fresh database; the account's id."""
    rng = random.Random(7)
    with alexdb.connect(url, migrate=True) as db:
        db.drop_all()
    with alexdb.connect(url, migrate=True) as db:
        db.users.create_user("bench")
        for symbol in SYMBOLS:
            db.instruments.create_instrument({
                "symbol": symbol, "name": f"{symbol} ETF", "instrument_type": "etf",
                "allocation_regions": {"north_america": 100}, "allocation_sectors": {"diversified": 100},
                "allocation_asset_class": {"equity": 100}})
        prices, price = [], {s: Decimal(rng.randint(50, 400)) for s in SYMBOLS}
        for day in range(DAYS):
            for symbol in SYMBOLS:
                price[symbol] = max(Decimal(1), (price[symbol] * Decimal(str(round(1 + rng.gauss(0, 0.01), 5))))
                                    .quantize(Decimal("0.01")))
                prices.append((symbol, price[symbol], START + timedelta(days=day)))
        db.instruments.record_prices(prices)
        account = db.accounts.create_account("bench", "Brokerage")
        db.cash.deposit(account.id, Decimal("1000000"), at=START - timedelta(hours=1))
        trades = [{"symbol": rng.choice(SYMBOLS), "action": "BUY", "quantity": rng.randint(1, 20),
                   "at": START + timedelta(days=d, hours=1)} for d in sorted(rng.randrange(DAYS) for _ in range(1000))]
        db.positions.record_trades(account.id, trades)
        return str(account.id)


def start(command: list[str], port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A server process, once it answers."""
    process = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{command[2]} did not start: {process.stderr.read().decode()[-500:] if process.stderr else ''}")


async def load(url: str, clients: int, seconds: float) -> list[float]:
    """Latencies of every request clients made back to back for seconds."""
    latencies: list[float] = []
    finish = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=clients)) as client:
        async def one_client() -> None:
            while time.monotonic() < finish:
                began = time.perf_counter()
                answer = await client.get(url)
                latencies.append(time.perf_counter() - began)
                answer.raise_for_status()
        await asyncio.gather(*(one_client() for _ in range(clients)))
    return latencies


def row(name: str, latencies: list[float], seconds: float) -> tuple[str, float, float, float]:
    """(name, requests/s, p50 ms, p99 ms)."""
    return name, len(latencies) / seconds, percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000


def bench(backend: str, url: str, stored_id: str, clients: int, seconds: float) -> list[tuple[str, ...]]:
    """The four measurements of one backend."""
    account = fill(url)
    ours, theirs = free_port(), free_port()
    servers = [start([sys.executable, "-m", "alexdb", "serve", "--port", str(ours), "--url", url], ours,
                     {"ALEXDB_AUTH_JWKS_URL": ""}),
               start([sys.executable, "-m", "uvicorn", "benchmarks.api_peer:app", "--port", str(theirs),
                      "--log-level", "warning"], theirs, {"PEER_DATABASE_URL": url})]
    key = stored_id.format(account=account.replace("-", "")) if backend == "sqlite" else account
    first, last = START.date().isoformat(), (START + timedelta(days=DAYS - 1)).date().isoformat()
    cases = {
        "GET value": (f"http://127.0.0.1:{ours}/v1/accounts/{account}/value",
                      f"http://127.0.0.1:{theirs}/value/{key}"),
        "GET series (1 year, daily)": (
            f"http://127.0.0.1:{ours}/v1/accounts/{account}/series?start={first}&end={last}&step=1d",
            f"http://127.0.0.1:{theirs}/series/{key}?start={first}&end={last}")}
    rows: list[tuple[str, ...]] = []
    try:
        check(cases)
        for name, (alexdb_url, peer_url) in cases.items():
            ours_row = row(name, asyncio.run(load(alexdb_url, clients, seconds)), seconds)
            peer_row = row(name, asyncio.run(load(peer_url, clients, seconds)), seconds)
            rows.append((backend, name, f"{ours_row[1]:,.0f}", f"{ours_row[2]:.1f}", f"{ours_row[3]:.1f}",
                         f"{peer_row[1]:,.0f}", f"{peer_row[2]:.1f}", f"{peer_row[3]:.1f}",
                         f"{ours_row[1] / peer_row[1]:.2f}x"))
            console.print(rows[-1])
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
    return rows


def check(cases: dict[str, tuple[str, str]]) -> None:
    """Both services give the same holdings value now and on the series' last day."""
    value, peer = (httpx.get(u, timeout=60).json() for u in cases["GET value"])
    assert abs(Decimal(value["holdings_value"]) - Decimal(peer["holdings_value"])) < Decimal("0.01"), (value, peer)
    series, peer_series = (httpx.get(u, timeout=60).json() for u in cases["GET series (1 year, daily)"])
    assert len(series) == len(peer_series) == DAYS, (len(series), len(peer_series))
    assert abs(Decimal(series[-1]["holdings_value"]) - Decimal(str(peer_series[-1]["holdings_value"]))) < 1


def main() -> None:
    """Run and write the section of RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    rows: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                rows += bench(backend, f"sqlite:///{Path(tmp) / 'api.db'}", "{account}", args.clients, args.seconds)
            else:
                with psycopg.connect(PG_SERVER, autocommit=True) as conn:
                    conn.execute("DROP DATABASE IF EXISTS alexdb_api_bench")
                    conn.execute("CREATE DATABASE alexdb_api_bench")
                rows += bench(backend, PG_SERVER.rsplit("/", 1)[0] + "/alexdb_api_bench", "{account}", args.clients,
                              args.seconds)
    table = ["| backend | request | alexdb req/s | p50 ms | p99 ms | peer req/s | peer p50 ms | peer p99 ms | "
             "alexdb / peer |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    table += ["| " + " | ".join(r) + " |" for r in rows]
    write_section("api", f"python -m benchmarks.api --backends {args.backends} --clients {args.clients} "
                  f"--seconds {args.seconds:g}", f"""
{args.clients} clients on loopback, each keeping one request in flight for {args.seconds:g} s, against one
uvicorn process each: `alexdb serve` and the peer (benchmarks/api_peer.py: FastAPI with one SQL statement
for the value and pandas for the series, no splits, no ledger, floats). Test portfolio: 20 ETFs, 1,000
trades, a year of daily prices. Both answers were checked to agree before timing.

{chr(10).join(table)}
""")


if __name__ == "__main__":
    main()
