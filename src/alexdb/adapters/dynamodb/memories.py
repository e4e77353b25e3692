"""Long-term memory on DynamoDB, in the conversation-memory table: MEM#<owner> / <namespace text> U+001E <key>.

One partition per owner, so a namespace prefix is one Query (begins_with on the sort key); items expire by
DynamoDB's TTL, and reads ignore any expired one it has not swept yet.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from alexdb.adapters.dynamodb.client import Dynamo
from alexdb.domain.instants import instant_text, to_instant
from alexdb.domain.memories import MemoryItem, namespace_of, namespace_text

KEY_MARK = "\x1e"  # between the namespace's text and the key


def _pk(owner: str) -> str:
    return f"MEM#{owner}"


def _sk(namespace: str, key: str) -> str:
    return f"{namespace}{KEY_MARK}{key}"


def _live(item: dict[str, Any], now: datetime) -> bool:
    return "expires_at" not in item or bool(item["expires_at"] > instant_text(now))


def _item(item: dict[str, Any]) -> MemoryItem:
    namespace, key = item["SK"].split(KEY_MARK, 1)
    ttl = item.get("ttl_seconds")
    return MemoryItem(namespace_of(namespace), key, json.loads(item["value"]), to_instant(item["created_at"]),
                      to_instant(item["updated_at"]),
                      to_instant(item["expires_at"]) if "expires_at" in item else None,
                      None if ttl is None else timedelta(seconds=float(ttl)),
                      json.loads(item["vectors"]) if "vectors" in item else {})


class DynamoMemories:
    """MemoryRecords on DynamoDB."""

    def __init__(self, dynamo: Dynamo, table: str) -> None:
        self._dynamo, self._table = dynamo, table

    def get(self, owner: str, namespace: str, key: str, now: datetime) -> MemoryItem | None:
        """One GetItem."""
        item = self._dynamo.get(self._table, {"PK": _pk(owner), "SK": _sk(namespace, key)})
        return None if item is None or not _live(item, now) else _item(item)

    def put(self, owner: str, item: MemoryItem, now: datetime) -> MemoryItem:
        """A PutItem, with the created_at of the live item it replaces (read first)."""
        sk = _sk(namespace_text(item.namespace), item.key)
        old = self._dynamo.get(self._table, {"PK": _pk(owner), "SK": sk})
        if old is not None and _live(old, now):
            item = MemoryItem(**{**item.__dict__, "created_at": to_instant(old["created_at"])})
        stored: dict[str, Any] = {"PK": _pk(owner), "SK": sk, "value": json.dumps(item.value, ensure_ascii=False),
                                  "created_at": instant_text(item.created_at),
                                  "updated_at": instant_text(item.updated_at)}
        if item.vectors:
            stored["vectors"] = json.dumps(item.vectors)
        if item.expires_at is not None and item.ttl is not None:
            stored.update(expires_at=instant_text(item.expires_at), ttl=int(item.expires_at.timestamp()) + 1,
                          ttl_seconds=Decimal(repr(item.ttl.total_seconds())))
        self._dynamo.put(self._table, stored)
        return item

    def delete(self, owner: str, namespace: str, key: str) -> None:
        """One DeleteItem."""
        self._dynamo.batch_write(self._table, deletes=[{"PK": _pk(owner), "SK": _sk(namespace, key)}])

    def under(self, owner: str, prefix: str, now: datetime) -> Iterator[MemoryItem]:
        """One Query of the owner's partition (paged as iterated), sorted by namespace and key."""
        condition, values = "PK = :pk", {":pk": _pk(owner)}
        if prefix:
            condition, values = "PK = :pk AND begins_with(SK, :prefix)", {":pk": _pk(owner), ":prefix": prefix}
        for item in self._dynamo.query(self._table, KeyConditionExpression=condition,
                                       ExpressionAttributeValues=values, ConsistentRead=True):
            if _live(item, now):
                yield _item(item)

    def namespaces(self, owner: str, now: datetime) -> list[str]:
        """The owner's keys only (one Query)."""
        found = set()
        for item in self._dynamo.query(self._table, KeyConditionExpression="PK = :pk", ConsistentRead=True,
                                       ExpressionAttributeValues={":pk": _pk(owner)},
                                       ProjectionExpression="SK, expires_at"):
            if _live(item, now):
                found.add(item["SK"].split(KEY_MARK, 1)[0])
        return sorted(found)

    def refresh(self, owner: str, items: Sequence[MemoryItem]) -> None:
        """One conditional UpdateItem each (an item deleted meanwhile is not brought back)."""
        for item in items:
            if item.expires_at is None:
                continue
            self._dynamo.update_if(
                self._table, {"PK": _pk(owner), "SK": _sk(namespace_text(item.namespace), item.key)},
                "SET expires_at = :exp, #ttl = :ttl", {"#ttl": "ttl"},
                {":exp": instant_text(item.expires_at), ":ttl": int(item.expires_at.timestamp()) + 1},
                "attribute_exists(PK)")

    def purge_expired(self, now: datetime) -> int:
        """Nothing to do: DynamoDB's TTL deletes expired items, and reads already ignore them."""
        return 0
