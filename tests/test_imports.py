"""Contract: record_trades is all or nothing for any size, and no reader ever sees part of an import."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

import alexdb
from alexdb import Database, InsufficientQuantityError

START = datetime(2024, 1, 1, tzinfo=UTC)
SIZE = 300  # three times what one DynamoDB transaction holds


def _trades(count: int, offset: int = 0) -> list[tuple[str, str, int, datetime]]:
    symbols = ("SPY", "QQQ", "BND")
    return [(symbols[n % 3], "BUY", 1, START + timedelta(minutes=offset + n)) for n in range(count)]


def test_a_large_import_is_written_whole(db: Database, account: Any) -> None:
    assert db.positions.record_trades(account.id, _trades(SIZE)) == SIZE
    assert len(db.positions.get_position_history(account.id)) == SIZE
    assert {p.symbol: p.quantity for p in db.positions.find_by_account(account.id)} == {s: 100 for s in ("SPY", "QQQ", "BND")}
    assert db.positions.get_positions_at(account.id, START + timedelta(minutes=SIZE)) == {"SPY": 100, "QQQ": 100, "BND": 100}
    assert db.positions.record_trades(account.id, _trades(SIZE, offset=SIZE)) == SIZE  # and the next one after it
    assert len(db.positions.get_position_history(account.id, symbol="SPY")) == 2 * SIZE // 3


def test_a_large_import_with_one_bad_trade_writes_nothing(db: Database, account: Any) -> None:
    trades: list[Any] = [*_trades(SIZE), ("SPY", "SELL", 1000, START + timedelta(days=1))]
    with pytest.raises(InsufficientQuantityError):
        db.positions.record_trades(account.id, trades)
    assert len(db.positions.get_position_history(account.id)) == 0
    assert db.positions.find_by_account(account.id) == []
    assert db.counts()["position_history"] == 0


def test_readers_never_see_part_of_an_import(shared_url: str) -> None:
    db = alexdb.connect(shared_url)
    db.users.create_user("importer")
    for symbol in ("SPY", "QQQ", "BND"):
        db.instruments.create_instrument({"symbol": symbol, "name": symbol, "instrument_type": "etf",
                                          "allocation_regions": {"north_america": 100},
                                          "allocation_sectors": {"technology": 100},
                                          "allocation_asset_class": {"equity": 100}})
    account = db.accounts.create_account("importer", "a")
    seen: set[tuple[str, Decimal]] = set()
    done = threading.Event()

    def read() -> None:
        reader = alexdb.connect(shared_url)
        while not done.is_set():
            # Each read on its own: two reads are two moments, and the import may commit between them.
            seen.add(("history", Decimal(len(reader.positions.get_position_history(account.id)))))
            seen.add(("held", sum((p.quantity for p in reader.positions.find_by_account(account.id)), Decimal(0))))
        reader.close()

    thread = threading.Thread(target=read)
    thread.start()
    try:
        db.positions.record_trades(account.id, _trades(SIZE))
    finally:
        done.set()
        thread.join()
    assert seen <= {(kind, Decimal(n)) for kind in ("history", "held") for n in (0, SIZE)}, sorted(seen)
    db.close()
