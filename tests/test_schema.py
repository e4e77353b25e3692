"""Contract: a database without the schema says so on first use, naming the command that fixes it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

import alexdb
from alexdb.api.app import create_app
from alexdb.speed.broadcast import WebSocketBroadcaster
from alexdb.speed.notifiers import Delivery
from alexdb.speed.pipeline import Ingestor
from tests.conftest import PG_SERVER, _params

FIXES = {"sqlite_file": "alexdb migrate", "postgresql": "alexdb migrate", "dynamodb": "alexdb dynamodb create-tables"}


@pytest.fixture(params=_params(list(FIXES)))
def bare(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[alexdb.Database, str]]:
    """A database with no schema at all (a fresh SQLite file, a new PostgreSQL database, no DynamoDB tables)."""
    backend = request.param
    if backend == "sqlite_file":
        yield alexdb.connect(f"sqlite:///{tmp_path / 'bare.db'}", migrate=False), FIXES[backend]
    elif backend == "postgresql":
        request.getfixturevalue("pg_url")  # the server is up
        name = f"alexdb_bare_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_SERVER, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        db = alexdb.connect(PG_SERVER.rsplit("/", 1)[0] + "/" + name)
        yield db, FIXES[backend]
        db.close()
        with psycopg.connect(PG_SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        endpoint = request.getfixturevalue("dynamodb_endpoint")
        yield alexdb.connect(f"dynamodb://{endpoint}?region=us-east-1&prefix=bare{uuid.uuid4().hex[:6]}-"), FIXES[backend]


def test_first_use_names_the_command_that_fixes_it(bare: tuple[alexdb.Database, str]) -> None:
    db, fix = bare
    for call in (lambda: db.users.find_by_clerk_id("u"), lambda: db.users.create_user("u"),
                 lambda: list(db.instruments.find_all()), lambda: db.alerts.find_by_user("u").items):
        with pytest.raises(alexdb.SchemaError, match=fix):
            call()


def test_the_service_answers_503_with_the_reason(bare: tuple[alexdb.Database, str]) -> None:
    db, fix = bare
    broadcaster = WebSocketBroadcaster()
    ingestor = Ingestor(db, {"websocket": broadcaster}, Delivery(attempts=1))
    try:
        response = TestClient(create_app(db, ingestor, broadcaster)).get("/users/u/alerts")
    finally:
        ingestor.close()
    assert response.status_code == 503
    assert response.json()["error"] == "SchemaError" and fix in response.json()["message"]
