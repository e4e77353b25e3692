"""Property: hostile values given to the public Python calls raise only alexdb's own errors, never hang, and
what is accepted reads back equal (every backend)."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alexdb import AlexdbError, Database
from tests.conftest import instrument
from tests.hostile import nested

HANG_S = 10  # a watchdog for hangs, far above any call's normal time: not a performance bound


HOSTILE: list[Any] = [
    float("nan"), float("inf"), float("-inf"), Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"),
    Decimal("-Infinity"), Decimal("-0"), Decimal("1e400000"), Decimal("1e-400000"), Decimal("9e999999999"),
    10**4000, -(10**40), 2**63, -1, 0, True, None, "", "\x00", "a\x00b", "\ud800", "\udfff", "x" * 10_000_000,
    "1" * 5_000, "1e400000", " 1 ", [], {}, nested(50_000), [nested(10_000)], b"bytes", object(),
    datetime.min, datetime.max, datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5))),
    datetime(1, 1, 1, 0, 1, tzinfo=timezone(timedelta(hours=5))), datetime(2024, 1, 1),
    1_700_000_000, 1_700_000_000_000, 1_700_000_000_000_000,
]
values = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30), st.integers(), st.decimals(),
                   st.floats(), st.datetimes(timezones=st.one_of(st.none(), st.timezones())))


@contextmanager
def watchdog() -> Iterator[None]:
    """Fail (instead of hanging the suite) if a call takes longer than HANG_S."""
    def hung(*_: Any) -> None:
        raise AssertionError(f"a call took more than {HANG_S} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(HANG_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


CALLS: dict[str, Callable[[Database, Any, Any], Any]] = {
    "trade quantity": lambda db, a, v: db.positions.record_trade(a.id, "SPY", "BUY", v, at="2024-01-02"),
    "trade instant": lambda db, a, v: db.positions.record_trade(a.id, "SPY", "BUY", 1, at=v),
    "trade price": lambda db, a, v: db.positions.record_trade(a.id, "SPY", "BUY", 1, at="2024-01-02", price=v),
    "price": lambda db, a, v: db.instruments.record_price("SPY", v, "2024-01-02"),
    "price instant": lambda db, a, v: db.instruments.record_price("SPY", "1", v),
    "display name": lambda db, a, v: db.users.update_user("user_1", display_name=v),
    "cash balance": lambda db, a, v: db.accounts.update_account(a.id, cash_balance=v),
    "account name": lambda db, a, v: db.accounts.create_account("user_1", v),
    "threshold": lambda db, a, v: db.alerts.create_alert("user_1", "SPY", {"operator": ">", "threshold": v}),
    "cooldown": lambda db, a, v: db.alerts.create_alert("user_1", "SPY", {"operator": ">", "threshold": "1"},
                                                       cooldown_seconds=v),
    "tick timestamp": lambda db, a, v: db.ticks.record_ticks([{"symbol": "SPY", "price": "1", "timestamp": v}]),
    "tick source": lambda db, a, v: db.ticks.record_ticks([{"symbol": "SPY", "price": "1",
                                                            "timestamp": 1_700_000_000_000, "source": v}]),
    "job payload": lambda db, a, v: db.jobs.create_job("user_1", "risk_assessment", {"v": v}),
    "chat content": lambda db, a, v: db.chat.add_message(a.chat, "user", v, user_id="user_1"),
    "chat tokens": lambda db, a, v: db.chat.add_message(a.chat, "user", "hi", tokens=v, user_id="user_1"),
    "history start": lambda db, a, v: db.positions.get_position_history(a.id, start=v).items,
    "list cursor": lambda db, a, v: db.users.find_all(limit=1, cursor=v).items,
    "list limit": lambda db, a, v: db.users.find_all(limit=v).items,
    "user id": lambda db, a, v: db.accounts.find_by_user(v).items,
}


class Setup:
    """The account a call works on, and a chat session."""

    def __init__(self, db: Database) -> None:
        db.users.create_user("user_1")
        db.instruments.create_instrument(instrument("SPY", "10"))
        account = db.accounts.create_account("user_1", "a")
        self.id = account.id
        self.chat = db.chat.create_session("user_1").id


@pytest.mark.parametrize("call", list(CALLS))
def test_hostile_values_raise_only_alexdb_errors_and_never_hang(db: Database, call: str) -> None:
    setup = Setup(db)

    @given(value=values)
    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    def property_holds(value: Any) -> None:
        with watchdog(), suppress(AlexdbError):  # anything else fails the property
            CALLS[call](db, setup, value)

    property_holds()


def test_what_is_accepted_reads_back_equal(db: Database) -> None:
    Setup(db)
    accepted: tuple[Decimal | str | int, ...] = (Decimal("0.00000001"), Decimal("9999999999999999.99999999"), "12.5", 7)
    for number, value in enumerate(accepted):
        account = db.accounts.create_account("user_1", f"account {number}")
        change = db.positions.record_trade(account.id, "SPY", "BUY", value, at=datetime.now(UTC))
        assert db.positions.find_by_account(account.id)[0].quantity == change.quantity_after == Decimal(value)
    for text in ("naïve - ünïcödé ✓", "\U0001f600 emoji", "line\nbreak\ttab"):
        assert db.users.update_user("user_1", display_name=text).display_name == text
        assert db.users.get_user("user_1").display_name == text
