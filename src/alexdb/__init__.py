"""alexdb: the data layer of the Alex financial planner, one API over SQLite, PostgreSQL and DynamoDB."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from alexdb.domain.chat import DEFAULT_TTL
from alexdb.domain.errors import (
    AlexdbError,
    BackendError,
    ConflictError,
    InsufficientQuantityError,
    InvalidTransitionError,
    NotFoundError,
    SchemaError,
    ValidationError,
)

if TYPE_CHECKING:
    from alexdb.adapters.dynamodb.database import DynamoDatabase
    from alexdb.adapters.sql.database import SqlDatabase

__version__ = "0.1.0"
DEFAULT_URL = "sqlite:///alex.db"

__all__ = [
    "DEFAULT_URL", "AlexdbError", "BackendError", "ConflictError", "InsufficientQuantityError",
    "InvalidTransitionError", "NotFoundError", "SchemaError", "ValidationError", "connect",
]


def connect(
    url: str | None = None, *, migrate: bool | None = None, client: Any = None, chat_ttl: timedelta | None = None
) -> SqlDatabase | DynamoDatabase:
    """Open an alexdb database: url, else $ALEXDB_URL, else the embedded SQLite file ./alex.db.

    sqlite:///path.db and sqlite:// (memory) are migrated on open; for postgresql://user@host/db pass
    migrate=True or run `alexdb migrate` first. dynamodb://[host:port][?region=..&prefix=..] opens the
    DynamoDB tables (client= injects a boto3 client; migrate=True creates missing tables). chat_ttl sets
    how long a chat session lives after its last activity (30 days by default).
    """
    target = url or os.environ.get("ALEXDB_URL") or DEFAULT_URL
    scheme = target.split(":", 1)[0].split("+", 1)[0]
    if scheme in ("sqlite", "postgresql", "postgres"):
        from alexdb.adapters.sql.database import SqlDatabase

        return SqlDatabase(target, migrate_schema=migrate, chat_ttl=chat_ttl or DEFAULT_TTL)
    if scheme == "dynamodb":
        from alexdb.adapters.dynamodb.database import DynamoDatabase

        return DynamoDatabase(target, client=client, create_tables=bool(migrate), chat_ttl=chat_ttl or DEFAULT_TTL)
    raise ValidationError("url", target, "expected a sqlite://, postgresql:// or dynamodb:// URL")
