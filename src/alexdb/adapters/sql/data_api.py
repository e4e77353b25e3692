"""PostgreSQL through the RDS Data API (Aurora Serverless v2, no VPC): an engine for the same SQL store.

aurora-data-api://<cluster arn>?secret_arn=<arn>&database=alex&region=us-east-1[&endpoint_url=...]

The maintained driver (aurora-data-api) and its SQLAlchemy dialect (sqlalchemy-aurora-data-api) carry the
statements; every SQL adapter runs unchanged on them, with three differences the types and the unit of
work take care of: instants are sent as text cast to timestamptz (the dialect would cut them to the
millisecond), reads run in a transaction (the dialect has no autocommit switch), and the driver's errors
are translated like psycopg's.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
from botocore.config import Config
from sqlalchemy import Engine, cast, create_engine
from sqlalchemy.dialects import registry
from sqlalchemy.sql import sqltypes
from sqlalchemy.util import update_copy
from sqlalchemy_aurora_data_api import AuroraPostgresDataAPIDialect  # type: ignore[import-untyped]

from alexdb.domain.errors import ValidationError

SCHEME = "aurora-data-api"
# The RDS Data API calls the driver makes (infra/terraform/aurora.tf grants exactly these, on the cluster).
DATA_API_ACTIONS = frozenset({"ExecuteStatement", "BatchExecuteStatement", "BeginTransaction", "CommitTransaction",
                              "RollbackTransaction"})
DRIVER = "aurora_data_api"
# The Data API answers 1 MB at most and times out a statement after 45 s; boto3 retries throttling.
RETRIES = Config(retries={"mode": "standard", "max_attempts": 5}, read_timeout=60)


SQLSTATE = re.compile(r"SQLState: (\w{5})")


def sql_state(error: object) -> str | None:
    """The SQLSTATE a Data API error message ends with ("...; SQLState: 23505"), or None."""
    found = SQLSTATE.search(str(error))
    return found.group(1) if found else None


def is_data_api(url: str) -> bool:
    """True for an aurora-data-api:// URL."""
    return url.split(":", 1)[0] == SCHEME


def from_environment(env: Mapping[str, str]) -> str | None:
    """The URL the original Alex package's environment names (AURORA_CLUSTER_ARN, AURORA_SECRET_ARN,
    AURORA_DATABASE, DEFAULT_AWS_REGION), or None when it names no cluster."""
    cluster, secret = env.get("AURORA_CLUSTER_ARN"), env.get("AURORA_SECRET_ARN")
    if not cluster or not secret:
        return None
    region = env.get("DEFAULT_AWS_REGION") or env.get("AWS_REGION") or "us-east-1"
    return f"{SCHEME}://{cluster}?secret_arn={secret}&database={env.get('AURORA_DATABASE', 'alex')}&region={region}"


class _Instant(sqltypes.DateTime):
    """timestamptz sent as PostgreSQL text with microseconds and cast there (the dialect's own timestamp type
    cuts to milliseconds, the Data API's documented TIMESTAMP hint format), read back as aware UTC from either
    text the service or its emulator gives ("2024-01-02 21:00:00.123456" or with "+00")."""

    def bind_processor(self, dialect: Any) -> Any:
        def process(value: Any) -> Any:
            return value.astimezone(UTC).isoformat(sep=" ") if isinstance(value, datetime) else value

        return process

    def bind_expression(self, bindvalue: Any) -> Any:
        return cast(bindvalue, sqltypes.DateTime(timezone=True))

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        def process(value: Any) -> Any:
            if not isinstance(value, str):
                return value
            moment = datetime.fromisoformat(value)
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

        return process


class _Uuid(sqltypes.Uuid):  # type: ignore[type-arg]
    """uuid sent as text cast there, read back as uuid.UUID (the Data API returns the text)."""

    def bind_processor(self, dialect: Any) -> Any:
        def process(value: Any) -> Any:
            return None if value is None else str(value)

        return process

    def bind_expression(self, bindvalue: Any) -> Any:
        return cast(bindvalue, sqltypes.Uuid())

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        def process(value: Any) -> Any:
            return uuid.UUID(value) if isinstance(value, str) and self.as_uuid else value

        return process


class AlexdbDataAPIDialect(AuroraPostgresDataAPIDialect):  # type: ignore[misc]
    """The maintained Data API dialect, with instants kept to the microsecond and UUIDs read back as UUIDs."""

    colspecs = update_copy(AuroraPostgresDataAPIDialect.colspecs, {sqltypes.DateTime: _Instant,
                                                                           sqltypes.Uuid: _Uuid})
    supports_statement_cache = True
    # The driver returns NUMERIC as Decimal already; without this SQLAlchemy would format each one through
    # ten fixed decimal places.
    supports_native_decimal = True


registry.register("postgresql.alexdbdataapi", __name__, AlexdbDataAPIDialect.__name__)


def data_api_engine(url: str, options: dict[str, Any]) -> Engine:
    """An engine on the Data API for url (options: the JSON codec every alexdb engine uses)."""
    parts = urlsplit(url)
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    cluster, secret, database = parts.netloc, query.get("secret_arn"), query.get("database")
    if not cluster.startswith("arn:") or not secret or not database:
        raise ValidationError("url", url, "expected aurora-data-api://<cluster arn>?secret_arn=<arn>&database=<name>")
    region = query.get("region") or os.environ.get("AWS_REGION") or "us-east-1"
    client = boto3.client("rds-data", region_name=region, endpoint_url=query.get("endpoint_url"), config=RETRIES)
    return create_engine(f"postgresql+alexdbdataapi://:@/{database}", **options, connect_args={
        "aurora_cluster_arn": cluster, "secret_arn": secret, "rds_data_client": client})
