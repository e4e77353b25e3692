"""Benchmark: a LangGraph agent's memory, alexdb's checkpointer against the peers on the same engine.

    python -m benchmarks.agent_memory

One agent loop of 200 steps (a step: the user asks, the agent calls a tool, reads its answer and replies,
so the message list grows by four messages a step), run in the same process against alexdb's AlexdbSaver and
the checkpointer a user would pick instead on the same engine, the two taking turns step by step:
langgraph-checkpoint-sqlite's SqliteSaver (SQLite file, WAL, synchronous=NORMAL for both),
langgraph-checkpoint-postgres's PostgresSaver (PostgreSQL, a database each), and langgraph-checkpoint-aws's
DynamoDBSaver on DynamoDB Local. Figures: time per step (p50, p95), bytes stored after 50, 100, 150 and 200
steps, and the time to read the latest checkpoint of the thread: the first read of a new checkpoint (p50 of
20, each after a step of its own), then the p50 of 50 reads of the same one (alexdb keeps a large value
decoded twice as a copy that later reads unpickle: integrations/langgraph.py).

Bytes stored: SQLite, the pages of the checkpointer's own tables (dbstat); PostgreSQL, pg_total_relation_size
of its tables (with indexes and TOAST); DynamoDB, the size of its items by DynamoDB's own rule (attribute
names plus values), read by a Scan.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypedDict

import boto3
import psycopg
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from psycopg.rows import dict_row
from tests.dynamodb_local import dynamodb_local

import alexdb
from alexdb.integrations.langgraph import AlexdbSaver
from benchmarks.postgres import throwaway_database
from benchmarks.results import median, percentile, write_section

STEPS, READS, FIRST_READS = 200, 50, 20
MARKS = (50, 100, 150, 200)
THREAD = "agent-thread"
OURS_TABLES = ("checkpoint_threads", "checkpoints", "checkpoint_blobs", "checkpoint_writes", "checkpoint_chunks")
PEER_TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes", "writes")


class State(TypedDict):
    messages: Annotated[list[Any], add_messages]


def agent_graph(saver: BaseCheckpointSaver[Any]) -> Any:
    """A tool-calling agent with a scripted model: ask -> tool call -> tool answer -> reply."""

    def agent(state: State) -> dict[str, Any]:
        last = state["messages"][-1]
        if isinstance(last, HumanMessage):
            call = {"name": "quote", "args": {"symbol": "VTI"}, "id": f"call-{len(state['messages'])}"}
            return {"messages": [AIMessage("", tool_calls=[call])]}
        return {"messages": [AIMessage("VTI last traded at 245.10; your allocation is on target. " * 8)]}

    def tools(state: State) -> dict[str, Any]:
        call = state["messages"][-1].tool_calls[0]
        return {"messages": [ToolMessage('{"symbol": "VTI", "price": "245.10", "currency": "USD"} ' * 6,
                                         tool_call_id=call["id"])]}

    def route(state: State) -> str:
        return "tools" if state["messages"][-1].tool_calls else END

    builder = StateGraph(State)
    builder.add_node("agent", agent)
    builder.add_node("tools", tools)
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", route, ["tools", END])
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=saver)


def run(savers: dict[str, tuple[BaseCheckpointSaver[Any], Callable[[], int]]]) -> dict[str, dict[str, Any]]:
    """STEPS steps of the agent on each checkpointer, then READS reads of each one's latest checkpoint.

    The checkpointers take turns, a step (and then a read) each, the first one alternating: a machine
    that slows down or speeds up during the run does so for all of them alike.
    """
    graphs = {name: agent_graph(saver) for name, (saver, _) in savers.items()}
    config: RunnableConfig = {"configurable": {"thread_id": THREAD}}
    steps: dict[str, list[float]] = {name: [] for name in savers}
    reads: dict[str, list[float]] = {name: [] for name in savers}
    sizes: dict[str, dict[int, int]] = {name: {} for name in savers}
    names = list(savers)
    for step in range(1, STEPS + 1):
        for name in names if step % 2 else names[::-1]:
            began = time.perf_counter()
            graphs[name].invoke({"messages": [HumanMessage(f"Step {step}: how is my portfolio doing against "
                                                           "its plan?")]}, config)
            steps[name].append((time.perf_counter() - began) * 1000)
        if step in MARKS:
            for name, (_, size) in savers.items():
                sizes[name][step] = size()
    # First reads: FIRST_READS more steps each, each followed by a read of the checkpoint it just wrote
    # (a decode for every checkpointer; alexdb keeps a copy only of a value read twice).
    first: dict[str, list[float]] = {name: [] for name in savers}
    for extra in range(1, FIRST_READS + 1):
        for name in names if extra % 2 else names[::-1]:
            graphs[name].invoke({"messages": [HumanMessage(f"Step {STEPS + extra}: and now?")]}, config)
            began = time.perf_counter()
            latest = savers[name][0].get_tuple(config)
            first[name].append((time.perf_counter() - began) * 1000)
            assert latest is not None
            assert len(latest.checkpoint["channel_values"]["messages"]) == 4 * (STEPS + extra)
    for read in range(READS):
        for name in names if read % 2 else names[::-1]:
            began = time.perf_counter()
            savers[name][0].get_tuple(config)
            reads[name].append((time.perf_counter() - began) * 1000)
    return {name: {"step p50": median(steps[name]), "step p95": percentile(steps[name], 95),
                   "first read": median(first[name]), "read p50": median(reads[name]), "sizes": sizes[name]}
            for name in savers}


def sqlite_pages(path: Path, tables: tuple[str, ...]) -> Callable[[], int]:
    """Bytes in the pages of these tables and their indexes."""
    def size() -> int:
        with contextlib.closing(sqlite3.connect(path)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            names = [row[0] for row in conn.execute(
                f"SELECT name FROM sqlite_master WHERE tbl_name IN ({','.join('?' * len(tables))})", tables)]
            return int(conn.execute(f"SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN "
                                    f"({','.join('?' * len(names))})", names).fetchone()[0])
    return size


def pg_bytes(url: str, tables: tuple[str, ...]) -> Callable[[], int]:
    """pg_total_relation_size of these tables (those that exist)."""
    def size() -> int:
        total = 0
        with psycopg.connect(url, autocommit=True) as conn:
            for table in tables:
                row = conn.execute("SELECT coalesce(pg_total_relation_size(to_regclass(%s)), 0)", (table,)).fetchone()
                total += int(row[0]) if row else 0
        return total
    return size


def dynamodb_item_bytes(client: Any, table: str, prefix: str | None) -> Callable[[], int]:
    """The size of the table's items (those whose PK starts with prefix), by DynamoDB's rule."""
    def value_size(value: dict[str, Any]) -> int:
        kind, body = next(iter(value.items()))
        if kind == "S":
            return len(body.encode())
        if kind == "B":
            return len(body)
        if kind == "N":
            digits = Decimal(body).as_tuple().digits
            return (len(digits) + 1) // 2 + 1
        if kind in ("M", "L"):
            items = body.items() if kind == "M" else enumerate(body)
            return 3 + sum((len(str(k)) if kind == "M" else 0) + 1 + value_size(v) for k, v in items)
        return 1

    def size() -> int:
        total = 0
        for page in client.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                if prefix is None or item["PK"]["S"].startswith(prefix):
                    total += sum(len(name) + value_size(value) for name, value in item.items())
        return total
    return size


def sqlite_pair(workdir: Path) -> dict[str, dict[str, Any]]:
    """alexdb and SqliteSaver, each on its own SQLite file."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    ours = workdir / "ours.db"
    db = alexdb.connect(f"sqlite:///{ours}")
    peer = workdir / "peer.db"
    conn = sqlite3.connect(peer, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    saver = SqliteSaver(conn)
    saver.setup()
    return run({"alexdb AlexdbSaver": (AlexdbSaver(user_id="bench", db=db), sqlite_pages(ours, OURS_TABLES)),
                "langgraph-checkpoint-sqlite SqliteSaver": (saver, sqlite_pages(peer, PEER_TABLES))})


def postgres_pair() -> dict[str, dict[str, Any]]:
    """alexdb and PostgresSaver, each in its own database."""
    from langgraph.checkpoint.postgres import PostgresSaver

    with throwaway_database("agent") as ours, throwaway_database("agent") as peer, psycopg.connect(
            peer, autocommit=True, prepare_threshold=0, row_factory=dict_row) as conn:
        db = alexdb.connect(ours, migrate=True)
        saver = PostgresSaver(conn)
        saver.setup()
        try:
            return run({"alexdb AlexdbSaver": (AlexdbSaver(user_id="bench", db=db), pg_bytes(ours, OURS_TABLES)),
                        "langgraph-checkpoint-postgres PostgresSaver": (saver, pg_bytes(peer, PEER_TABLES))})
        finally:
            db.close()


def dynamodb_pair(endpoint: str) -> dict[str, dict[str, Any]]:
    """alexdb and langgraph-checkpoint-aws's DynamoDBSaver on one DynamoDB Local."""
    from langgraph_checkpoint_aws import DynamoDBSaver  # type: ignore[import-untyped]

    client = boto3.client("dynamodb", endpoint_url=f"http://{endpoint}", region_name="us-east-1")
    prefix = f"agent{uuid.uuid4().hex[:6]}-"
    db = alexdb.connect(f"dynamodb://{endpoint}?region=us-east-1&prefix={prefix}", migrate=True)
    engine: Any = db.engine
    table = f"{prefix}peer-checkpoints"
    client.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"},
                                   {"AttributeName": "SK", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                                              {"AttributeName": "SK", "AttributeType": "S"}])
    client.get_waiter("table_exists").wait(TableName=table)
    saver = DynamoDBSaver(table_name=table, region_name="us-east-1", endpoint_url=f"http://{endpoint}")
    return run({"alexdb AlexdbSaver": (AlexdbSaver(user_id="bench", db=db),
                                       dynamodb_item_bytes(client, engine.config.chat_table, "CK")),
                "langgraph-checkpoint-aws DynamoDBSaver": (saver, dynamodb_item_bytes(client, table, None))})


