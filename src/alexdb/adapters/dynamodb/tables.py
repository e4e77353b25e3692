"""The two tables of the DynamoDB design (seeds 000/001 plus the indexes every access pattern needs).

These definitions are the single source of truth: create-tables builds them and a test checks that the
Terraform module declares the same keys, indexes and TTL attribute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TTL_ATTRIBUTE = "ttl"


@dataclass(frozen=True)
class Index:
    """A secondary index: its name, key attributes and whether it is local (same partition key)."""

    name: str
    hash_key: str
    range_key: str
    local: bool = False
    # None projects every attribute; otherwise the keys and these attributes only (() is KEYS_ONLY).
    projection: tuple[str, ...] | None = None

    def projection_request(self) -> dict[str, Any]:
        """The Projection of a CreateTable or UpdateTable request."""
        if self.projection is None:
            return {"ProjectionType": "ALL"}
        if not self.projection:
            return {"ProjectionType": "KEYS_ONLY"}
        return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(self.projection)}


@dataclass(frozen=True)
class TableSpec:
    """One table: its key, its indexes, and its role. Key attributes are strings unless typed otherwise."""

    role: str
    default_name: str
    hash_key: str
    range_key: str | None
    indexes: tuple[Index, ...]
    types: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> tuple[str, ...]:
        """The table's own key attributes."""
        return (self.hash_key,) if self.range_key is None else (self.hash_key, self.range_key)

    def attributes(self) -> list[str]:
        """Every key attribute of the table and its indexes."""
        names = list(self.key)
        for index in self.indexes:
            names += [n for n in (index.hash_key, index.range_key) if n not in names]
        return names

    def attribute_type(self, name: str) -> str:
        """S or N."""
        return dict(self.types).get(name, "S")

    def create_request(self, name: str) -> dict[str, Any]:
        """The CreateTable request for this table under name (on-demand billing)."""
        request: dict[str, Any] = {
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": attribute, "KeyType": kind}
                          for attribute, kind in zip(self.key, ("HASH", "RANGE")[:len(self.key)], strict=True)],
            "AttributeDefinitions": [{"AttributeName": a, "AttributeType": self.attribute_type(a)}
                                     for a in self.attributes()],
        }
        for kind, local in (("GlobalSecondaryIndexes", False), ("LocalSecondaryIndexes", True)):
            indexes = [
                {"IndexName": i.name, "Projection": i.projection_request(),
                 "KeySchema": [{"AttributeName": i.hash_key, "KeyType": "HASH"},
                               {"AttributeName": i.range_key, "KeyType": "RANGE"}]}
                for i in self.indexes if i.local is local
            ]
            if indexes:
                request[kind] = indexes
        return request


# What the job indexes copy: everything but the agents' result payloads and the count of attempts, and a
# flag saying whether the copy lacks anything (the job has results, or was started more than once): only
# those jobs are read again from the table to be listed whole.
JOB_SUMMARY = ("id", "clerk_user_id", "job_type", "status", "request_payload", "error_message", "created_at",
               "started_at", "completed_at", "updated_at", "has_results")

USERS = TableSpec(
    role="users", default_name="alex-users-data", hash_key="PK", range_key="SK",
    indexes=(
        # The user directory, in 16 shards (DIRPK USERS#<nn>, DIRSK <id>): no key holds every user.
        Index("Directory", "DIRPK", "DIRSK"),
        # The work queue: jobs of a status in creation order, in 16 shards (QPK JOBS#<status>#<nn>,
        # QSK <created>#<uuid>). Without the agents' result payloads: a status change writes a small copy.
        Index("JobQueue", "QPK", "QSK", projection=JOB_SUMMARY),
        # A user's jobs of one status, newest first (UJPK USER#<id>#<status>, UJSK <created>#<uuid>).
        Index("UserJobs", "UJPK", "UJSK", projection=JOB_SUMMARY),
        # An account's position history in time order across symbols (HISTORY items only).
        Index("LSI1", "PK", "LSI1SK", local=True),
        # Who holds a symbol, by last change (CURRENT items only): a split checks no change is after it.
        Index("HoldersIndex", "GSI3PK", "GSI3SK"),
    ),
)
# Indexes of earlier designs that `alexdb migrate` deletes once the data no longer needs them.
RETIRED_INDEXES = {"users": ("GSI1", "GSI2"), "alerts": ("SymbolIndex",)}

INSTRUMENTS = TableSpec(
    role="instruments", default_name="alex-instruments", hash_key="PK", range_key="SK",
    indexes=(
        # Sparse indexes over META items: all instruments by symbol, and by type then symbol.
        Index("GSI1", "GSI1PK", "GSI1SK"),
        Index("GSI2", "GSI2PK", "GSI2SK"),
    ),
)

CHAT = TableSpec(
    role="chat", default_name="chat_sessions", hash_key="PK", range_key="SK",
    indexes=(
        # Seed 003: a user's sessions by recency (GSI1PK USER#<id>, GSI1SK last_accessed), METADATA items only.
        Index("UserSessionsIndex", "GSI1PK", "GSI1SK"),
    ),
)

# The speed layer (seed 002).
ALERT_SETTINGS = ("condition_type", "condition", "notification_method", "enabled", "cooldown_seconds",
                  "created_at", "updated_at", "armed_at")
ALERTS = TableSpec(
    role="alerts", default_name="alert_configurations", hash_key="alert_id", range_key=None,
    indexes=(
        # An ingestor's load of a symbol's alerts: the settings only, so recording a trigger (last_triggered,
        # trigger_count) writes no copy here; a burst of 20,000 triggers on SPY is no burst on key SPY.
        Index("AlertsBySymbol", "symbol", "user_id", projection=ALERT_SETTINGS),
        Index("UserIndex", "user_id", "created_at"),
    ),
)
TICKS = TableSpec(
    role="ticks", default_name="realtime_ticks", hash_key="symbol", range_key="timestamp", indexes=(),
    types=(("timestamp", "N"),),
)
# triggered_at_id is "<triggered_at>#<notification_id>": two notifications in one millisecond never collide.
NOTIFICATIONS = TableSpec(
    role="notifications", default_name="alert_notifications_history", hash_key="user_id",
    range_key="triggered_at_id",
    # The delivery outbox: sparse, only deliveries not yet settled carry outbox_shard (OUTBOX#<nnn>, by id).
    indexes=(Index("Outbox", "outbox_shard", "next_attempt_at", projection=()),),
)

TABLES = (USERS, INSTRUMENTS, CHAT, ALERTS, TICKS, NOTIFICATIONS)

# Every DynamoDB action the package calls at run time (ConditionCheckItem: the checks inside
# TransactWriteItems; TransactWriteItems itself is authorised per action it contains). The Lambda
# role in infra/terraform grants exactly these.
DATA_ACTIONS = frozenset({
    "BatchGetItem", "BatchWriteItem", "ConditionCheckItem", "DeleteItem", "DescribeTable", "GetItem", "PutItem",
    "Query", "Scan", "UpdateItem",
})
