"""The DynamoDB port's calls (gpazevedo/alex, backend/database_dynamo: its seed and verify scripts and its
position and time-travel tests), replayed on alexdb.compat on every backend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from alexdb import Database as Store
from alexdb import NotFoundError
from alexdb.compat import Database, InstrumentCreate
from tests.conftest import present


@pytest.fixture
def port(db: Store) -> Iterator[Database]:
    """The compat Database with SPY and BND seeded as the port's seed script does, and a verified user."""
    alex = Database(store=db)
    for symbol, price in (("SPY", Decimal("450.25")), ("BND", Decimal("72.10"))):
        alex.instruments.create_instrument(InstrumentCreate(
            symbol=symbol, name=f"{symbol} ETF", instrument_type="etf", current_price=price,
            allocation_regions={"north_america": 100}, allocation_sectors={"diversified": 100},
            allocation_asset_class={"equity": 100}))
        alex.instruments.update_price(symbol, price)  # the seed script records the first price again
    alex.users.create_user(clerk_user_id="test_verify", display_name="Verification Test User")
    yield alex


def test_seed_and_verify_scripts(port: Database) -> None:
    assert len(port.instruments.find_all()) == 2
    spy = present(port.instruments.find_by_symbol("SPY"))
    assert f"${spy['current_price']}" == "$450.25"
    assert present(port.users.find_by_clerk_id("test_verify"))["display_name"] == "Verification Test User"
    account_id = port.accounts.create_account(clerk_user_id="test_verify", account_name="Test Account",
                                              cash_balance=Decimal("1000"))
    port.positions.add_or_update_position(account_id, "SPY", Decimal("10"), action="BUY")
    positions = port.positions.find_by_account(account_id)
    assert len(positions) == 1 and positions[0]["symbol"] == "SPY"
    assert len(port.positions.get_position_history(account_id, "SPY")) >= 1


def test_position_history_tracking(port: Database) -> None:
    account_id = port.accounts.create_account("test_verify", "History")
    for quantity, action in (("50", "BUY"), ("75", "BUY"), ("50", "SELL")):
        port.positions.add_or_update_position(account_id, "SPY", Decimal(quantity), action=action)
    current = port.positions.find_by_account(account_id)
    assert len(current) == 1 and current[0]["quantity"] == Decimal("50") and current[0]["symbol"] == "SPY"
    history = port.positions.get_position_history(account_id, "SPY")
    assert [h.get("action") for h in history] == ["BUY", "BUY", "SELL"]
    assert [h["quantity"] for h in history] == [Decimal("50"), Decimal("75"), Decimal("50")]
    assert json.loads(json.dumps(history))[0]["quantity"] == "50"


def test_positions_at_a_past_instant(port: Database) -> None:
    account_id = port.accounts.create_account("test_verify", "Time travel")
    port.positions.add_or_update_position(account_id, "SPY", Decimal("100"), action="BUY")
    between = datetime.now(UTC).replace(tzinfo=None)  # the port's callers pass naive UTC (datetime.utcnow())
    port.positions.add_or_update_position(account_id, "BND", Decimal("40"), action="BUY")
    port.positions.add_or_update_position(account_id, "SPY", Decimal("60"), action="SELL")
    then = port.positions.get_positions_at_date(account_id, between)
    assert [(p["symbol"], p["quantity"], p["action"]) for p in then] == [("SPY", Decimal("100"), "BUY")]
    now = port.positions.get_positions_at_date(account_id, datetime.now(UTC) + timedelta(seconds=5))
    assert {p["symbol"]: p["quantity"] for p in now} == {"BND": Decimal("40"), "SPY": Decimal("60")}


def test_portfolio_value_at_an_instant(port: Database) -> None:
    account_id = port.accounts.create_account("test_verify", "Value")
    port.positions.add_or_update_position(account_id, "SPY", Decimal("10"), action="BUY")
    value = port.positions.get_account_value_at_date(account_id, datetime.now(UTC).replace(tzinfo=None))
    assert value["num_positions"] == 1 and value["total_value"] == 4502.5 and value["total_shares"] == 10.0
    assert port.positions.get_portfolio_value(account_id)["total_value"] == 4502.5


def test_current_pointer_after_many_updates(port: Database) -> None:
    account_id = port.accounts.create_account("test_verify", "Many")
    for i in range(10):
        port.positions.add_or_update_position(account_id, "SPY", Decimal(str(50 + i * 10)), action="UPDATE")
    current = port.positions.find_by_account(account_id)
    assert len(current) == 1 and current[0]["quantity"] == Decimal("140")


def test_price_history_and_batch_reads(port: Database) -> None:
    start = datetime.now(UTC) - timedelta(minutes=1)
    port.instruments.update_price("SPY", Decimal("451.00"))
    history = port.instruments.get_price_history("SPY", start, datetime.now(UTC))
    assert [h["price"] for h in history][-1] == Decimal("451.00")
    assert present(port.instruments.get_price_at_date("SPY", datetime.now(UTC)))["price"] == Decimal("451")
    assert port.instruments.get_price_at_date("SPY", start - timedelta(days=1)) is None
    assert sorted(port.instruments.batch_get_by_symbols(["SPY", "BND", "NOPE"])) == ["BND", "SPY"]
    port.instruments.update_price("BND", 0)  # 0 is no price: nothing recorded
    assert present(port.instruments.find_by_symbol("BND"))["current_price"] == Decimal("72.1")


def test_positions_of_an_account_that_does_not_exist_are_refused(port: Database) -> None:
    # The port's own tests write positions under made-up account ids; alexdb keeps no holding that no
    # user owns (it could never be read through a user, nor deleted with one).
    with pytest.raises(NotFoundError):
        port.positions.add_or_update_position("6f1c2a3e-0000-4000-8000-000000000000", "SPY", Decimal("1"))
    assert port.positions.find_by_account("6f1c2a3e-0000-4000-8000-000000000000") == []
