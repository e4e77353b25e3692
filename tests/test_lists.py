"""Contract: no list looks complete when it is not, and cursors are bound to their list (every backend)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from alexdb import Database, Results, ValidationError
from alexdb.domain.paging import DEFAULT_LIMIT, Bookmark, Cursors, scope
from tests.conftest import instrument

START = datetime(2024, 1, 1, tzinfo=UTC)


def _history(db: Database, account: Any, changes: int) -> None:
    trades = [("SPY", "BUY", 1, START + timedelta(minutes=n)) for n in range(changes)]
    db.positions.record_trades(account.id, trades[:50])
    for trade in trades[50:]:
        db.positions.record_trade(account.id, trade[0], trade[1], trade[2], at=trade[3])


def test_iterating_a_long_history_yields_every_change(db: Database, account: Any) -> None:
    _history(db, account, 250)
    history = db.positions.get_position_history(account.id)
    assert len(history) == 250 and history.next_cursor is None and not history.paged
    assert [change.quantity_after for change in history] == list(range(1, 251))
    assert history[249].quantity_after == 250


def test_a_page_is_explicit_and_its_cursors_walk_the_whole_list(db: Database, account: Any) -> None:
    _history(db, account, 250)
    seen: list[Decimal] = []
    page = db.positions.get_position_history(account.id, limit=100)
    pages = 0
    while True:
        pages += 1
        assert page.paged and len(page) <= 100
        seen += [change.quantity_after for change in page]
        if page.next_cursor is None:
            break
        page = db.positions.get_position_history(account.id, limit=100, cursor=page.next_cursor)
    assert pages == 3 and seen == list(range(1, 251))


def test_a_cursor_also_resumes_a_complete_iteration(db: Database, account: Any) -> None:
    _history(db, account, 120)
    first = db.positions.get_position_history(account.id, limit=20)
    rest = db.positions.get_position_history(account.id, cursor=first.next_cursor)
    assert [c.quantity_after for c in first] + [c.quantity_after for c in rest] == list(range(1, 121))


def test_every_store_lists_past_one_page(db: Database) -> None:
    count = DEFAULT_LIMIT + 7
    for n in range(count):
        db.users.create_user(f"user_{n:04d}")
    db.instruments.create_instrument(instrument("SPY"))
    account = db.accounts.create_account("user_0000", "a")
    for n in range(count):
        db.jobs.create_job("user_0000", "portfolio_analysis")
        db.alerts.create_alert("user_0000", "SPY", {"operator": ">", "threshold": str(n + 1)})
    db.instruments.record_prices([("SPY", str(n + 1), START + timedelta(days=n)) for n in range(count)])
    now = time.time_ns() // 1_000_000
    db.ticks.record_ticks([{"symbol": "SPY", "price": "1", "timestamp": now - 2000 + n} for n in range(1500)])
    assert len(db.users.find_all()) == count
    assert len(db.jobs.find_by_user("user_0000")) == count
    assert len(db.jobs.find_by_status("pending")) == count
    assert len(db.alerts.find_by_user("user_0000")) == count
    assert len(db.alerts.find_by_symbol("SPY")) == count
    assert len(db.instruments.get_price_history("SPY")) == count
    assert len(db.ticks.window("SPY", now - 2000, now)) == 1500  # was cut at 1,000 with no cursor
    assert [a.id for a in db.accounts.find_by_user("user_0000")] == [account.id]


def test_a_cursor_of_another_list_is_refused(db: Database, account: Any) -> None:
    other = db.accounts.create_account("user_1", "Roth")
    for target in (account, other):
        for n in range(3):
            db.positions.record_trade(target.id, "SPY", "BUY", 1, at=START + timedelta(days=n))
    cursor = db.positions.get_position_history(account.id, limit=1).next_cursor
    assert cursor is not None
    with pytest.raises(ValidationError) as info:
        db.positions.get_position_history(other.id, limit=1, cursor=cursor)  # same kind of list, other account
    assert info.value.field == "cursor"
    with pytest.raises(ValidationError):
        db.positions.get_position_history(account.id, symbol="QQQ", limit=1, cursor=cursor)  # other arguments
    with pytest.raises(ValidationError):
        db.accounts.find_by_user("user_1", limit=1, cursor=cursor)  # another list altogether
    assert len(db.positions.get_position_history(account.id, limit=1, cursor=cursor)) == 1  # its own list


@pytest.mark.parametrize("forged", ["", "abc", "a.b", "!!.??", "x" * 5000, "e30.AAAAAAAAAAAAAAAAAAAAAA", 42])
def test_forged_or_garbled_cursors_are_validation_errors(db: Database, account: Any, forged: Any) -> None:
    with pytest.raises(ValidationError) as info:
        db.positions.get_position_history(account.id, limit=1, cursor=forged)
    assert info.value.field == "cursor"


def test_an_edited_cursor_is_refused(db: Database, account: Any) -> None:
    for n in range(3):
        db.positions.record_trade(account.id, "SPY", "BUY", 1, at=START + timedelta(days=n))
    cursor = db.positions.get_position_history(account.id, limit=1).next_cursor
    assert cursor is not None
    body, mac = cursor.split(".")
    edited = ("A" if body[0] != "A" else "B") + body[1:]
    with pytest.raises(ValidationError, match="not a cursor of this list"):
        db.positions.get_position_history(account.id, limit=1, cursor=f"{edited}.{mac}")


def test_iteration_reads_pages_only_as_it_goes() -> None:
    reads: list[Bookmark | None] = []

    def read(after: Bookmark | None, size: int) -> tuple[list[int], Bookmark | None]:
        reads.append(after)
        start = 0 if after is None else int(after)
        end = min(start + size, 1000)
        return list(range(start, end)), (end if end < 1000 else None)

    results = Results(read, scope("numbers"), Cursors(b"k"), page_size=10)
    numbers = iter(results)
    assert [next(numbers) for _ in range(15)] == list(range(15))
    assert reads == [None, 10]  # two pages read for fifteen items, not a hundred
    assert sum(1 for _ in numbers) == 985


def test_cursors_of_another_secret_are_refused() -> None:
    mine, theirs = Cursors(b"mine"), Cursors(b"theirs")
    cursor = theirs.encode(scope("users"), ["user_1"])
    with pytest.raises(ValidationError):
        mine.decode(scope("users"), cursor)
    assert mine.decode(scope("users"), mine.encode(scope("users"), ["user_1"])) == ["user_1"]


def test_a_complete_list_counted_first_is_read_once() -> None:
    reads: list[Bookmark | None] = []

    def read(after: Bookmark | None, size: int) -> tuple[list[int], Bookmark | None]:
        reads.append(after)
        start = 0 if after is None else int(after)
        end = min(start + size, 25)
        return list(range(start, end)), (end if end < 25 else None)

    results = Results(read, scope("numbers"), Cursors(b"k"), page_size=10)
    assert list(results) == list(range(25))  # list() asks len() first, then iterates
    assert len(results) == 25
    assert reads == [None, 10, 20]  # each page once
