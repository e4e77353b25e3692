"""Pages of a DynamoDB Query, resumed at a position (the key of the last item returned)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, TypeVar

from alexdb.adapters.dynamodb.client import Dynamo
from alexdb.adapters.dynamodb.tables import TABLES
from alexdb.domain.errors import ValidationError
from alexdb.domain.paging import Bookmark

T = TypeVar("T")


def query_rows(dynamo: Dynamo, table: str, convert: Callable[[dict[str, Any]], T], size: int,
               after: Bookmark | None, table_key: tuple[str, ...] = ("PK", "SK"),
               **request: Any) -> tuple[list[T], Bookmark | None]:
    """Up to size items of a Query after a position. No filter expression is ever combined with Limit:
    the key condition selects.

    The query asks for one item more than the page: if it comes, the page's last item's key is the
    position, so a page that ends exactly at the data's end has none (no empty page after it).
    """
    start = None
    if after is not None:
        if not isinstance(after, dict) or not all(isinstance(v, str | int) for v in after.values()):
            raise ValidationError("cursor", after, "not a position of this list")
        start = after
    items: list[dict[str, Any]] = []
    while len(items) <= size:
        page, start = dynamo.query_page(table, size + 1 - len(items), start, **request)
        items += page
        if start is None:
            break
    if len(items) <= size:
        return [convert(item) for item in items], None
    items = items[:size]
    last = items[-1]
    names = _key_names(request, table_key)
    return [convert(item) for item in items], {name: _plain(last[name]) for name in names if name in last}


def sharded_rows(dynamo: Dynamo, table: str, convert: Callable[[dict[str, Any]], T], size: int,
                 after: Bookmark | None, index: str, partitions: Sequence[str]) -> tuple[list[T], Bookmark | None]:
    """Up to size items of a sharded index key in sort-key order after a position: the shards' pages
    (each up to size, read concurrently) merged. The position is the last sort key returned, so it holds
    whichever shard a later item lands in."""
    spec = INDEXES[index]
    if after is not None and not (isinstance(after, dict) and set(after) == {"after"}
                                  and isinstance(after["after"], str)):
        raise ValidationError("cursor", after, "not a position of this list")

    def shard_page(partition: str) -> tuple[list[dict[str, Any]], Bookmark | None]:
        condition, values, names = "#pk = :pk", {":pk": partition}, {"#pk": spec.hash_key}
        if after is not None:
            condition, values = condition + " AND #sk > :after", {**values, ":after": after["after"]}
            names["#sk"] = spec.range_key
        return query_rows(dynamo, table, lambda item: item, size, None, IndexName=index,
                          KeyConditionExpression=condition, ExpressionAttributeNames=names,
                          ExpressionAttributeValues=values)

    with ThreadPoolExecutor(max_workers=len(partitions)) as pool:
        pages = list(pool.map(shard_page, partitions))
    merged = sorted((item for items, _ in pages for item in items), key=lambda item: item[spec.range_key])
    more = len(merged) > size or any(position is not None for _, position in pages)
    page = merged[:size]
    return [convert(item) for item in page], {"after": page[-1][spec.range_key]} if more and page else None


def _plain(value: Any) -> str | int:
    # Number keys (timestamps) come back as Decimal; a bookmark holds them as int, as JSON cursors keep them.
    return int(value) if isinstance(value, Decimal) else value


def _key_names(request: dict[str, Any], table_key: tuple[str, ...]) -> tuple[str, ...]:
    """The attributes of a LastEvaluatedKey: the table's key plus the queried index's key."""
    index = request.get("IndexName")
    if index is None:
        return table_key
    spec = INDEXES[index]
    return (*table_key, *(name for name in (spec.hash_key, spec.range_key) if name not in table_key))


INDEXES = {index.name: index for table in TABLES for index in table.indexes}
