"""The bad-input catalogue: every case gets its typed error naming field and value, and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from alexdb import ConflictError, Database, InvalidTransitionError, NotFoundError, ValidationError
from tests.conftest import instrument

LONG = "x" * 256
Case = tuple[str, Callable[[Any, Any], Any], type[Exception], str | None]

CASES: list[Case] = [
    ("zero quantity", lambda db, a: db.positions.record_trade(a.id, "SPY", "BUY", 0), ValidationError, "quantity"),
    ("negative quantity", lambda db, a: db.positions.record_trade(a.id, "SPY", "BUY", -1), ValidationError, "quantity"),
    ("float quantity", lambda db, a: db.positions.record_trade(a.id, "SPY", "BUY", 0.1), ValidationError, "quantity"),
    ("9 decimal places", lambda db, a: db.positions.record_trade(a.id, "SPY", "BUY", "0.000000001"),
     ValidationError, "quantity"),
    ("not a number", lambda db, a: db.positions.record_trade(a.id, "SPY", "BUY", "ten"), ValidationError, "quantity"),
    ("NaN quantity", lambda db, a: db.positions.record_trade(a.id, "SPY", "BUY", Decimal("NaN")),
     ValidationError, "quantity"),
    ("unknown action", lambda db, a: db.positions.record_trade(a.id, "SPY", "GIFT", 1), ValidationError, "action"),
    ("unknown symbol", lambda db, a: db.positions.record_trade(a.id, "ZZZZ", "BUY", 1), NotFoundError, None),
    ("unknown account", lambda db, a: db.positions.record_trade("3b241101-e2bb-4255-8caf-4136c566a962", "SPY", "BUY", 1),
     NotFoundError, None),
    ("oversell", lambda db, a: db.positions.record_trade(a.id, "SPY", "SELL", 1), ValidationError, "quantity"),
    ("bad instant", lambda db, a: db.positions.record_trade(a.id, "SPY", "BUY", 1, at="yesterday"),
     ValidationError, "at"),
    ("SQL in symbol", lambda db, a: db.positions.record_trade(a.id, "SPY'; DROP TABLE positions;--", "BUY", 1),
     ValidationError, "symbol"),
    ("allocations not 100", lambda db, a: db.instruments.create_instrument(
        instrument("NEW", allocation_regions={"europe": 50})), ValidationError, "allocation_regions"),
    ("empty allocation", lambda db, a: db.instruments.create_instrument(
        instrument("NEW", allocation_sectors={})), ValidationError, "allocation_sectors"),
    ("unknown region", lambda db, a: db.instruments.create_instrument(
        instrument("NEW", allocation_regions={"atlantis": 100})), ValidationError, "allocation_regions.atlantis"),
    ("unknown instrument type", lambda db, a: db.instruments.create_instrument(
        instrument("NEW", instrument_type="crypto")), ValidationError, "instrument_type"),
    ("over-long symbol", lambda db, a: db.instruments.create_instrument(instrument("A" * 21)), ValidationError, "symbol"),
    ("over-long name", lambda db, a: db.instruments.create_instrument(instrument("NEW", name=LONG)),
     ValidationError, "name"),
    ("unknown field", lambda db, a: db.instruments.create_instrument(instrument("NEW", colour="red")),
     ValidationError, "colour"),
    ("negative price", lambda db, a: db.instruments.record_price("SPY", "-1"), ValidationError, "price"),
    ("price of unknown symbol", lambda db, a: db.instruments.record_price("ZZZZ", "1"), NotFoundError, None),
    ("duplicate instrument", lambda db, a: db.instruments.create_instrument(instrument("SPY")), ConflictError, None),
    ("duplicate user", lambda db, a: db.users.create_user("user_1"), ConflictError, None),
    ("over-long user id", lambda db, a: db.users.create_user(LONG), ValidationError, "clerk_user_id"),
    ("delimiter in user id", lambda db, a: db.users.create_user("user#1"), ValidationError, "clerk_user_id"),
    ("retirement in 101 years", lambda db, a: db.users.create_user("u2", years_until_retirement=101),
     ValidationError, "years_until_retirement"),
    ("negative income", lambda db, a: db.users.create_user("u2", target_retirement_income=-1),
     ValidationError, "target_retirement_income"),
    ("unknown asset class", lambda db, a: db.users.create_user("u2", asset_class_targets={"crypto": 100}),
     ValidationError, "asset_class_targets.crypto"),
    ("negative cash", lambda db, a: db.accounts.create_account("user_1", "x", cash_balance="-0.01"),
     ValidationError, "cash_balance"),
    ("3 decimal cash", lambda db, a: db.accounts.create_account("user_1", "x", cash_balance="0.001"),
     ValidationError, "cash_balance"),
    ("interest above 1", lambda db, a: db.accounts.create_account("user_1", "x", cash_interest="1.01"),
     ValidationError, "cash_interest"),
    ("unknown account type", lambda db, a: db.accounts.create_account("user_1", "x", account_type="offshore"),
     ValidationError, "account_type"),
    ("over-long account name", lambda db, a: db.accounts.create_account("user_1", LONG), ValidationError,
     "account_name"),
    ("empty account name", lambda db, a: db.accounts.create_account("user_1", ""), ValidationError, "account_name"),
    ("account for unknown user", lambda db, a: db.accounts.create_account("nobody", "x"), NotFoundError, None),
    ("unknown job type", lambda db, a: db.jobs.create_job("user_1", "astrology"), ValidationError, "job_type"),
    ("job payload not an object", lambda db, a: db.jobs.create_job("user_1", "risk_assessment", "text"),
     ValidationError, "request_payload"),
    ("job for unknown user", lambda db, a: db.jobs.create_job("nobody", "risk_assessment"), NotFoundError, None),
    ("unknown job status", lambda db, a: db.jobs.update_status(
        db.jobs.find_by_status("pending")[0].id, "done"), ValidationError, "status"),
    ("job skips running", lambda db, a: db.jobs.update_status(
        db.jobs.find_by_status("pending")[0].id, "completed"), InvalidTransitionError, None),
    ("bad page size", lambda db, a: db.users.find_all(limit=0), ValidationError, "limit"),
    ("forged cursor", lambda db, a: db.users.find_all(cursor="not-a-cursor"), ValidationError, "cursor"),
]


@pytest.fixture
def seeded(db: Database) -> Any:
    db.users.create_user("user_1")
    db.instruments.create_instrument(instrument("SPY", "10"))
    account = db.accounts.create_account("user_1", "401(k)")
    db.jobs.create_job("user_1", "portfolio_analysis")
    return account


def _snapshot(db: Any, account: Any) -> Any:
    return (db.counts(), db.jobs.find_by_status("pending").items, db.instruments.find_all().items,
            db.users.find_all().items, db.accounts.find_by_user("user_1").items)


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_bad_input_is_refused_and_writes_nothing(db: Database, seeded: Any, case: Case) -> None:
    _, call, error, field = case
    before = _snapshot(db, seeded)
    with pytest.raises(error) as info:
        call(db, seeded)
    if field is not None:
        assert isinstance(info.value, ValidationError)
        assert info.value.field == field
        assert str(field) in str(info.value)
    assert _snapshot(db, seeded) == before
