"""PostgreSQL through the RDS Data API: what differs from a direct connection (the contract suite runs on it
as the `aurora` backend, against data-api-local)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import DateTime

import alexdb
from alexdb.adapters.sql.data_api import AlexdbDataAPIDialect, from_environment, sql_state
from alexdb.compat import Database
from alexdb.domain.errors import ValidationError


@pytest.mark.parametrize("text", ["2024-01-02 21:00:00.123456", "2024-01-02 21:00:00.123456+00",
                                  "2024-01-02 16:00:00.123456-05"])
def test_instants_read_back_from_the_services_and_the_emulators_text(text: str) -> None:
    dialect = AlexdbDataAPIDialect()
    read = dialect.type_descriptor(DateTime(timezone=True)).result_processor(dialect, None)
    assert read(text) == datetime(2024, 1, 2, 21, 0, 0, 123456, tzinfo=UTC)


def test_the_original_packages_environment_names_the_cluster() -> None:
    env = {"AURORA_CLUSTER_ARN": "arn:aws:rds:eu-west-1:1:cluster:alex",
           "AURORA_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:alex-AbC", "DEFAULT_AWS_REGION": "eu-west-1"}
    url = from_environment(env)
    assert url == ("aurora-data-api://arn:aws:rds:eu-west-1:1:cluster:alex?secret_arn=arn:aws:secretsmanager:"
                   "eu-west-1:1:secret:alex-AbC&database=alex&region=eu-west-1")
    assert from_environment({"AURORA_CLUSTER_ARN": "arn:x"}) is None


def test_a_url_without_its_secret_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        alexdb.connect("aurora-data-api://arn:aws:rds:us-east-1:1:cluster:alex?database=alex")
    assert caught.value.field == "url"


def test_the_sqlstate_of_a_data_api_error() -> None:
    assert sql_state('ERROR: duplicate key value violates unique constraint "pk_users"\n  Position: 0; '
                     "SQLState: 23505") == "23505"
    assert sql_state("something else") is None


def test_exact_values_survive_the_typed_fields(aurora_urls: tuple[str, str]) -> None:
    with alexdb.connect(aurora_urls[0]) as db:
        user_id = f"dapi-{uuid.uuid4().hex[:6]}"
        db.users.create_user(user_id, target_retirement_income=Decimal("123456789.12"),
                             asset_class_targets={"equity": Decimal("70.125"), "fixed_income": Decimal("29.875")})
        user = db.users.get_user(user_id)
        assert user.target_retirement_income == Decimal("123456789.12")
        assert user.asset_class_targets == {"equity": Decimal("70.125"), "fixed_income": Decimal("29.875")}
        assert user.created_at.microsecond == user.updated_at.microsecond  # microseconds kept both ways


def test_compat_database_with_no_argument_connects_as_the_original_did(aurora_urls: tuple[str, str],
                                                                       monkeypatch: Any) -> None:
    parts = urlsplit(aurora_urls[0])
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    monkeypatch.delenv("ALEXDB_URL", raising=False)
    monkeypatch.setenv("AURORA_CLUSTER_ARN", parts.netloc)
    monkeypatch.setenv("AURORA_SECRET_ARN", query["secret_arn"])
    monkeypatch.setenv("AURORA_DATABASE", query["database"])
    monkeypatch.setenv("AWS_ENDPOINT_URL_RDS_DATA", query["endpoint_url"])  # boto3's per-service endpoint
    with Database() as db:
        assert db.store.url.startswith("aurora-data-api://")
        db.users.create_user("original-env-user")
        assert db.users.find_by_clerk_id("original-env-user") is not None


@pytest.mark.parametrize(("message", "expected"), [
    ("An error occurred (StatementTimeoutException) when calling the ExecuteStatement operation: timed out",
     "statement timed out"),
    ('ERROR: could not serialize access due to concurrent update\n  Position: 0; SQLState: 40001', "try again"),
    ("ERROR: canceling statement due to statement timeout\n  Position: 0; SQLState: 57014", "timed out"),
])
def test_data_api_failures_are_typed_and_say_to_retry(message: str, expected: str) -> None:
    import sqlalchemy.exc

    from alexdb.adapters.sql.engine import translated_errors
    from alexdb.domain.errors import AlexdbError

    with pytest.raises(AlexdbError) as caught, translated_errors():
        raise sqlalchemy.exc.DatabaseError("SELECT 1", {}, Exception(message))
    assert expected in str(caught.value)


def test_thousands_of_rows_go_in_batches_of_one_transaction(aurora_urls: tuple[str, str]) -> None:
    symbol = f"B{uuid.uuid4().hex[:6].upper()}"
    now = int(time.time() * 1000)
    # The driver pages many rows into batches of 1,000 in one transaction (the emulator refuses larger ones).
    ticks = [{"symbol": symbol, "price": str(Decimal(100 + n) / 100), "timestamp": now - 2500 + n}
             for n in range(2500)]
    with alexdb.connect(aurora_urls[0]) as db:
        assert db.ticks.record_ticks(ticks) == 2500
        assert len(db.ticks.window(symbol, now - 3000, now)) == 2500
