"""The SQL backend: one engine, one unit of work, and the primitives of every store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, func, select

from alexdb.adapters.sql import migrate
from alexdb.adapters.sql.accounts import SqlAccounts
from alexdb.adapters.sql.chat import SqlChat
from alexdb.adapters.sql.checkpoints import SqlCheckpoints
from alexdb.adapters.sql.cursors import SqlCursors
from alexdb.adapters.sql.engine import UnitOfWork, is_memory, make_engine, normalise_url, translated_errors
from alexdb.adapters.sql.instruments import SqlInstruments
from alexdb.adapters.sql.jobs import SqlJobs
from alexdb.adapters.sql.ledger import SqlCash, SqlSplits
from alexdb.adapters.sql.memories import SqlMemories
from alexdb.adapters.sql.positions import SqlPositionStore
from alexdb.adapters.sql.raw import read_rows
from alexdb.adapters.sql.schema import ALL_TABLES
from alexdb.adapters.sql.speed import SqlAlerts, SqlNotifications, SqlTicks
from alexdb.adapters.sql.users import SqlUsers
from alexdb.domain.errors import SchemaError


class SqlBackend:
    """SQLite or PostgreSQL under alexdb: the stores' primitives and the schema's administration."""

    def __init__(self, url: str, migrate_schema: bool | None = None) -> None:
        self.url = normalise_url(url)
        self._engine = make_engine(self.url)
        self.backend = self._engine.dialect.name
        self._uow = UnitOfWork(self._engine)
        # A new SQLite file (or memory) is migrated on open; PostgreSQL only when asked.
        wanted = migrate_schema if migrate_schema is not None else self.backend == "sqlite"
        with translated_errors():
            if wanted and migrate.current_revision(self._engine) != migrate.head_revision():
                migrate.upgrade(self._engine)
        self.users = SqlUsers(self._uow)
        self.instruments = SqlInstruments(self._uow)
        self.accounts = SqlAccounts(self._uow)
        self.jobs = SqlJobs(self._uow)
        self.positions = SqlPositionStore(self._uow)
        self.cash = SqlCash(self._uow)
        self.splits = SqlSplits(self._uow)
        self.chat = SqlChat(self._uow)
        self.checkpoints = SqlCheckpoints(self._uow)
        self.memories = SqlMemories(self._uow)
        self.alerts = SqlAlerts(self._uow)
        self.ticks = SqlTicks(self._uow)
        self.cursors = SqlCursors(self._uow)
        self.notifications = SqlNotifications(self._uow)

    @property
    def sqlalchemy_engine(self) -> Engine:
        """The SQLAlchemy engine (for tools that read the tables directly, such as the benchmarks)."""
        return self._engine

    @property
    def memory(self) -> bool:
        """True for an in-memory SQLite database, which vanishes on close."""
        return is_memory(self.url)

    def schema_version(self) -> str | None:
        """The migration the database is at (None when it has no schema)."""
        with translated_errors():
            return migrate.current_revision(self._engine)

    def check_schema(self) -> None:
        """SchemaError unless the schema is at this package's newest migration."""
        current, head = self.schema_version(), migrate.head_revision()
        if current != head:
            raise SchemaError(f"schema is at {current or 'nothing'}, this alexdb needs {head}: run `alexdb migrate`")

    def migrate(self) -> str:
        """Bring the schema up to date; returns the version reached."""
        with translated_errors():
            migrate.upgrade(self._engine)
        return migrate.head_revision()

    def drop_all(self) -> None:
        """Remove every table, migration record included (for reset)."""
        with translated_errors():
            migrate.downgrade(self._engine, "base")

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        with self._uow.begin() as conn:
            return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in ALL_TABLES}

    def read_sql(self, statement: str, values: Mapping[str, Any],
                 casts: Mapping[str, str]) -> tuple[list[str], list[dict[str, Any]]]:
        """Column names and rows of a raw statement run read-only (alexdb.compat's raw SQL)."""
        return read_rows(self._uow, statement, values, casts)

    def close(self) -> None:
        """Release every connection."""
        self._uow.dispose()

    def __repr__(self) -> str:
        return f"<alexdb {self.backend} {self._engine.url.render_as_string(hide_password=True)}>"
