"""Concurrent traders of one position lose no update, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import uuid
from decimal import Decimal
from typing import Any

import alexdb
from alexdb import Database, InsufficientQuantityError
from tests.conftest import instrument

WORKERS = 8
TRADES_EACH = 15


def _trade_many(url: str, account_id: str, worker: int) -> None:
    """Trade TRADES_EACH times; any error but a refused oversell propagates (and fails the worker)."""
    db = alexdb.connect(url)
    try:
        for n in range(TRADES_EACH):
            action = "BUY" if (worker + n) % 3 else "SELL"
            with contextlib.suppress(InsufficientQuantityError):
                db.positions.record_trade(account_id, "SPY", action, Decimal("1.5"))
    finally:
        db.close()


def _in_thread(errors: list[BaseException], *args: object) -> None:
    try:
        _trade_many(*args)  # type: ignore[arg-type]
    except BaseException as exc:
        errors.append(exc)


def _setup(url: str) -> str:
    db = alexdb.connect(url)
    db.users.create_user("racer")
    db.instruments.create_instrument(instrument("SPY"))
    account = db.accounts.create_account("racer", "race")
    db.positions.record_trade(account.id, "SPY", "BUY", 3)
    db.close()
    return str(account.id)


def _check(url: str, account_id: str) -> None:
    db = alexdb.connect(url)
    history = db.positions.get_position_history(account_id, limit=1000).items
    [position] = db.positions.find_by_account(account_id)
    assert len(history) > WORKERS * TRADES_EACH // 2
    assert sum(change.delta for change in history) == position.quantity
    running = Decimal(0)
    for change in history:
        running += change.delta
        assert change.quantity_after == running >= 0
    db.close()


def test_concurrent_threads_lose_nothing(shared_url: str) -> None:
    account_id = _setup(shared_url)
    errors: list[BaseException] = []
    workers = [threading.Thread(target=_in_thread, args=(errors, shared_url, account_id, w)) for w in range(WORKERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert errors == []
    _check(shared_url, account_id)


def test_concurrent_processes_lose_nothing(shared_url: str) -> None:
    account_id = _setup(shared_url)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_trade_many, args=(shared_url, account_id, w)) for w in range(WORKERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert [worker.exitcode for worker in workers] == [0] * WORKERS
    _check(shared_url, account_id)


def test_threads_sharing_one_handle(db: Database) -> None:
    account_id = _setup_memory(db)
    threads = [threading.Thread(target=_memory_worker, args=(db, account_id)) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    history = db.positions.get_position_history(account_id, limit=1000).items
    assert len(history) == 1 + WORKERS * TRADES_EACH
    assert db.positions.find_by_account(account_id)[0].quantity == 1 + WORKERS * TRADES_EACH


def _setup_memory(db: Database) -> uuid.UUID:
    db.users.create_user("racer")
    db.instruments.create_instrument(instrument("SPY"))
    account = db.accounts.create_account("racer", "race")
    db.positions.record_trade(account.id, "SPY", "BUY", 1)
    return account.id


def _memory_worker(db: Database, account_id: Any) -> None:
    for _ in range(TRADES_EACH):
        db.positions.record_trade(account_id, "SPY", "BUY", 1)
