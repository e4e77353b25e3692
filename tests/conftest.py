"""One backend-parametrized fixture: every contract test runs on a SQLite file, SQLite memory, PostgreSQL (directly
and through the RDS Data API) and DynamoDB Local."""

from __future__ import annotations

import os
import shutil
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest

import alexdb
from alexdb import Database
from alexdb.adapters.dynamodb.backend import DynamoBackend
from tests.dynamodb_local import TICKS_BUCKET, data_api_local, dynamodb_local, kinesis_local, s3_local

OPENED = datetime(2020, 1, 1, tzinfo=UTC)
"""When the `account` fixture's cash was deposited: before every instant the tests value it at."""
PG_SERVER = os.environ.get("ALEXDB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BACKENDS = ["sqlite_file", "sqlite_memory", "postgresql", "dynamodb", "aurora"]


def unavailable(backend: str, reason: str) -> None:
    """Skip loudly here; in CI a backend that cannot start is a failure."""
    message = f"BACKEND {backend} UNAVAILABLE: {reason}"
    if IN_CI:
        pytest.fail(message + " (CI=true: a skipped backend fails the run)", pytrace=False)
    warnings.warn(message, stacklevel=1)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test session, migrated once, dropped at the end."""
    name = f"alexdb_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_SERVER.replace("postgresql://", "postgresql://", 1), autocommit=True)
    except psycopg.Error as exc:
        unavailable("postgresql", f"cannot reach {PG_SERVER}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_SERVER.rsplit("/", 1)[0] + "/" + name
    alexdb.connect(url, migrate=True).close()
    yield url
    with psycopg.connect(PG_SERVER, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def aurora_urls(pg_url: str) -> Iterator[tuple[str, str]]:
    """(Data API URL, direct URL) of a session database reached through data-api-local, migrated through it."""
    name = f"alexdb_aurora_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    for endpoint in _local_service("aurora", data_api_local):
        url = (f"aurora-data-api://arn:aws:rds:us-east-1:123456789012:cluster:alex?database={name}"
               f"&secret_arn=arn:aws:secretsmanager:us-east-1:123456789012:secret:alex&endpoint_url={endpoint}")
        alexdb.connect(url, migrate=True).close()
        yield url, PG_SERVER.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(PG_SERVER, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _local_service(name: str, start: Callable[[], AbstractContextManager[str]]) -> Iterator[str]:
    """A local AWS service for the session (fake credentials), or unavailable(name) with the reason."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    try:
        with start() as endpoint:
            yield endpoint
    except RuntimeError as exc:
        unavailable(name, str(exc))


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    """DynamoDB Local for the whole session, on a free loopback port."""
    yield from _local_service("dynamodb", dynamodb_local)


@pytest.fixture
def own_endpoint(dynamodb_endpoint: str) -> Iterator[str]:
    """A DynamoDB Local of this test's own, for tests that add indexes: after the session's has served other
    tests, its background index builder was seen to leave a new index CREATING for good (the endpoint fixture
    is asked for first so that a missing Java or jar is reported the usual way)."""
    with dynamodb_local() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def kinesis_endpoint() -> Iterator[str]:
    """kinesalite, a local Amazon Kinesis, for the whole session (the tick producer's tests)."""
    yield from _local_service("kinesis", kinesis_local)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """s3rver, a local Amazon S3, for the whole session: the bucket of raw tick chunks (tick_archive.py)."""
    yield from _local_service("s3", s3_local)


@pytest.fixture(scope="session")
def dynamodb_url(dynamodb_endpoint: str, s3_endpoint: str) -> str:
    """Tables for this session, created once under a unique prefix, raw ticks in S3 as deployed at scale
    (a URL without ticks_bucket keeps them in DynamoDB: tests/test_tick_archive.py covers both)."""
    url = (f"dynamodb://{dynamodb_endpoint}?region=us-east-1&prefix=t{uuid.uuid4().hex[:8]}-"
           f"&ticks_bucket={TICKS_BUCKET}&s3_endpoint={s3_endpoint}")
    alexdb.connect(url, migrate=True).close()
    return url


def dynamo_engine(db: Database) -> DynamoBackend:
    """The DynamoDB engine under db, for tests that look at its tables and requests."""
    engine = db.engine
    assert isinstance(engine, DynamoBackend), f"not a DynamoDB database: {db!r}"
    return engine


def empty_dynamodb(url: str) -> None:
    """Delete every item of every table (fast: a test leaves only a few)."""
    from alexdb.adapters.dynamodb.tables import TABLES

    db = dynamo_engine(alexdb.connect(url))
    names = db.config.table_names()
    for spec in TABLES:
        keys = [{k: item[k] for k in spec.key} for item in db.dynamo.scan(
            names[spec.role], ProjectionExpression=", ".join(f"#k{n}" for n in range(len(spec.key))),
            ExpressionAttributeNames={f"#k{n}": k for n, k in enumerate(spec.key)})]
        db.dynamo.batch_write(names[spec.role], deletes=keys)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies, so migrations run once per session."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    alexdb.connect(f"sqlite:///{path}").close()
    return path


def _params(backends: list[str]) -> list[Any]:
    return [pytest.param(b, marks=getattr(pytest.mark, b)) for b in backends]


def prepare(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    """The URL of an empty, ready database of backend."""
    if backend == "sqlite_memory":
        return "sqlite://"
    if backend == "sqlite_file":
        path = tmp_path / "alex.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    if backend == "dynamodb":
        dynamo: str = request.getfixturevalue("dynamodb_url")
        empty_dynamodb(dynamo)
        return dynamo
    if backend == "aurora":
        aurora, direct = request.getfixturevalue("aurora_urls")
        _truncate(direct)
        return str(aurora)
    url: str = request.getfixturevalue("pg_url")
    _truncate(url)
    return url


@pytest.fixture(params=_params(BACKENDS))
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database of the parametrized backend (the contract suite's fixture)."""
    return prepare(request, request.param, tmp_path)


@pytest.fixture(params=_params(["sqlite_file", "sqlite_memory", "postgresql"]))
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty SQL database (for tests of the SQL schema itself)."""
    return prepare(request, request.param, tmp_path)


@pytest.fixture(params=_params(["sqlite_file", "postgresql", "dynamodb"]))
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database that separate processes can open at once (not in-memory SQLite)."""
    if request.param == "sqlite_file":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return prepare(request, request.param, tmp_path)


def _truncate(url: str) -> None:
    from alexdb.adapters.sql.schema import ALL_TABLES

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(t.name for t in ALL_TABLES)} RESTART IDENTITY CASCADE")


@pytest.fixture
def dynamo_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty DynamoDB Local database (for tests of the DynamoDB design itself)."""
    database = alexdb.connect(prepare(request, "dynamodb", tmp_path))
    yield database
    database.close()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """An open database of the parametrized backend."""
    database = alexdb.connect(db_url)
    yield database
    database.close()


T = TypeVar("T")


def present(value: T | None) -> T:
    """value, asserted to be there (a test's way to say "this must exist")."""
    assert value is not None
    return value


ALLOC = {
    "allocation_regions": {"north_america": 100},
    "allocation_sectors": {"technology": 100},
    "allocation_asset_class": {"equity": 100},
}


def instrument(symbol: str, price: str | None = None, **extra: Any) -> dict[str, Any]:
    """A valid instrument mapping."""
    data: dict[str, Any] = {"symbol": symbol, "name": f"{symbol} fund", "instrument_type": "etf", **ALLOC, **extra}
    if price is not None:
        data["current_price"] = Decimal(price)
    return data


@pytest.fixture
def account(db: Database) -> Any:
    """A user with one account holding $5,000 of cash since 2020, and instruments SPY, QQQ, BND (no prices)."""
    db.users.create_user("user_1", "Test User")
    for symbol in ("SPY", "QQQ", "BND"):
        db.instruments.create_instrument(instrument(symbol))
    account = db.accounts.create_account("user_1", "401(k)")
    db.cash.deposit(account.id, Decimal("5000.00"), at=OPENED)
    return db.accounts.get_account(account.id)
