"""The Alembic migrations build exactly the schema the code declares, and run both ways."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

import alexdb
from alexdb.adapters.sql import migrate
from alexdb.adapters.sql.backend import SqlBackend
from alexdb.adapters.sql.schema import metadata
from tests.conftest import prepare


def test_migrated_schema_matches_the_declared_one(sql_url: str) -> None:
    db = alexdb.connect(sql_url)
    backend = db.engine
    assert isinstance(backend, SqlBackend)
    with backend.sqlalchemy_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
    assert db.schema_version() == migrate.head_revision()
    db.close()


def test_downgrade_and_upgrade_round_trip(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    db = alexdb.connect(url)
    db.users.create_user("u")
    db.drop_all()
    assert db.schema_version() is None
    engine = create_engine(url)
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()
    db.close()
    assert alexdb.connect(url).users.find_by_clerk_id("u") is None


def test_postgresql_is_not_migrated_behind_the_users_back(pg_url: str) -> None:
    db = alexdb.connect(pg_url)
    db.check_schema()
    db.close()


def test_a_pooled_connection_idle_a_while_is_checked_and_replaced_when_dead(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    import alexdb
    from alexdb.adapters.sql import engine

    db = alexdb.connect(pg_url)
    db.users.create_user("before")
    monkeypatch.setattr(engine, "IDLE_PING_S", 0.0)  # every pooled connection counts as idle
    with psycopg.connect(pg_url, autocommit=True) as admin:  # the server drops every other connection
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    assert db.users.get_user("before").clerk_user_id == "before"  # the dead one was replaced, not used
    db.close()


@pytest.mark.parametrize("backend", ["sqlite_file", "postgresql"])  # a database that outlives a connection
def test_the_ledger_migration_keeps_cash_and_costs_what_was_recorded(backend: str, request: pytest.FixtureRequest,
                                                                    tmp_path: Path) -> None:
    """0003 -> 0004 on a database with data: cash_balance becomes the opening ADJUSTMENT (dated at the
    account's creation), average costs are replayed from recorded prices, old trades move no cash."""
    import uuid
    from datetime import UTC, datetime
    from decimal import Decimal

    from alexdb.adapters.sql import schema

    sql_url = prepare(request, backend, tmp_path)
    engine = create_engine(sql_url)
    migrate.downgrade(engine, "base")
    migrate.upgrade(engine, "0003")
    created, account_id = datetime(2023, 1, 1, tzinfo=UTC), uuid.uuid4()
    # The declared tables write only the columns given, all of which 0003 has.
    t = {table.name: table for table in schema.ALL_TABLES}
    with engine.begin() as conn:
        conn.execute(t["users"].insert().values(clerk_user_id="old", asset_class_targets={}, region_targets={},
                                                created_at=created, updated_at=created))
        conn.execute(t["instruments"].insert().values(
            symbol="SPY", name="S", instrument_type="etf", allocation_regions={"global": 100},
            allocation_sectors={"other": 100}, allocation_asset_class={"equity": 100}, created_at=created,
            updated_at=created))
        conn.execute(t["accounts"].insert().values(id=account_id, clerk_user_id="old", account_name="a",
                                                   cash_balance=Decimal("250.00"), cash_interest=0,
                                                   created_at=created, updated_at=created))
        for n, (delta, after, price) in enumerate([(3, 3, "10"), (3, 6, "20"), (-2, 4, "30")]):
            at = datetime(2023, 2, 1 + n, tzinfo=UTC)
            conn.execute(t["position_history"].insert().values(
                account_id=account_id, symbol="SPY", action="BUY" if delta > 0 else "SELL", delta=delta,
                quantity_after=after, price=Decimal(price), at=at))
        conn.execute(t["positions"].insert().values(account_id=account_id, symbol="SPY", quantity=4, version=3,
                                                    last_change_at=at, updated_at=at))
    migrate.upgrade(engine)
    engine.dispose()
    db = alexdb.connect(sql_url)
    assert [(m.kind, m.amount, m.at) for m in db.cash.movements(account_id)] == [
        ("ADJUSTMENT", Decimal("250.00"), created)]
    assert db.accounts.get_account(account_id).cash_balance == Decimal("250.00")
    assert db.cash.balance_at(account_id, datetime(2022, 12, 31, tzinfo=UTC)) == 0
    assert [c.cost_after for c in db.positions.get_position_history(account_id)] == [
        Decimal("30"), Decimal("90"), Decimal("60.00")]
    held = db.positions.get_account_value_at_date(account_id, datetime(2023, 3, 1, tzinfo=UTC))
    assert held.cash == Decimal("250.00") and held.unpriced[0].cost_basis == Decimal("60.00")
    db.positions.record_trade(account_id, "SPY", "SELL", 1, price="40")  # the migrated holding trades on
    assert db.accounts.get_account(account_id).cash_balance == Decimal("290.00")
    db.close()


@pytest.mark.parametrize("backend", ["sqlite_file", "postgresql"])
def test_the_speed_migration_keeps_alerts_and_history_and_marks_alerts_checked(
        backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """0004 -> 0005 with data: existing alerts count as checked on arrival (they do not fire again for it),
    existing notifications are settled (nothing due for a retry), and nothing is lost."""
    import uuid
    from datetime import UTC, datetime
    from decimal import Decimal

    from alexdb.adapters.sql import schema

    sql_url = prepare(request, backend, tmp_path)
    engine = create_engine(sql_url)
    migrate.downgrade(engine, "base")
    migrate.upgrade(engine, "0004")
    at, alert_id = datetime(2024, 5, 1, tzinfo=UTC), uuid.uuid4()
    t = {table.name: table for table in schema.ALL_TABLES}
    with engine.begin() as conn:
        conn.execute(t["alert_configurations"].insert().values(
            alert_id=alert_id, user_id="old", symbol="SPY", condition_type="price",
            condition={"operator": ">", "threshold": "1", "price_type": "close"}, notification_method="websocket",
            enabled=True, cooldown_seconds=0, created_at=at, updated_at=at, last_triggered=at, trigger_count=1))
        conn.execute(t["alert_notifications_history"].insert().values(
            notification_id=uuid.uuid4(), user_id="old", alert_id=alert_id, symbol="SPY", triggered_at=at,
            current_price=Decimal("2"), threshold=Decimal("1"), notification_method="websocket",
            delivery_status="sent", message_id="m-1"))
    migrate.upgrade(engine)
    engine.dispose()
    db = alexdb.connect(sql_url)
    alert = db.alerts.get_alert(alert_id)
    assert (alert.armed_at, alert.trigger_count) == (at, 1)
    [note] = db.notifications.find_by_user("old")
    assert (note.delivery_status, note.message_id, note.attempts, note.next_attempt_at) == ("sent", "m-1", 0, None)
    assert db.notifications.due(datetime(2100, 1, 1, tzinfo=UTC)) == []
    db.close()
