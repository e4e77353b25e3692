"""Engine creation and the unit of work: one transaction per public call, rolled back unless it completes."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import psycopg
import sqlalchemy.exc
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import PoolProxiedConnection, StaticPool

from alexdb.adapters.sql.data_api import DRIVER, data_api_engine, is_data_api, sql_state
from alexdb.adapters.sql.types import json_dumps, json_loads
from alexdb.domain.errors import AlexdbError, BackendError, ConflictError, SchemaError, ValidationError

WRITE = "alexdb_write"
IDLE_PING_S = 10.0


def normalise_url(url: str) -> str:
    """Route postgresql:// to psycopg 3 and leave sqlite and aurora-data-api URLs as they are."""
    if is_data_api(url):
        return url
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise ValidationError("url", url, "expected a sqlite:// or postgresql:// URL")
    return parsed.render_as_string(hide_password=False)


def is_memory(url: str) -> bool:
    """True for an in-memory SQLite URL."""
    if is_data_api(url):
        return False
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def make_engine(url: str) -> Engine:
    """An engine with exact JSON numbers, and on SQLite: WAL, foreign keys and serialised writers."""
    url = normalise_url(url)
    options: dict[str, Any] = {"json_serializer": json_dumps, "json_deserializer": json_loads}
    if is_data_api(url):
        return data_api_engine(url, options)
    if make_url(url).get_backend_name() != "sqlite":
        engine = create_engine(url, **options)
        _ping_when_idle(engine)
        return engine
    if is_memory(url):
        options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        options.update(connect_args={"timeout": 60})
    engine = create_engine(url, **options)
    _configure_sqlite(engine, memory=is_memory(url))
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it has been idle a while.

    pool_pre_ping would spend a round trip on every transaction (on a one-statement read, a third of its
    time). A connection used in the last IDLE_PING_S seconds is taken as alive; if the server went away
    meanwhile, that one call fails with a BackendError and SQLAlchemy empties the pool, so the next works.
    """
    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_S:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_connection.rollback()
        except Exception as exc:  # any failure means the connection is gone: the pool takes another
            raise sqlalchemy.exc.DisconnectionError(str(exc)) from exc


def _configure_sqlite(engine: Engine, memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Valuation sweeps read whole histories: keep hot pages mapped and cached (64 MiB).
            cursor.execute("PRAGMA mmap_size=268435456")
            cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A writer takes the write lock up front: a deferred transaction that reads and then
        # upgrades to write can deadlock against another and fail instead of waiting.
        # Sent on the driver's connection: through exec_driver_sql it costs half an empty transaction.
        immediate = connection.get_execution_options().get(WRITE, False)
        driver: Any = connection.connection.driver_connection
        driver.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


class UnitOfWork:
    """Hands out transactions; every adapter method runs inside exactly one."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        # The Data API's dialect has no autocommit switch: its reads run in a (cheap) transaction.
        self.data_api = engine.dialect.driver == DRIVER
        # One shared in-memory connection cannot carry two transactions at once.
        self._lock = threading.RLock() if is_memory(str(engine.url)) else None
        # Writers to a SQLite file in this process queue here: SQLite's own wait for its write lock
        # (busy_timeout) polls, sleeping up to 100 ms at a time, so threads that write at once (LangGraph
        # checkpoints in the background while a task stores its writes) would mostly sleep. Other
        # processes still wait through busy_timeout.
        self._writers = threading.RLock() if self.dialect == "sqlite" and self._lock is None else None

    @contextmanager
    def begin(self, write: bool = False, read_only: bool = False) -> Iterator[Connection]:
        """A transaction that commits when the block completes and rolls back on any error.

        A read on PostgreSQL runs in autocommit: at READ COMMITTED every statement takes its own snapshot
        anyway, so an explicit transaction would only add BEGIN and COMMIT round trips. read_only makes
        the engine itself refuse any write (statements alexdb did not write: alexdb.compat's raw SQL).
        """
        options: dict[str, Any] = {WRITE: write}
        if not write and not read_only and self.dialect == "postgresql" and not self.data_api:
            options["isolation_level"] = "AUTOCOMMIT"
        with (
            self._lock or nullcontext(),
            (self._writers if write and self._writers is not None else nullcontext()),
            translated_errors(),
            self.engine.connect().execution_options(**options) as connection,
            connection.begin(),
        ):
            if not read_only:
                yield connection
            elif self.dialect == "postgresql":
                connection.exec_driver_sql("SET TRANSACTION READ ONLY")
                yield connection
            else:
                connection.exec_driver_sql("PRAGMA query_only = ON")
                try:
                    yield connection
                finally:
                    connection.exec_driver_sql("PRAGMA query_only = OFF")

    @contextmanager
    def driver(self, write: bool = False, one_statement: bool = False) -> Iterator[PoolProxiedConnection]:
        """A transaction on the driver's own connection, for the hottest calls (an agent's checkpoints) whose
        statements are prepared (bulk.PreparedStatement): SQLAlchemy's Connection and transaction cost
        more than their few statements. Locks, isolation and error translation are those of begin(); it
        commits when the block completes and rolls back on any error.

        one_statement: the block runs a single statement, which PostgreSQL makes atomic by itself: it runs
        in autocommit, without the BEGIN and COMMIT that cost as much as a small statement each. Elsewhere
        it changes nothing.
        """
        if self.data_api:  # its driver keeps transactions through the Data API: leave them to SQLAlchemy
            with self.begin(write) as connection:
                yield connection.connection
            return
        with (
            self._lock or nullcontext(),
            (self._writers if write and self._writers is not None else nullcontext()),
            translated_errors(),
        ):
            raw = self.engine.raw_connection()
            try:
                driver: Any = raw.driver_connection
                # As begin(): a read on PostgreSQL runs in autocommit; SQLite's BEGIN as _on_begin emits it.
                autocommit = isinstance(driver, psycopg.Connection) and (not write or one_statement)
                if autocommit:
                    driver.autocommit = True
                elif not isinstance(driver, psycopg.Connection):
                    driver.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield raw
                    driver.commit()
                except BaseException:
                    driver.rollback()
                    raise
                finally:
                    if autocommit:
                        driver.autocommit = False
            finally:
                raw.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turn driver and SQLAlchemy errors into the alexdb tree, keeping the cause."""
    try:
        yield
    except AlexdbError:
        raise
    except sqlalchemy.exc.IntegrityError as exc:
        raise ConflictError(f"conflicting write: {_first_line(exc.orig)}") from exc
    except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.ProgrammingError) as exc:
        if _missing_table(exc.orig):
            raise SchemaError(f"the database has no alexdb schema ({_first_line(exc.orig)}): "
                              "run `alexdb migrate` (or connect with migrate=True)") from exc
        raise BackendError(f"database error: {_first_line(exc.orig)}") from exc
    except sqlalchemy.exc.StatementError as exc:
        state = sql_state(exc.orig) if isinstance(exc, sqlalchemy.exc.DBAPIError) else None
        if state is not None:  # the Data API's driver raises one error class; its SQLSTATE says what it was
            _raise_for_state(state, exc)
        if "StatementTimeoutException" in str(exc.orig):  # the Data API stopped waiting (45 s)
            raise BackendError(f"statement timed out (the Data API waits 45 s), retry: {_first_line(exc.orig)}"
                               ) from exc
        if isinstance(exc.orig, ValueError) and not isinstance(exc, sqlalchemy.exc.DBAPIError):
            raise ValidationError("value", exc.params, str(exc.orig)) from exc
        raise BackendError(f"database error: {_first_line(exc.orig or exc)}") from exc
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise BackendError(f"database error: {_first_line(exc)}") from exc
    # What the prepared statements (adapters/sql/bulk.py) raise straight from the driver's cursor.
    except (psycopg.errors.DataError, sqlite3.DataError, OverflowError, UnicodeError) as exc:
        raise ValidationError("value", None, f"refused by the database: {_first_line(exc)}") from exc
    except (psycopg.errors.IntegrityError, sqlite3.IntegrityError) as exc:
        raise ConflictError(f"conflicting write: {_first_line(exc)}") from exc
    except (psycopg.Error, sqlite3.Error) as exc:
        if _missing_table(exc):
            raise SchemaError(f"the database has no alexdb schema ({_first_line(exc)}): "
                              "run `alexdb migrate` (or connect with migrate=True)") from exc
        raise BackendError(f"database error: {_first_line(exc)}") from exc


def _missing_table(error: object) -> bool:
    # SQLite says "no such table"; PostgreSQL raises UndefinedTable (SQLSTATE 42P01).
    return "no such table" in str(error) or (getattr(error, "sqlstate", None) or sql_state(error)) == "42P01"


def _raise_for_state(state: str, exc: sqlalchemy.exc.StatementError) -> None:
    """The alexdb error a PostgreSQL SQLSTATE means (class 23: a constraint; 40: retry; 22: bad data)."""
    if state.startswith("23"):
        raise ConflictError(f"conflicting write: {_first_line(exc.orig)}") from exc
    if state in ("40001", "40P01"):
        raise ConflictError(f"concurrent transaction, try again: {_first_line(exc.orig)}") from exc
    if state.startswith("22"):
        raise ValidationError("value", None, f"refused by the database: {_first_line(exc.orig)}") from exc
    if state == "42P01":
        raise SchemaError(f"the database has no alexdb schema ({_first_line(exc.orig)}): "
                          "run `alexdb migrate` (or connect with migrate=True)") from exc
    if state == "57014":
        raise BackendError(f"statement timed out, retry: {_first_line(exc.orig)}") from exc


def _first_line(error: object) -> str:
    """A driver message's first line: enough for one clear line of CLI output (the cause keeps the rest)."""
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
