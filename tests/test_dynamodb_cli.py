"""`alexdb dynamodb create-tables / describe / delete-tables` against DynamoDB Local."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

import alexdb
from alexdb.adapters.dynamodb.tables import INSTRUMENTS, USERS
from tests.conftest import dynamo_engine

pytestmark = pytest.mark.dynamodb


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "alexdb", "dynamodb", *args], capture_output=True, text=True,
                          env=env, timeout=300, stdin=subprocess.DEVNULL)


def test_create_is_idempotent_and_tables_work(dynamodb_endpoint: str) -> None:
    prefix, endpoint = f"cli{uuid.uuid4().hex[:6]}-", f"http://{dynamodb_endpoint}"
    options = ["--prefix", prefix, "--endpoint-url", endpoint, "--region", "us-east-1"]
    first = run("create-tables", *options)
    assert first.returncode == 0, first.stderr
    assert f"created {prefix}alex-users-data" in first.stdout and "enabled TTL (ttl)" in first.stdout
    assert "point-in-time recovery not supported by this engine" in first.stdout  # DynamoDB Local
    second = run("create-tables", *options)
    assert second.returncode == 0 and "created" not in second.stdout and "TTL" not in second.stdout

    described = run("describe", *options)
    assert described.returncode == 0
    assert "ACTIVE" in described.stdout and "Directory, HoldersIndex, JobQueue, LSI1, UserJobs" in described.stdout and "ttl ENABLED" in described.stdout

    db = alexdb.connect(f"dynamodb://{dynamodb_endpoint}?region=us-east-1&prefix={prefix}")
    db.users.create_user("cli_user")
    assert db.users.get_user("cli_user").clerk_user_id == "cli_user"
    table = dynamo_engine(db).dynamo.client.describe_table(TableName=f"{prefix}{USERS.default_name}")["Table"]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"Directory", "JobQueue", "UserJobs", "HoldersIndex"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert dynamo_engine(db).dynamo.client.describe_table(TableName=f"{prefix}{INSTRUMENTS.default_name}")["Table"]["TableStatus"] == "ACTIVE"

    refused = run("delete-tables", *options)
    assert refused.returncode != 0
    deleted = run("delete-tables", *options, "--yes")
    assert deleted.returncode == 0 and f"deleted {prefix}alex-instruments" in deleted.stdout
    assert "MISSING" in run("describe", *options).stdout


def test_reset_verify_and_value_on_dynamodb(dynamodb_endpoint: str) -> None:
    url = f"dynamodb://{dynamodb_endpoint}?region=us-east-1&prefix=reset{uuid.uuid4().hex[:6]}-"
    env = {**os.environ, "COLUMNS": "200", "ALEXDB_URL": url}

    def alexdb_cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "alexdb", *args], capture_output=True, text=True, env=env,
                              timeout=600, stdin=subprocess.DEVNULL)

    reset = alexdb_cli("reset", "--with-test-data")
    assert reset.returncode == 0, reset.stderr
    assert "instruments 22" in reset.stdout and "positions 7" in reset.stdout
    verify = alexdb_cli("verify")
    assert verify.returncode == 0, verify.stderr + verify.stdout
    positions = alexdb_cli("positions", "401(k)")
    assert positions.returncode == 0 and "90,937.50" in positions.stdout
    value = alexdb_cli("value", "401(k)")
    assert value.returncode == 0 and "5,000.00" in value.stdout
    assert "cash now: 5,000.00" in alexdb_cli("cash", "401(k)").stdout
