"""Benchmark: 2,000 appends of 1 KB to one chat session, alexdb against LangChain's histories.

    python -m benchmarks.chat

On DynamoDB Local, for alexdb's db.chat and langchain-community's DynamoDBChatMessageHistory in the same
run: write units consumed and time per append at messages 10, 100, 1,000 and 2,000, and the message count
at which each fails. On SQLite (a file, WAL, synchronous=NORMAL for both) and PostgreSQL, alexdb against
langchain-community's SQLChatMessageHistory on the same engine in the same run: append time (p50, p99)
and the time to read the last 50 messages once 2,000 are stored (the peer has no "last N": it reads all).
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
from benchmarks.results import median, percentile, write_section

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


def alexdb_appends(db: alexdb.Database) -> Callable[[int], float]:
    """Appends through db.chat, returning the write units each consumed."""
    session = db.chat.create_session("bench-user", "benchmark")

    def append(n: int) -> float:
        meter = getattr(db.engine, "meter", None)
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


READS = 50  # reads of the last 50 messages, each timed


def sql_peer_appends(url: str, sqlite: bool) -> tuple[Callable[[int], float], Callable[[], int]]:
    """Appends through SQLChatMessageHistory (and its read of the messages), on its own engine."""
    from langchain_community.chat_message_histories import SQLChatMessageHistory
    from langchain_core.messages import AIMessage, HumanMessage
    from sqlalchemy import create_engine, event

    engine = create_engine(url)
    if sqlite:
        @event.listens_for(engine, "connect")
        def same_settings(connection: Any, _record: Any) -> None:  # alexdb's SQLite settings
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = SQLChatMessageHistory(session_id="bench", connection=engine)

    def append(n: int) -> float:
        history.add_message(HumanMessage(BODY) if n % 2 else AIMessage(BODY))
        return 0.0

    def read_last() -> int:
        return len(history.messages[-READS:])
    return append, read_last


def alexdb_sql(url: str) -> tuple[Callable[[int], float], Callable[[], int]]:
    """Appends through db.chat, and its read of the last 50 messages."""
    db = alexdb.connect(url, migrate=True)
    append = alexdb_appends(db)
    session = db.chat.list_sessions("bench-user", limit=1).items[0]

    def read_last() -> int:
        return len(db.chat.get_history(session.id, user_id="bench-user", limit=READS))
    return append, read_last


def timed(append: Callable[[int], float], read_last: Callable[[], int]) -> dict[str, float]:
    """MESSAGES appends, then READS reads of the last 50: p50 and p99 of each, in milliseconds."""
    appends, reads = [], []
    for n in range(1, MESSAGES + 1):
        began = time.perf_counter()
        append(n)
        appends.append((time.perf_counter() - began) * 1000)
    for _ in range(READS):
        began = time.perf_counter()
        assert read_last() == READS
        reads.append((time.perf_counter() - began) * 1000)
    return {"append p50": median(appends), "append p99": percentile(appends, 99),
            "read p50": median(reads), "read p99": percentile(reads, 99)}


def sql_section() -> list[str]:
    """alexdb against SQLChatMessageHistory on SQLite and PostgreSQL, same engine, same run."""
    rows = [f"{MESSAGES:,} appends of 1 KB, then {READS} reads of the last {READS} messages; milliseconds.", "",
            "| engine | store | append p50 | append p99 | read last 50 p50 | read p99 |", "|---|---|---|---|---|---|"]
    ratios = []
    with tempfile.TemporaryDirectory() as workdir:
        engines = [("SQLite", f"sqlite:///{Path(workdir) / 'ours.db'}", f"sqlite:///{Path(workdir) / 'peer.db'}")]
        ours_pg, drop_ours = fresh_pg()
        peer_pg, drop_peer = fresh_pg()
        engines.append(("PostgreSQL", ours_pg, peer_pg.replace("postgresql://", "postgresql+psycopg://", 1)))
        try:
            for engine, ours_url, peer_url in engines:
                ours = timed(*alexdb_sql(ours_url))
                peer = timed(*sql_peer_appends(peer_url, engine == "SQLite"))
                for name, figures in (("alexdb db.chat", ours), ("LangChain SQLChatMessageHistory", peer)):
                    rows.append(f"| {engine} | {name} | " + " | ".join(f"{figures[k]:.3f}" for k in (
                        "append p50", "append p99", "read p50", "read p99")) + " |")
                ratios.append(f"{engine}: append p50 alexdb / peer = {ours['append p50'] / peer['append p50']:.2f} "
                              "(goal at most 1.5); last-50 read p50 peer / alexdb = "
                              f"{peer['read p50'] / ours['read p50']:.0f}x (goal at least 50x)")
        finally:
            drop_ours()
            drop_peer()
    return [*rows, "", *(f"- {line}" for line in ratios)]


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
    header = "| store | " + " | ".join(f"append #{c}: ms / WCU" for c in CHECKPOINTS) + " | fails at |"
    body = ["### DynamoDB: alexdb against LangChain's DynamoDB history", "",
            f"{MESSAGES:,} appends of 1 KB to one session; each figure is the mean of the {WINDOW} appends "
            "ending at that message. WCU as DynamoDB Local reports them.", "",
            header, "|---" * (len(CHECKPOINTS) + 2) + "|"]
    for name, result in results.items():
        cells = []
        for checkpoint in CHECKPOINTS:
            if checkpoint in result["at"]:
                ms, units = result["at"][checkpoint]
                cells.append(f"{ms:.2f} / {units:g}")
            else:
                cells.append("failed")
        failure = f"message {result['failed_at']} ({result['error']})" if result["failed_at"] else "never"
        body.append(f"| {name} | " + " | ".join(cells) + f" | {failure} |")
    ours = results["alexdb on DynamoDB Local"]["at"]
    if 10 in ours and 2000 in ours:
        body += ["", f"alexdb write units per append, message 2,000 vs 10: {ours[2000][1] / ours[10][1]:.2f} "
                 "(goal: within 1.2)."]
    body += ["", "### alexdb against LangChain's SQL history, same engine, same run", "", *sql_section()]
    write_section("chat", "python -m benchmarks.chat", "\n".join(body))
    print("\n".join(body))


if __name__ == "__main__":
    main()
