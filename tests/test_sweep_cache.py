"""What a process keeps for value sweeps never hides a write, even one made by another process."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

import alexdb
from alexdb import Database
from alexdb.adapters.dynamodb.hot import DEFAULT_PRICE_SECONDS
from alexdb.domain.models import Account, ValuePoint
from tests.conftest import instrument

DAY = timedelta(days=1)
START = datetime(2024, 1, 1, 21, tzinfo=UTC)
END = START + 30 * DAY
VIEW_STALENESS = DEFAULT_PRICE_SECONDS + 1


@pytest.fixture
def pair(shared_url: str) -> Iterator[tuple[Database, Database]]:
    """Two databases on one store, as two processes would open it: one reads series, one writes."""
    reader, writer = alexdb.connect(shared_url), alexdb.connect(shared_url)
    yield reader, writer
    reader.close()
    writer.close()


def _series(db: Database, account_id: uuid.UUID) -> list[ValuePoint]:
    return db.positions.get_value_series(account_id, START, END, DAY)


def _cold(url: str, account_id: uuid.UUID) -> tuple[list[ValuePoint], object]:
    """The series and returns as a process that kept nothing computes them."""
    fresh = alexdb.connect(url)
    try:
        return _series(fresh, account_id), fresh.performance.returns(account_id, START, END)
    finally:
        fresh.close()


def test_a_kept_series_follows_every_kind_of_write(pair: tuple[Database, Database], shared_url: str) -> None:
    reader, writer = pair
    writer.users.create_user("keeper")
    for symbol in ("SPY", "QQQ"):
        writer.instruments.create_instrument(instrument(symbol))
    writer.instruments.record_prices([(symbol, Decimal(100 + day), START + day * DAY)
                                      for symbol in ("SPY", "QQQ") for day in range(0, 20, 2)])
    account = writer.accounts.create_account("keeper", "Kept")
    writer.cash.deposit(account.id, "10000", at=START)
    writer.positions.record_trade(account.id, "SPY", "BUY", 10, at=START + DAY, price="101", fee="1")
    writes: list[tuple[str, Callable[[], object]]] = [
        ("a price newer than every point", lambda: writer.instruments.record_price("SPY", "150", START + 25 * DAY)),
        ("a backfilled price between points", lambda: writer.instruments.record_price("SPY", "90", START + 3 * DAY)),
        ("a corrected point", lambda: writer.instruments.record_price("SPY", "80", START + 4 * DAY)),
        ("a trade of a symbol held", lambda: writer.positions.record_trade(
            account.id, "SPY", "SELL", 4, at=START + 6 * DAY, price="106")),
        ("a trade of a new symbol", lambda: writer.positions.record_trade(
            account.id, "QQQ", "BUY", 3, at=START + 7 * DAY, price="107")),
        ("a split", lambda: writer.instruments.record_split("SPY", 2, 1, START + 9 * DAY)),
        ("a deposit", lambda: writer.cash.deposit(account.id, "500", at=START + 11 * DAY)),
        ("a fee at the very instant of the last movement",
         lambda: writer.cash.record(account.id, "FEE", "5", at=START + 11 * DAY)),
        ("a transfer in", lambda: writer.positions.record_trade(
            account.id, "QQQ", "TRANSFER_IN", 2, at=START + 12 * DAY)),
    ]
    before = _series(reader, account.id)
    reader.performance.returns(account.id, START, END)
    assert (before, reader.performance.returns(account.id, START, END)) == _cold(shared_url, account.id)
    for name, write in writes:
        write()
        before = _follows(reader, shared_url, account.id, before, name)


def _follows(reader: Database, url: str, account_id: uuid.UUID, before: list[ValuePoint], name: str) -> list[ValuePoint]:
    """The reader's series once it shows the write: at once, or (a split, on DynamoDB) within the bound of
    the hot-item cache every view reads splits through (adapters/dynamodb/hot.py). What is kept for sweeps
    never expires, so a stale kept series fails here."""
    deadline = time.monotonic() + VIEW_STALENESS
    while True:
        kept = _series(reader, account_id)
        latest = (kept, reader.performance.returns(account_id, START, END))
        expected = _cold(url, account_id)
        if latest == expected and kept != before:
            return kept
        if time.monotonic() > deadline:
            assert kept != before, f"{name} changed nothing: the test would not notice a stale series"
            assert latest == expected, name
        time.sleep(0.2)


def test_changes_at_one_instant_are_swept_in_the_order_they_were_made(db: Database, account: Account) -> None:
    db.instruments.record_price("SPY", "100", START)
    at = START + DAY
    db.positions.record_trade(account.id, "SPY", "BUY", 10, at=at, price="100")
    db.positions.record_trade(account.id, "SPY", "SELL", 4, at=at, price="100")
    db.positions.record_trade(account.id, "SPY", "BUY", 1, at=at, price="100")
    [point] = db.positions.get_value_series(account.id, at, at, DAY)
    assert point.holdings_value == 7 * 100 and point.cash == Decimal("5000.00") - 700
