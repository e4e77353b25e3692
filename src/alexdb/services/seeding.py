"""Seed data: the 22 reference ETFs, the original test portfolio and a deterministic synthetic price history."""

from __future__ import annotations

import json
import random
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from importlib import resources
from typing import TYPE_CHECKING, Any

from alexdb.domain.instants import utcnow

if TYPE_CHECKING:
    from alexdb.database import Database

CLOSE = time(21, 0, tzinfo=UTC)  # prices are daily closes, 16:00 New York
HISTORY_DAYS = 3 * 365
TEST_USER = "test_user_001"
CENT = Decimal("0.01")

Progress = Callable[[int], None]


def load_etfs() -> list[dict[str, Any]]:
    """The 22 reference ETFs shipped inside the package (prices and allocations as exact Decimals)."""
    text = resources.files("alexdb.data").joinpath("etfs.json").read_text(encoding="utf-8")
    etfs: list[dict[str, Any]] = json.loads(text, parse_float=Decimal, parse_int=Decimal)
    return etfs


def seed_instruments(db: Database, advance: Progress | None = None) -> int:
    """Create or refresh the 22 reference ETFs; returns how many."""
    etfs = load_etfs()
    for etf in etfs:
        db.instruments.upsert_instrument(etf)
        if advance:
            advance(1)
    return len(etfs)


def synthetic_closes(
    symbol: str, latest: Decimal | str, days: int, today: datetime
) -> Iterator[tuple[str, Decimal, datetime]]:
    """Daily closes for the days before today: a random walk seeded by the symbol, ending near latest.

    Deterministic for a given symbol, latest price and day: the walk runs backwards from today, so the
    newest synthetic close sits next to the instrument's reference price.
    """
    rng = random.Random(zlib.crc32(symbol.encode()))
    price = Decimal(latest)
    closes: list[tuple[str, Decimal, datetime]] = []
    midnight = datetime.combine(today.date(), time(0), tzinfo=UTC)
    for back in range(1, days + 1):
        day = midnight - timedelta(days=back)
        step = Decimal(str(round(rng.gauss(0.0003, 0.011), 6)))
        price = max(CENT, (price / (1 + step)).quantize(CENT, rounding=ROUND_HALF_EVEN))
        closes.append((symbol, price, datetime.combine(day.date(), CLOSE)))
    return reversed(closes)


# (symbol, action, quantity, days ago): ends at the original test portfolio SPY 100, QQQ 50, BND 200, VEA 150, GLD 25.
TEST_TRADES = [
    ("SPY", "BUY", 60, 730), ("BND", "BUY", 200, 700), ("QQQ", "BUY", 80, 600),
    ("SPY", "BUY", 40, 365), ("VEA", "BUY", 150, 365), ("QQQ", "SELL", 30, 200), ("GLD", "BUY", 25, 180),
]
TEST_ACCOUNTS = [
    ("401(k)", "Primary retirement savings", "5000", "0.045", "401k"),
    ("Roth IRA", "Tax-free retirement savings", "1000", "0.04", "roth_ira"),
    ("Taxable Brokerage", "General investment account", "2500", "0.035", "taxable"),
]


def load_test_data(db: Database, advance: Progress | None = None, days: int = HISTORY_DAYS) -> dict[str, Any]:
    """The original test user, three accounts and five positions, with price history to travel through."""
    now = utcnow()
    for etf in load_etfs():
        db.instruments.record_prices(synthetic_closes(etf["symbol"], etf["current_price"], days, now))
        if advance:
            advance(1)
    db.users.create_user(TEST_USER, "Test User", years_until_retirement=25,
                         target_retirement_income=Decimal("100000"))
    accounts = [
        db.accounts.create_account(TEST_USER, name, purpose, cash_balance=Decimal(cash),
                                   cash_interest=Decimal(rate), account_type=kind)
        for name, purpose, cash, rate, kind in TEST_ACCOUNTS
    ]
    midnight = datetime.combine(now.date(), time(15, 0), tzinfo=UTC)
    for symbol, action, quantity, ago in TEST_TRADES:
        db.positions.record_trade(accounts[0].id, symbol, action, quantity, at=midnight - timedelta(days=ago))
    return {"user": TEST_USER, "accounts": accounts}
