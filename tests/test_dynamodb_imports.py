"""DynamoDB: an import too large for one transaction that is cut short leaves nothing a reader can see,
is finished by running it again, and is rolled back by the next writer once it is abandoned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from alexdb import BackendError, ConflictError, Database, NotFoundError
from alexdb.adapters.dynamodb.client import Dynamo
from alexdb.adapters.dynamodb.positions import DynamoPositionStore
from tests.conftest import dynamo_engine, instrument

pytestmark = pytest.mark.dynamodb
START = datetime(2024, 1, 1, tzinfo=UTC)
TRADES = [(("SPY", "QQQ")[n % 2], "BUY", 1, START + timedelta(minutes=n)) for n in range(250)]


@pytest.fixture
def crashed(dynamo_db: Database, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An account whose 250-trade import died after the claim and the first batch of history records."""
    db = dynamo_db
    db.users.create_user("u")
    for symbol in ("SPY", "QQQ"):
        db.instruments.create_instrument(instrument(symbol))
    account = db.accounts.create_account("u", "a")
    db.positions.record_trade(account.id, "SPY", "BUY", 5, at=START - timedelta(days=1))
    original, calls = Dynamo.batch_write, []

    def dies_after_one_batch(self: Dynamo, table: str, puts: Any = (), deletes: Any = ()) -> None:
        calls.append(len(puts))
        original(self, table, puts=list(puts)[:25], deletes=deletes)
        raise BackendError("process died mid-import")

    with monkeypatch.context() as patch:
        patch.setattr(Dynamo, "batch_write", dies_after_one_batch)
        with pytest.raises(BackendError):
            db.positions.record_trades(account.id, TRADES)
    assert calls == [250]
    return account


def _store(db: Database) -> DynamoPositionStore:
    store = dynamo_engine(db).positions
    assert isinstance(store, DynamoPositionStore)
    return store


def test_nothing_of_a_cut_short_import_is_visible(dynamo_db: Database, crashed: Any) -> None:
    db = dynamo_db
    assert dynamo_engine(db).counts()["position_history"] == 26  # 25 uncommitted records are stored...
    history = db.positions.get_position_history(crashed.id)
    assert [(c.symbol, c.quantity_after) for c in history] == [("SPY", Decimal(5))]  # ...and none is seen
    assert len(db.positions.get_position_history(crashed.id, symbol="SPY")) == 1
    assert {p.symbol: p.quantity for p in db.positions.find_by_account(crashed.id)} == {"SPY": 5}
    assert db.positions.get_positions_at(crashed.id, START + timedelta(days=1)) == {"SPY": 5}
    series = db.positions.get_value_series(crashed.id, START, START + timedelta(days=1))
    assert len(series) == 2


def test_running_the_import_again_finishes_it(dynamo_db: Database, crashed: Any) -> None:
    db = dynamo_db
    assert db.positions.record_trades(crashed.id, TRADES) == 250
    assert len(db.positions.get_position_history(crashed.id)) == 251
    assert {p.symbol: p.quantity for p in db.positions.find_by_account(crashed.id)} == {"SPY": 130, "QQQ": 125}
    assert dynamo_engine(db).counts()["position_history"] == 251  # the first batch was rewritten, not doubled


def test_a_trade_waits_for_an_import_and_rolls_back_an_abandoned_one(dynamo_db: Database, crashed: Any) -> None:
    db = dynamo_db
    store = _store(db)
    store.imports.wait_for = 0.3  # the import is still fresh (under five minutes old): wait, then give up
    with pytest.raises(ConflictError, match="an import holds it"):
        db.positions.record_trade(crashed.id, "SPY", "BUY", 1, at=START + timedelta(days=2))
    with pytest.raises(ConflictError, match="another import holds"):
        db.positions.record_trades(crashed.id, [("SPY", "BUY", 1, START + timedelta(days=2))])
    store.imports.stale_after = 0.0  # now abandoned: the next writer rolls it back
    change = db.positions.record_trade(crashed.id, "SPY", "BUY", 1, at=START + timedelta(days=2))
    assert change.quantity_after == 6 and change.seq == 2
    assert dynamo_engine(db).counts()["position_history"] == 2  # the import's records were deleted
    assert db.positions.record_trade(crashed.id, "QQQ", "BUY", 2).quantity_after == 2  # its placeholder too
    assert [c.quantity_after for c in db.positions.get_position_history(crashed.id)] == [5, 6, 2]


def test_a_large_import_may_open_many_new_holdings_at_once(dynamo_db: Database) -> None:
    """60 new symbols need 60 claims and 60 instrument checks: more than one transaction holds, so the
    instruments (never deleted) are read before the claim instead of checked inside it."""
    db = dynamo_db
    db.users.create_user("u")
    symbols = [f"N{n:02d}" for n in range(60)]
    for symbol in symbols:
        db.instruments.create_instrument(instrument(symbol))
    account = db.accounts.create_account("u", "a")
    trades = [(symbol, "BUY", 1, START + timedelta(minutes=n)) for n, symbol in enumerate(symbols * 2)]
    assert db.positions.record_trades(account.id, trades) == 120
    assert db.positions.get_positions_at(account.id, START + timedelta(days=1)) == dict.fromkeys(symbols, Decimal(2))
    with pytest.raises(NotFoundError):
        db.positions.record_trades(account.id, [(f"M{n:02d}", "BUY", 1, START + timedelta(days=2)) for n in range(60)])
