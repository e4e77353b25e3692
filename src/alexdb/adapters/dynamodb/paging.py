"""Pages of a DynamoDB Query behind alexdb's opaque cursors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from alexdb.adapters.dynamodb.client import Dynamo
from alexdb.adapters.dynamodb.tables import TABLES
from alexdb.domain.errors import ValidationError
from alexdb.domain.paging import Page, check_limit, decode_cursor, encode_cursor

T = TypeVar("T")


def query_page(dynamo: Dynamo, table: str, convert: Callable[[dict[str, Any]], T], limit: int | None,
               cursor: str | None, table_key: tuple[str, ...] = ("PK", "SK"), **request: Any) -> Page[T]:
    """One page of a Query. No filter expression is ever combined with Limit: the key condition selects.

    The query asks for one item more than the page: if it comes, the page's last item's key is the
    cursor, so a page that ends exactly at the data's end has no cursor (no empty page after it).
    """
    size = check_limit(limit)
    position = decode_cursor(cursor)
    start = None
    if position is not None:
        start = position.get("k")
        if not isinstance(start, dict) or not all(isinstance(v, str | int) for v in start.values()):
            raise ValidationError("cursor", cursor, "not a cursor of this list")
    items: list[dict[str, Any]] = []
    while len(items) <= size:
        page, start = dynamo.query_page(table, size + 1 - len(items), start, **request)
        items += page
        if start is None:
            break
    next_cursor = None
    if len(items) > size:
        items = items[:size]
        last = items[-1]
        names = _key_names(request, table_key)
        next_cursor = encode_cursor({"k": {name: last[name] for name in names if name in last}})
    return Page(items=[convert(item) for item in items], next_cursor=next_cursor)


def _key_names(request: dict[str, Any], table_key: tuple[str, ...]) -> tuple[str, ...]:
    """The attributes of a LastEvaluatedKey: the table's key plus the queried index's key."""
    index = request.get("IndexName")
    if index is None:
        return table_key
    spec = INDEXES[index]
    return (*table_key, *(name for name in (spec.hash_key, spec.range_key) if name not in table_key))


INDEXES = {index.name: index for table in TABLES for index in table.indexes}
