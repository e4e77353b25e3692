"""Benchmark: requests and consumed capacity of each operation on DynamoDB Local.

    python -m benchmarks.dynamodb_cost

Starts DynamoDB Local, runs each public operation on realistic data (a 1 KB-class job payload, an account
with 5 and with 50 symbols, 1,000 changes of history), and records per call the requests made and the
read/write capacity units DynamoDB reported. Writes the table to benchmarks/RESULTS.md and
docs/dynamodb-costs.md (which docs/dynamodb.md cites), and measures the capacity model's operations per
table and index into src/alexdb/data/dynamodb_profile.json (what `alexdb capacity` reads).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.dynamodb_local import TICKS_BUCKET, dynamodb_local, s3_local

import alexdb
from alexdb.adapters.dynamodb.backend import DynamoBackend
from alexdb.cli.capacity import measured_profile, save_profile
from benchmarks.results import write_section

BASE = datetime(2024, 1, 2, tzinfo=UTC)
DOCS = Path(__file__).resolve().parent.parent / "docs" / "dynamodb-costs.md"


def _engine(db: alexdb.Database) -> DynamoBackend:
    engine = db.engine
    assert isinstance(engine, DynamoBackend)
    return engine


def instrument(symbol: str) -> dict[str, Any]:
    """A valid instrument with realistic allocation maps."""
    return {"symbol": symbol, "name": f"{symbol} Total Market ETF", "instrument_type": "etf",
            "allocation_regions": {"north_america": 60, "europe": 25, "asia": 15},
            "allocation_sectors": {"technology": 30, "financials": 20, "healthcare": 20, "industrials": 30},
            "allocation_asset_class": {"equity": 100}}


def measure(db: alexdb.Database, label: str, call: Callable[[], Any], rows: list[tuple[str, int, float, float]]) -> Any:
    """Run call once and record its requests and capacity units."""
    meter = _engine(db).meter
    meter.reset()
    result = call()
    if isinstance(result, alexdb.Results):
        result = result.page()  # a list is read when used: read the page, so its cost is counted
    rows.append((label, sum(meter.requests.values()), sum(meter.read_units.values()), sum(meter.write_units.values())))
    return result


def run(db: alexdb.Database) -> list[tuple[str, int, float, float]]:
    """Every measured operation, in the order a user meets them."""
    rows: list[tuple[str, int, float, float]] = []
    symbols = [f"S{n:02d}" for n in range(50)]
    measure(db, "create_user", lambda: db.users.create_user("cost_user", "Cost User"), rows)
    measure(db, "create_instrument (with a price)", lambda: db.instruments.create_instrument(
        {**instrument("SPY"), "current_price": Decimal("450.25")}), rows)
    for symbol in symbols:
        db.instruments.create_instrument(instrument(symbol))
    measure(db, "find_by_symbol", lambda: db.instruments.find_by_symbol("SPY"), rows)
    measure(db, "record_price (one)", lambda: db.instruments.record_price("SPY", "451.00", BASE), rows)
    measure(db, "record_prices (100 points, 50 symbols)", lambda: db.instruments.record_prices(
        [(s, "10.00", BASE + timedelta(days=d)) for s in symbols for d in (1, 2)]), rows)
    measure(db, "get_price_at", lambda: db.instruments.get_price_at("S01", BASE + timedelta(days=5)), rows)
    account = measure(db, "create_account", lambda: db.accounts.create_account("cost_user", "401(k)"), rows)
    measure(db, "find_by_id (account)", lambda: db.accounts.find_by_id(account.id), rows)
    measure(db, "record_trade (opens a position)", lambda: db.positions.record_trade(
        account.id, "S00", "BUY", 10, at=BASE), rows)
    measure(db, "record_trade (existing position)", lambda: db.positions.record_trade(
        account.id, "S00", "BUY", 1, at=BASE + timedelta(hours=1)), rows)
    history = [("S00", "BUY", 1, BASE + timedelta(hours=2, seconds=n)) for n in range(1000)]
    db.positions.record_trades(account.id, history)
    for symbol in symbols[1:5]:
        db.positions.record_trade(account.id, symbol, "BUY", 5, at=BASE + timedelta(hours=3))
    measure(db, "find_by_account (5 holdings, 1,000+ changes)", lambda: db.positions.find_by_account(account.id), rows)
    measure(db, "get_account_value_at_date (5 symbols)", lambda: db.positions.get_account_value_at_date(
        account.id, BASE + timedelta(days=3)), rows)
    for symbol in symbols[5:]:
        db.positions.record_trade(account.id, symbol, "BUY", 5, at=BASE + timedelta(hours=4))
    measure(db, "get_account_value_at_date (50 symbols)", lambda: db.positions.get_account_value_at_date(
        account.id, BASE + timedelta(days=3)), rows)
    measure(db, "get_position_history (page of 100)", lambda: db.positions.get_position_history(
        account.id, limit=100), rows)
    payload = {"markdown": "x" * 1000}
    job = measure(db, "create_job (1 KB request)", lambda: db.jobs.create_job(
        "cost_user", "portfolio_analysis", payload), rows)
    measure(db, "claim_next", db.jobs.claim_next, rows)
    measure(db, "update_report (1 KB)", lambda: db.jobs.update_report(job.id, payload), rows)
    measure(db, "update_status (running -> completed)", lambda: db.jobs.update_status(job.id, "completed"), rows)
    measure(db, "find_by_user (jobs, page)", lambda: db.jobs.find_by_user("cost_user", limit=20), rows)
    return rows


def main() -> None:
    """Start DynamoDB Local, measure, write the results."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    with dynamodb_local() as endpoint, s3_local() as s3:
        archive = f"ticks_bucket={TICKS_BUCKET}&s3_endpoint={s3}"  # raw ticks in S3, as deployed at scale
        db = alexdb.connect(f"dynamodb://{endpoint}?region=us-east-1&prefix=cost{uuid.uuid4().hex[:6]}-&{archive}",
                            migrate=True)
        rows = run(db)
        # The capacity model's figures, on tables of their own with the hot-item cache off.
        profile = measured_profile(f"dynamodb://{endpoint}?region=us-east-1&{archive}")
    print(f"wrote {save_profile(profile)}")
    body = ["Requests and capacity units DynamoDB Local reported for one call of each operation "
            "(strongly consistent reads; transactions cost 2 units per item).", "",
            "| operation | requests | read units | write units |", "|---|---|---|---|"]
    body += [f"| {label} | {requests} | {read:g} | {write:g} |" for label, requests, read, write in rows]
    write_section("dynamodb_cost", "python -m benchmarks.dynamodb_cost", "\n".join(body))
    DOCS.parent.mkdir(exist_ok=True)
    title = "# Measured cost of each operation on DynamoDB\n\nWritten by `python -m benchmarks.dynamodb_cost`.\n\n"
    DOCS.write_text(title + "\n".join(body) + "\n")
    print("\n".join(body))


if __name__ == "__main__":
    main()
