"""A throwaway PostgreSQL database for a benchmark run, on the local server the tests use too."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

PG_SERVER = "postgresql://postgres@127.0.0.1:5432/test"


@contextmanager
def throwaway_database(label: str) -> Iterator[str]:
    """A new empty database named alexdb_<label>_<random>: its URL; dropped (connections and all) after."""
    name = f"alexdb_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_SERVER.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
