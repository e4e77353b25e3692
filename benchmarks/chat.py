"""Benchmark: 2,000 appends of 1 KB to one chat session, alexdb against LangChain's DynamoDB history.

    python -m benchmarks.chat

On DynamoDB Local, for alexdb's db.chat and langchain-community's DynamoDBChatMessageHistory in the same
run: write units consumed and time per append at messages 10, 100, 1,000 and 2,000, and the message count
at which each fails. Then the same appends with alexdb on SQLite and PostgreSQL (time only).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import psycopg
from tests.dynamodb_local import dynamodb_local

import alexdb
from benchmarks.results import write_section

MESSAGES = 2000
CHECKPOINTS = (10, 100, 1000, 2000)
WINDOW = 5  # appends averaged around each checkpoint
BODY = "x" * 1024
PG_SERVER = "postgresql://postgres@127.0.0.1:5432/test"

Result = dict[str, Any]


def run(append: Callable[[int], float]) -> Result:
    """Append MESSAGES messages; per checkpoint the mean time and units of the WINDOW appends ending there."""
    times: list[float] = []
    units: list[float] = []
    failed_at = None
    error = ""
    for n in range(1, MESSAGES + 1):
        began = time.perf_counter()
        try:
            used = append(n)
        except Exception as exc:  # the point of the benchmark: where does each design break?
            failed_at, error = n, f"{type(exc).__name__}: {str(exc)[:120]}"
            break
        times.append(time.perf_counter() - began)
        units.append(used)
    at = {}
    for checkpoint in CHECKPOINTS:
        if len(times) >= checkpoint:
            window = slice(checkpoint - WINDOW, checkpoint)
            at[checkpoint] = (statistics.mean(times[window]) * 1000, statistics.mean(units[window]))
    return {"at": at, "failed_at": failed_at, "error": error}


def alexdb_appends(db: Any) -> Callable[[int], float]:
    """Appends through db.chat, returning the write units each consumed."""
    session = db.chat.create_session("bench-user", "benchmark")

    def append(n: int) -> float:
        meter = getattr(db, "meter", None)
        if meter is not None:
            meter.reset()
        db.chat.add_message(session.id, "user" if n % 2 else "assistant", BODY, tokens=256, user_id="bench-user")
        return sum(meter.write_units.values()) if meter is not None else 0.0
    return append


def langchain_appends(endpoint: str) -> Callable[[int], float]:
    """Appends through langchain-community's DynamoDBChatMessageHistory, with capacity read off botocore."""
    from langchain_community.chat_message_histories import DynamoDBChatMessageHistory
    from langchain_core.messages import AIMessage, HumanMessage

    session = boto3.Session(region_name="us-east-1")
    consumed: list[float] = []

    def ask_for_capacity(params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"

    def record(parsed: dict[str, Any], **_: Any) -> None:
        capacity = parsed.get("ConsumedCapacity") or {}
        consumed.append(float(capacity.get("CapacityUnits", 0)) if isinstance(capacity, dict) else 0.0)

    session.events.register("provide-client-params.dynamodb.PutItem", ask_for_capacity)
    session.events.register("provide-client-params.dynamodb.UpdateItem", ask_for_capacity)
    session.events.register("after-call.dynamodb.PutItem", record)
    session.events.register("after-call.dynamodb.UpdateItem", record)
    table = f"lc-{uuid.uuid4().hex[:8]}"
    client = session.client("dynamodb", endpoint_url=f"http://{endpoint}")
    client.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "SessionId", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "SessionId", "AttributeType": "S"}])
    client.get_waiter("table_exists").wait(TableName=table)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = DynamoDBChatMessageHistory(table_name=table, session_id="bench", endpoint_url=f"http://{endpoint}",
                                             boto3_session=session)

    def append(n: int) -> float:
        consumed.clear()
        history.add_message(HumanMessage(BODY) if n % 2 else AIMessage(BODY))
        return sum(consumed)
    return append


def fresh_pg() -> tuple[str, Callable[[], None]]:
    """A throwaway PostgreSQL database."""
    name = f"alexdb_chat_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(PG_SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return PG_SERVER.rsplit("/", 1)[0] + "/" + name, drop


def main() -> None:
    """Run every contestant and write the results."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    results: dict[str, Result] = {}
    with dynamodb_local() as endpoint:
        db = alexdb.connect(f"dynamodb://{endpoint}?region=us-east-1&prefix=chat{uuid.uuid4().hex[:6]}-", migrate=True)
        results["alexdb on DynamoDB Local"] = run(alexdb_appends(db))
        results["LangChain DynamoDBChatMessageHistory"] = run(langchain_appends(endpoint))
    with tempfile.TemporaryDirectory() as workdir:
        results["alexdb on SQLite (file)"] = run(alexdb_appends(alexdb.connect(f"sqlite:///{Path(workdir) / 'c.db'}")))
    url, drop = fresh_pg()
    try:
        results["alexdb on PostgreSQL"] = run(alexdb_appends(alexdb.connect(url, migrate=True)))
    finally:
        drop()
    header = "| store | " + " | ".join(f"append #{c}: ms / WCU" for c in CHECKPOINTS) + " | fails at |"
    body = [f"{MESSAGES:,} appends of 1 KB to one session; each figure is the mean of the {WINDOW} appends "
            "ending at that message. WCU as DynamoDB Local reports them (SQL stores have none).", "",
            header, "|---" * (len(CHECKPOINTS) + 2) + "|"]
    for name, result in results.items():
        cells = []
        for checkpoint in CHECKPOINTS:
            if checkpoint in result["at"]:
                ms, units = result["at"][checkpoint]
                cells.append(f"{ms:.2f} / {units:g}" if "DynamoDB" in name else f"{ms:.2f} / -")
            else:
                cells.append("failed")
        failure = f"message {result['failed_at']} ({result['error']})" if result["failed_at"] else "never"
        body.append(f"| {name} | " + " | ".join(cells) + f" | {failure} |")
    ours = results["alexdb on DynamoDB Local"]["at"]
    if 10 in ours and 2000 in ours:
        body += ["", f"alexdb write units per append, message 2,000 vs 10: {ours[2000][1] / ours[10][1]:.2f} "
                 "(goal: within 1.2)."]
    write_section("chat", "python -m benchmarks.chat", "\n".join(body))
    print("\n".join(body))


if __name__ == "__main__":
    main()