def table(engine: str, results: dict[str, dict[str, Any]]) -> list[str]:
    """One engine's rows, then alexdb's ratios to the best peer."""
    rows = []
    for name, r in results.items():
        sizes = " | ".join(f"{r['sizes'][mark] / 1e6:.2f}" for mark in MARKS)
        rows.append(f"| {engine} | {name} | {r['step p50']:.2f} | {r['step p95']:.2f} | {sizes} | "
                    f"{r['first read']:.2f} | {r['read p50']:.2f} |")
    ours = results["alexdb AlexdbSaver"]
    peers = [r for name, r in results.items() if name != "alexdb AlexdbSaver"]
    best = {key: min(p[key] for p in peers) for key in ("step p50", "first read", "read p50")}
    best_size = min(p["sizes"][STEPS] for p in peers)
    growth = [ours["sizes"][b] - ours["sizes"][a] for a, b in itertools.pairwise(MARKS)]
    notes = [f"{engine}: step p50 alexdb / best peer = {ours['step p50'] / best['step p50']:.2f}, "
             f"bytes after {STEPS} steps = {ours['sizes'][STEPS] / best_size:.2f}, "
             f"read-latest p50 = {ours['read p50'] / best['read p50']:.2f} (goal: each at most 1.00; "
             f"the first read of a new checkpoint, a decode for every checkpointer: "
             f"{ours['first read'] / best['first read']:.2f}); "
             f"alexdb's growth per 50 steps {', '.join(f'{g / 1e6:.2f}' for g in growth)} MB "
             "(linear: about equal)"]
    return rows + [""] + [f"- {n}" for n in notes] + [""]


def main() -> None:
    """Run every pair and write the results."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    header = ["| engine | checkpointer | step p50 ms | step p95 ms | " + " | ".join(
        f"MB after {m}" for m in MARKS) + " | first read p50 ms | read latest p50 ms |",
              "|---" * (4 + len(MARKS) + 2) + "|"]
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as workdir:
        lines += table("SQLite", sqlite_pair(Path(workdir)))
    lines += table("PostgreSQL", postgres_pair())
    with dynamodb_local() as endpoint:
        lines += table("DynamoDB Local", dynamodb_pair(endpoint))
    rows = [line for line in lines if line.startswith("|")]
    notes = [line for line in lines if line.startswith("-")]
    body = "\n".join([f"{STEPS} agent steps (4 messages each: the message list reaches {4 * STEPS}); "
                      "each checkpointer on its own database of the engine, same process, same graph, the two "
                      "taking turns step by step (then read by read).", "", *header, *rows, "",
                      *notes])
    write_section("agent_memory", "python -m benchmarks.agent_memory", body)
    print(body)


if __name__ == "__main__":
    main()
