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
