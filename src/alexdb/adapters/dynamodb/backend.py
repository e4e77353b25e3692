"""The DynamoDB backend: one client, the tables, and the primitives of every store."""

from __future__ import annotations

from typing import Any

from alexdb.adapters.dynamodb import keys, provisioning, upgrade
from alexdb.adapters.dynamodb.accounts import DynamoAccounts
from alexdb.adapters.dynamodb.chat import DynamoChat
from alexdb.adapters.dynamodb.checkpoints import DynamoCheckpoints
from alexdb.adapters.dynamodb.client import Dynamo, Meter, RetryPolicy
from alexdb.adapters.dynamodb.config import DynamoConfig
from alexdb.adapters.dynamodb.cursors import DynamoCursors
from alexdb.adapters.dynamodb.deliveries import DynamoRecorder
from alexdb.adapters.dynamodb.hot import HotInstruments
from alexdb.adapters.dynamodb.instruments import DynamoInstruments
from alexdb.adapters.dynamodb.jobs import DynamoJobs
from alexdb.adapters.dynamodb.ledger import CASH_HEAD, SPLITS, DynamoCash, DynamoSplits
from alexdb.adapters.dynamodb.memories import DynamoMemories
from alexdb.adapters.dynamodb.positions import DynamoPositionStore
from alexdb.adapters.dynamodb.speed import DynamoAlerts, DynamoNotifications
from alexdb.adapters.dynamodb.tables import RETIRED_INDEXES, TABLES
from alexdb.adapters.dynamodb.ticks import DynamoTicks
from alexdb.adapters.dynamodb.users import DynamoUsers
from alexdb.domain.errors import SchemaError


