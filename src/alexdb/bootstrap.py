"""The composition root: every entry point (connect, the CLI, the HTTP service, the Lambda, the feeds)
builds its database and its ingestor here, and nowhere else."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from alexdb.database import Backend, Database
from alexdb.domain import alerts
from alexdb.domain.chat import DEFAULT_TTL
from alexdb.domain.errors import ValidationError
from alexdb.domain.paging import Cursors

if TYPE_CHECKING:
    from alexdb.speed.notifiers import Notifier
    from alexdb.speed.pipeline import Ingestor

DEFAULT_URL = "sqlite:///alex.db"


def _aurora_from_environment() -> str | None:
    """The Data API URL the original Alex package's variables name (AURORA_CLUSTER_ARN, ...), if set."""
    if not os.environ.get("AURORA_CLUSTER_ARN"):
        return None
    from alexdb.adapters.sql.data_api import from_environment

    return from_environment(os.environ)


def connect(
    url: str | None = None, *, migrate: bool | None = None, client: Any = None, chat_ttl: timedelta | None = None,
    cursor_secret: str | bytes | None = None,
) -> Database:
    """Open an alexdb database: url, else $ALEXDB_URL, else Aurora through the Data API when the original Alex
    package's AURORA_CLUSTER_ARN and AURORA_SECRET_ARN are set, else the embedded SQLite file ./alex.db.

    aurora-data-api://<cluster arn>?secret_arn=<arn>&database=<db>&region=<region> reaches PostgreSQL through
    the RDS Data API. sqlite:///path.db and sqlite:// (memory) are migrated on open; for postgresql://user@host/db pass
    migrate=True or run `alexdb migrate` first. dynamodb://[host:port][?region=..&prefix=..] opens the
    DynamoDB tables (client= injects a boto3 client; migrate=True creates missing tables). chat_ttl sets
    how long a chat session lives after its last activity (30 days by default). cursor_secret (else
    $ALEXDB_CURSOR_SECRET) signs list cursors.
    """
    target = url or os.environ.get("ALEXDB_URL") or _aurora_from_environment() or DEFAULT_URL
    if os.environ.get("ALEXDB_TICK_MAX_FUTURE_S"):
        alerts.TICK_MAX_FUTURE_MS = int(float(os.environ["ALEXDB_TICK_MAX_FUTURE_S"]) * 1000)
    scheme = target.split(":", 1)[0].split("+", 1)[0]
    engine: Backend
    cursors = Cursors(cursor_secret)
    if scheme in ("sqlite", "postgresql", "postgres", "aurora-data-api"):
        from alexdb.adapters.sql.backend import SqlBackend

        engine = SqlBackend(target, migrate_schema=migrate)
    elif scheme == "dynamodb":
        from alexdb.adapters.dynamodb.backend import DynamoBackend

        engine = DynamoBackend(target, client=client, create_tables=bool(migrate))
    else:
        raise ValidationError("url", target,
                              "expected a sqlite://, postgresql://, aurora-data-api:// or dynamodb:// URL")
    return Database(engine, cursors, chat_ttl or DEFAULT_TTL)


def ingestor(db: Database, env: Mapping[str, str] | None = None, websocket: Notifier | None = None) -> Ingestor:
    """The speed layer's pipeline over db, with the notifiers the environment configures."""
    from alexdb.speed.pipeline import Ingestor
    from alexdb.speed.wiring import notifiers_from_env

    return Ingestor(db, notifiers_from_env(os.environ if env is None else env, websocket=websocket))
