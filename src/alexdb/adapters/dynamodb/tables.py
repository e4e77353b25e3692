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
                {"IndexName": i.name, "Projection": {"ProjectionType": "ALL"},
                 "KeySchema": [{"AttributeName": i.hash_key, "KeyType": "HASH"},
                               {"AttributeName": i.range_key, "KeyType": "RANGE"}]}
                for i in self.indexes if i.local is local
            ]
            if indexes:
                request[kind] = indexes
        return request


USERS = TableSpec(
    role="users", default_name="alex-users-data", hash_key="PK", range_key="SK",
    indexes=(
        # Seed 001: jobs of a status, then by user and time (GSI1SK USER#<id>#<created>).
        Index("GSI1", "GSI1PK", "GSI1SK"),
        # Jobs of a status in creation order (the work queue), and the user directory.
        Index("GSI2", "GSI2PK", "GSI2SK"),
        # An account's position history in time order across symbols (HISTORY items only).
        Index("LSI1", "PK", "LSI1SK", local=True),
        # Who holds a symbol, by last change (CURRENT items only): a split checks no change is after it.
        Index("HoldersIndex", "GSI3PK", "GSI3SK"),
    ),
)

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
ALERTS = TableSpec(
    role="alerts", default_name="alert_configurations", hash_key="alert_id", range_key=None,
    indexes=(Index("SymbolIndex", "symbol", "user_id"), Index("UserIndex", "user_id", "created_at")),
)
TICKS = TableSpec(
    role="ticks", default_name="realtime_ticks", hash_key="symbol", range_key="timestamp", indexes=(),
    types=(("timestamp", "N"),),
)
# triggered_at_id is "<triggered_at>#<notification_id>": two notifications in one millisecond never collide.
NOTIFICATIONS = TableSpec(
    role="notifications", default_name="alert_notifications_history", hash_key="user_id",
    range_key="triggered_at_id", indexes=(),
)

TABLES = (USERS, INSTRUMENTS, CHAT, ALERTS, TICKS, NOTIFICATIONS)

# Every DynamoDB action the package calls at run time (ConditionCheckItem: the checks inside
# TransactWriteItems; TransactWriteItems itself is authorised per action it contains). The Lambda
# role in infra/terraform grants exactly these.
DATA_ACTIONS = frozenset({
    "BatchGetItem", "BatchWriteItem", "ConditionCheckItem", "DeleteItem", "DescribeTable", "GetItem", "PutItem",
    "Query", "Scan", "UpdateItem",
})