class DynamoBackend:
    """Amazon DynamoDB (or DynamoDB Local) under alexdb: the stores' primitives and the tables' administration."""

    backend = "dynamodb"

    def __init__(self, url: str, client: Any = None, retry: RetryPolicy | None = None,
                 create_tables: bool = False) -> None:
        self.url = url
        self.config = DynamoConfig.from_url(url)
        self.meter = Meter()
        retry = retry or RetryPolicy()
        self.dynamo = Dynamo(client or self.config.client(retry), retry, self.meter)
        users, instruments = self.config.users_table, self.config.instruments_table
        if create_tables:
            self.create_tables()
        self.accounts = DynamoAccounts(self.dynamo, users)
        self.users = DynamoUsers(self.dynamo, users, self.accounts)
        hot = HotInstruments(self.dynamo, instruments, self.config.price_cache_seconds,
                             self.config.meta_cache_seconds)
        self.instruments = DynamoInstruments(self.dynamo, instruments, hot)
        self.jobs = DynamoJobs(self.dynamo, users)
        self.splits = DynamoSplits(self.dynamo, instruments, users, hot)
        self.cash = DynamoCash(self.dynamo, users)
        self.positions = DynamoPositionStore(self.dynamo, users, instruments, self.splits, hot)
        self.chat = DynamoChat(self.dynamo, self.config.chat_table)
        self.checkpoints = DynamoCheckpoints(self.dynamo, self.config.chat_table)
        self.memories = DynamoMemories(self.dynamo, self.config.chat_table)
        tables = self.config.table_names()
        recorder = DynamoRecorder(self.dynamo, tables["alerts"], tables["notifications"])
        self.alerts = DynamoAlerts(self.dynamo, tables["alerts"], recorder)
        self.ticks = DynamoTicks(self.dynamo, tables["ticks"], self.config.tick_archive(retry))
        self.notifications = DynamoNotifications(self.dynamo, tables["notifications"], recorder)
        self.cursors = DynamoCursors(self.dynamo, instruments, recorder)

    def create_tables(self, pitr: bool = True) -> list[str]:
        """Create every table that is missing (idempotent)."""
        return provisioning.create_tables(self.dynamo.client, self.config.table_names(), pitr=pitr)

    def delete_tables(self) -> list[str]:
        """Delete every table."""
        return provisioning.delete_tables(self.dynamo.client, self.config.table_names())

    def describe(self) -> list[dict[str, Any]]:
        """What the tables look like."""
        return provisioning.describe_tables(self.dynamo.client, self.config.table_names())

    def counts(self) -> dict[str, int]:
        """Items per kind, by scanning the tables (administration and tests only: never a request path)."""
        counts = dict.fromkeys(("users", "instruments", "price_history", "accounts", "positions",
                                "position_history", "cash_movements", "splits", "jobs"), 0)
        for item in self.dynamo.scan(self.config.users_table, ProjectionExpression="PK, SK"):
            pk, sk = item["PK"], item["SK"]
            kind = ("users" if sk == keys.META and pk.startswith("USER#") else
                    "accounts" if sk.startswith("ACCOUNT#") else
                    "positions" if sk.startswith("CURRENT#") else
                    "position_history" if sk.startswith("HISTORY#") else
                    "cash_movements" if sk.startswith("CASH#") and sk != CASH_HEAD else
                    "jobs" if sk.startswith("JOB#") else None)
            if kind:
                counts[kind] += 1
        for item in self.dynamo.scan(self.config.instruments_table, ProjectionExpression="PK, SK, splits"):
            if item["SK"] == keys.INSTRUMENT_META:
                counts["instruments"] += 1
            elif item["SK"] == SPLITS:
                counts["splits"] += len(item["splits"])
            elif "#" not in item["PK"] and item["SK"][:1].isdigit():  # a point, not a close, cursor or PRICE
                counts["price_history"] += 1
        memory = ("chat_sessions", "chat_messages", "checkpoint_threads", "checkpoints", "checkpoint_blobs",
                  "checkpoint_writes", "checkpoint_chunks", "memory_items")
        counts.update(dict.fromkeys(memory, 0))
        for item in self.dynamo.scan(self.config.chat_table, ProjectionExpression="PK, SK"):
            kind = _memory_kind(item["PK"], item["SK"])
            if kind:
                counts[kind] += 1
        names = self.config.table_names()
        for kind, role in (("alert_configurations", "alerts"), ("realtime_ticks", "ticks"),
                           ("alert_notifications_history", "notifications")):
            counts[kind] = self.dynamo.count(names[role])
        return counts

    @property
    def memory(self) -> bool:
        """DynamoDB keeps its data."""
        return False

    def migrate(self) -> str | None:
        """Create missing tables, add missing indexes, and bring existing data to the ledger's design (once)."""
        self.create_tables()
        names = self.config.table_names()
        for spec in TABLES:
            upgrade.add_indexes(self.dynamo, spec, names[spec.role])
        upgrade.upgrade_data(self.dynamo, self.config.users_table)
        upgrade.upgrade_alerts(self.dynamo, self.config.users_table, names["alerts"])
        upgrade.upgrade_closes(self.dynamo, self.config.users_table, self.config.instruments_table)
        upgrade.upgrade_index_keys(self.dynamo, self.config.users_table)
        upgrade.upgrade_outbox(self.dynamo, self.config.users_table, names["notifications"])
        for role, retired in RETIRED_INDEXES.items():
            upgrade.retire_indexes(self.dynamo, names[role], retired)
        return self.schema_version()

    def drop_all(self) -> None:
        """Delete every table with everything in it (for reset)."""
        self.delete_tables()

    def schema_version(self) -> str | None:
        """DynamoDB tables have no migrations: the version is the table design this package creates."""
        return upgrade.VERSION

    def check_schema(self) -> None:
        """SchemaError unless every table exists."""

        missing = [name for name in self.config.table_names().values() if self.dynamo.describe(name) is None]
        if missing:
            raise SchemaError(f"missing tables {missing}: run `alexdb dynamodb create-tables`")
        names = self.config.table_names()
        behind = [index for spec in TABLES for index in upgrade.missing_indexes(self.dynamo, spec, names[spec.role])]
        if behind:
            raise SchemaError(f"missing indexes {behind}: run `alexdb migrate` to add them and upgrade the data")

    def close(self) -> None:
        """Nothing to release: boto3 clients hold no server-side state."""

    def __repr__(self) -> str:
        return f"<alexdb dynamodb {self.config.users_table} {self.config.instruments_table} {self.config.region}>"


def _memory_kind(pk: str, sk: str) -> str | None:
    """What an item of the conversation-memory table is, counted once per record (first parts only)."""
    if pk.startswith("SESSION#"):
        return "chat_sessions" if sk == keys.META else "chat_messages" if sk.endswith("#000") else None
    if pk.startswith("MEM#"):
        return "memory_items"
    if pk.startswith("CKOWNER#"):
        return "checkpoint_threads"
    if pk.startswith("CKTHREAD#"):
        kind = {"C": "checkpoints", "B": "checkpoint_blobs", "W": "checkpoint_writes", "K": "checkpoint_chunks"}
        return kind.get(sk[:1]) if sk.startswith("K") or sk.endswith("\x1f000") else None
    return None
