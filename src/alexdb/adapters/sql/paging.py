"""Keyset pagination for SQL lists: the cursor carries the sort key of the last row returned."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Column, Connection, Row, Select, bindparam, tuple_

from alexdb.domain.errors import ValidationError
from alexdb.domain.paging import Page, check_limit, decode_cursor, encode_cursor

T = TypeVar("T")


def _dump(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _load(column: Column[Any], value: Any) -> Any:
    column_type = column.type
    python_type = getattr(column_type, "impl", column_type).python_type
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is uuid.UUID:
        return uuid.UUID(value)
    return value


def keyset_page(
    connection: Connection,
    statement: Select[Any],
    keys: Sequence[Column[Any]],
    limit: int | None,
    cursor: str | None,
    convert: Callable[[Row[Any]], T],
    descending: bool = False,
) -> Page[T]:
    """Run statement ordered by keys, starting after the cursor, returning one page."""
    size = check_limit(limit)
    position = decode_cursor(cursor)
    if position is not None:
        try:
            values = zip(keys, position["k"], strict=True)
            after = [bindparam(None, _load(col, val), type_=col.type) for col, val in values]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError("cursor", cursor, "not a cursor of this list") from exc
        row_key = tuple_(*keys)
        statement = statement.where(row_key < tuple_(*after) if descending else row_key > tuple_(*after))
    order = [key.desc() if descending else key.asc() for key in keys]
    rows = connection.execute(statement.order_by(*order).limit(size + 1)).all()
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]._mapping
        next_cursor = encode_cursor({"k": [_dump(last[key]) for key in keys]})
    return Page(items=[convert(row) for row in rows], next_cursor=next_cursor)
