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
from alexdb.domain.ledger import signed
from alexdb.domain.trading import trade_cash

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


# (account, symbol, action, quantity, days ago). The 401(k) ends at the original test portfolio SPY 100,
# QQQ 50, BND 200, VEA 150, GLD 25; the taxable account holds VUG through its 2-for-1 split.
TEST_TRADES = [
    (0, "SPY", "BUY", 60, 730), (0, "BND", "BUY", 200, 700), (0, "QQQ", "BUY", 80, 600),
    (0, "SPY", "BUY", 40, 365), (0, "VEA", "BUY", 150, 365), (0, "QQQ", "SELL", 30, 200), (0, "GLD", "BUY", 25, 180),
    (1, "AOR", "BUY", 100, 650), (2, "VUG", "BUY", 40, 500), (2, "VUG", "BUY", 20, 300), (2, "VUG", "SELL", 30, 100),
]
TEST_ACCOUNTS = [
    ("401(k)", "Primary retirement savings", "5000", "0.045", "401k"),
    ("Roth IRA", "Tax-free retirement savings", "1000", "0.04", "roth_ira"),
    ("Taxable Brokerage", "General investment account", "2500", "0.035", "taxable"),
]
TRADE_FEE = Decimal("4.95")
OPENED_DAYS_AGO = 760
SPLIT = ("VUG", 2, 1, 200)  # symbol, numerator, denominator, days ago
# (account, kind, symbol, amount, days ago): income, costs and flows the ledger records besides trades.
TEST_MOVEMENTS = [
    *((0, "DIVIDEND", "SPY", Decimal("98.40"), ago) for ago in (640, 550, 460, 370, 280, 190, 100, 10)),
    *((0, "DIVIDEND", "BND", Decimal("41.25"), ago) for ago in range(670, 0, -30)),
    *((0, "TAX", "SPY", Decimal("14.76"), ago) for ago in (370, 10)),
    (0, "FEE", None, Decimal("25.00"), 395), (0, "FEE", None, Decimal("25.00"), 30),
    (0, "DEPOSIT", None, Decimal("6000.00"), 400), (1, "INTEREST", None, Decimal("3.10"), 90),
    (2, "WITHDRAWAL", None, Decimal("1500.00"), 60),
]


def _history(days: int, now: datetime) -> dict[str, dict[str, Decimal]]:
    """Each ETF's synthetic daily closes by ISO date; VUG's closes before its split are pre-split prices."""
    symbol, numerator, denominator, ago = SPLIT
    split_day = (now - timedelta(days=ago)).date().isoformat()
    closes: dict[str, dict[str, Decimal]] = {}
    for etf in load_etfs():
        series = closes.setdefault(etf["symbol"], {})
        for name, price, at in synthetic_closes(etf["symbol"], etf["current_price"], days, now):
            day = at.date().isoformat()
            series[day] = price * numerator / denominator if name == symbol and day < split_day else price
    return closes


def load_test_data(db: Database, advance: Progress | None = None, days: int = HISTORY_DAYS) -> dict[str, Any]:
    """The original test user with three accounts: deposits, trades at market with fees, dividends, taxes,
    fees, a withdrawal and a split, with price history to travel through. Each account's cash today is
    its original cash balance."""
    now = utcnow()
    closes = _history(days, now)
    for symbol, series in closes.items():
        db.instruments.record_prices([(symbol, price, datetime.combine(datetime.fromisoformat(day).date(), CLOSE))
                                      for day, price in series.items()])
        if advance:
            advance(1)
    db.users.create_user(TEST_USER, "Test User", years_until_retirement=25,
                         target_retirement_income=Decimal("100000"))
    accounts = [db.accounts.create_account(TEST_USER, name, purpose, cash_interest=Decimal(rate), account_type=kind)
                for name, purpose, _, rate, kind in TEST_ACCOUNTS]
    afternoon = datetime.combine(now.date(), time(15, 0), tzinfo=UTC)

    def when(ago: int) -> datetime:
        return afternoon - timedelta(days=ago)

    def price(symbol: str, ago: int) -> Decimal:
        series = closes[symbol]
        day = when(ago).date()
        while day.isoformat() not in series:  # the close before, if that day has none
            day -= timedelta(days=1)
        return series[day.isoformat()]

    symbol, numerator, denominator, split_ago = SPLIT
    db.instruments.record_split(symbol, numerator, denominator, when(split_ago) - timedelta(hours=14), "test split")
    spent = [Decimal(0) for _ in accounts]
    for index, name, action, quantity, ago in TEST_TRADES:
        paid = price(name, ago)
        change = db.positions.record_trade(accounts[index].id, name, action, quantity, at=when(ago), price=paid,
                                           fee=TRADE_FEE)
        spent[index] -= trade_cash(change.action, Decimal(quantity), paid, TRADE_FEE) or 0
    movements = sorted(TEST_MOVEMENTS, key=lambda m: -m[4])
    for index, (account, (_, _, cash, _, _)) in enumerate(zip(accounts, TEST_ACCOUNTS, strict=True)):
        moved = sum((signed(kind, amount) for i, kind, _, amount, _ in movements if i == index), Decimal(0))
        db.cash.deposit(account.id, Decimal(cash) + spent[index] - moved, at=when(OPENED_DAYS_AGO), note="opening")
    for index, kind, paying, amount, ago in movements:
        db.cash.record(accounts[index].id, kind, amount, at=when(ago) + timedelta(hours=1), symbol=paying)
    return {"user": TEST_USER, "accounts": accounts}
