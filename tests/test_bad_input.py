"""The bad-input catalogue: every case gets its typed error naming field and value, and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from alexdb import ConflictError, Database, InvalidTransitionError, NotFoundError, ValidationError
from tests.conftest import instrument
from tests.hostile import nested

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
    ("job back to pending", lambda db, a: db.jobs.update_status(
        db.jobs.find_by_status("pending")[0].id, "pending"), InvalidTransitionError, None),
    ("price at the first instant", lambda db, a: db.instruments.record_price("SPY", "1", "0001-01-01T00:00:00"),
     ValidationError, "at"),
    ("bad page size", lambda db, a: db.users.find_all(limit=0), ValidationError, "limit"),
    ("forged cursor", lambda db, a: db.users.find_all(cursor="not-a-cursor"), ValidationError, "cursor"),
    # Work before bounds: sizes are checked before any conversion (1e400000 as an int takes seconds).
    ("huge exponent quantity", lambda db, a: db.positions.record_trade(a.id, "SPY", "BUY", Decimal("1e400000")),
     ValidationError, "quantity"),
    ("huge exponent as text", lambda db, a: db.positions.record_trade(a.id, "SPY", "BUY", "1e400000"),
     ValidationError, "quantity"),
    ("10 MB number", lambda db, a: db.positions.record_trade(a.id, "SPY", "BUY", "1" * 10_000_000),
     ValidationError, "quantity"),
    ("tiny exponent price", lambda db, a: db.instruments.record_price("SPY", Decimal("1e-400000")),
     ValidationError, "price"),
    ("huge cooldown", lambda db, a: db.alerts.create_alert("user_1", "SPY", {"operator": ">", "threshold": "1"},
                                                           cooldown_seconds=Decimal("1e400000")),
     ValidationError, "cooldown_seconds"),
    ("huge indicator period", lambda db, a: db.alerts.create_alert(
        "user_1", "SPY", {"operator": "crosses_above", "indicator": {"kind": "sma", "period": Decimal("9e999999")}}),
     ValidationError, "condition.indicator.period"),
    ("payload int of 5,000 digits", lambda db, a: db.jobs.create_job("user_1", "risk_assessment", {"x": 10**5000}),
     ValidationError, "request_payload.x"),
    ("payload number 1e400000", lambda db, a: db.jobs.create_job("user_1", "risk_assessment",
                                                                 {"x": [Decimal("1e400000")]}),
     ValidationError, "request_payload.x[0]"),
    ("payload nested 100,000 deep", lambda db, a: db.jobs.create_job("user_1", "risk_assessment", nested(100_000)),
     ValidationError, None),
    ("payload NUL", lambda db, a: db.jobs.create_job("user_1", "risk_assessment", {"note": "a\x00b"}),
     ValidationError, "request_payload.note"),
    ("NUL in an account name", lambda db, a: db.accounts.create_account("user_1", "a\x00b"),
     ValidationError, "account_name"),
    ("lone surrogate in a display name", lambda db, a: db.users.create_user("u2", "\udc00"),
     ValidationError, "display_name"),
    ("NUL in a user id", lambda db, a: db.users.create_user("a\x00b"), ValidationError, "clerk_user_id"),
    ("instant past the last UTC year", lambda db, a: db.positions.record_trade(
        a.id, "SPY", "BUY", 1, at="9999-12-31T23:00:00-05:00"), ValidationError, "at"),
    ("NUL in a listed user id", lambda db, a: db.alerts.find_by_user("a\x00b").items, ValidationError, "user_id"),
    ("space in a listed user id", lambda db, a: db.accounts.find_by_user("a b").items, ValidationError,
     "clerk_user_id"),
    ("error message that is a list", lambda db, a: db.jobs.update_status(
        db.jobs.find_by_status("pending")[0].id, "failed", ["x"]), ValidationError, "error_message"),
    ("payload lone surrogate", lambda db, a: db.jobs.create_job("user_1", "risk_assessment", {"note": "\ud800"}),
     ValidationError, "request_payload.note"),
    ("zero deposit", lambda db, a: db.cash.deposit(a.id, "0"), ValidationError, "amount"),
    ("negative deposit", lambda db, a: db.cash.deposit(a.id, "-5"), ValidationError, "amount"),
    ("deposit of a tenth of a cent", lambda db, a: db.cash.deposit(a.id, "1.001"), ValidationError, "amount"),
    ("float deposit", lambda db, a: db.cash.deposit(a.id, 1.5), ValidationError, "amount"),
    ("deposit past 16 digits", lambda db, a: db.cash.deposit(a.id, "1e17"), ValidationError, "amount"),
    ("unknown cash kind", lambda db, a: db.cash.record(a.id, "BONUS", "5"), ValidationError, "kind"),
    ("zero adjustment", lambda db, a: db.cash.record(a.id, "ADJUSTMENT", "0"), ValidationError, "amount"),
    ("deposit naming a symbol", lambda db, a: db.cash.record(a.id, "DEPOSIT", "5", symbol="SPY"),
     ValidationError, "symbol"),
    ("dividend of an unknown symbol", lambda db, a: db.cash.record(a.id, "DIVIDEND", "5", symbol="ZZZZ"),
     NotFoundError, None),
    ("withdrawal with no account", lambda db, a: db.cash.withdraw("3b241101-e2bb-4255-8caf-4136c566a962", "5"),
     NotFoundError, None),
    ("NUL in a cash note", lambda db, a: db.cash.deposit(a.id, "5", note="a\x00b"), ValidationError, "note"),
    ("fee on a trade without a price", lambda db, a: db.positions.record_trade(a.id, "SPY", "BUY", 1, fee="1"),
     ValidationError, "fee"),
    ("fee on a transfer", lambda db, a: db.positions.record_trade(a.id, "SPY", "TRANSFER_IN", 1, price="1", fee="1"),
     ValidationError, "fee"),
    ("negative fee", lambda db, a: db.positions.record_trade(a.id, "SPY", "BUY", 1, price="1", fee="-1"),
     ValidationError, "fee"),
    ("fee of a tenth of a cent in an import", lambda db, a: db.positions.record_trades(
        a.id, [("SPY", "BUY", 1, "2024-01-01", "1", "0.001")]), ValidationError, "trades[0].fee"),
    ("trade cash past 16 digits", lambda db, a: db.positions.record_trade(a.id, "SPY", "BUY", "1e15", price="10000"),
     ValidationError, "price"),
    ("split of 0", lambda db, a: db.instruments.record_split("SPY", 0, 1, "2024-01-01"), ValidationError, "numerator"),
    ("negative split", lambda db, a: db.instruments.record_split("SPY", -2, 1, "2024-01-01"),
     ValidationError, "numerator"),
    ("split over 0", lambda db, a: db.instruments.record_split("SPY", 2, 0, "2024-01-01"),
     ValidationError, "denominator"),
    ("split of 1 for 1", lambda db, a: db.instruments.record_split("SPY", 3, 3, "2024-01-01"),
     ValidationError, "numerator"),
    ("split of an unknown symbol", lambda db, a: db.instruments.record_split("ZZZZ", 2, 1, "2024-01-01"),
     NotFoundError, None),
    ("unknown booking method", lambda db, a: db.positions.get_lots(a.id, method="lofi"), ValidationError, "method"),
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


def test_a_huge_token_count_is_refused_before_anything_is_written(db: Database) -> None:
    session = db.chat.create_session("user_1")
    with pytest.raises(ValidationError) as info:
        db.chat.add_message(session.id, "user", "hi", tokens=10**20, user_id="user_1")  # OverflowError on SQLite
    assert info.value.field == "tokens"
    assert db.chat.get_session(session.id, user_id="user_1").message_count == 0


def test_a_holding_the_model_could_not_read_back_is_refused_before_the_write(db: Database, seeded: Any) -> None:
    most = Decimal("9999999999999999.99999999")  # the largest holding the model allows
    db.positions.record_trade(seeded.id, "SPY", "BUY", most)
    with pytest.raises(ValidationError) as info:
        db.positions.record_trade(seeded.id, "SPY", "BUY", most)
    assert info.value.field == "quantity" and "holding" in info.value.reason
    with pytest.raises(ValidationError):
        db.positions.record_trades(seeded.id, [("SPY", "BUY", "0.00000001", "2030-01-01")])
    assert [p.quantity for p in db.positions.find_by_account(seeded.id)] == [most]  # still reads back
    assert [c.quantity_after for c in db.positions.get_position_history(seeded.id)] == [most]


def test_the_largest_holding_at_the_largest_price_is_valued_exactly(db: Database, seeded: Any) -> None:
    most, dearest = Decimal("9999999999999999.99999999"), Decimal("999999999999.99999999")
    db.instruments.record_price("SPY", dearest, "2024-01-01T00:00:00Z")
    db.positions.record_trade(seeded.id, "SPY", "BUY", most, at="2024-01-02T00:00:00Z")
    exact = Decimal("9999999999999999999899990000.0000000000000001")  # 44 digits: the default context keeps 28
    assert db.positions.get_account_value_at_date(seeded.id, "2024-01-03").holdings_value == exact
    series = db.positions.get_value_series(seeded.id, "2024-01-03T00:00:00Z", "2024-01-04T00:00:00Z")
    assert {point.holdings_value for point in series} == {exact}
