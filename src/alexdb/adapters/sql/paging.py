"""Keyset pagination for SQL lists: a position is the sort key of the last row returned."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Column, Connection, Row, Select, bindparam, tuple_

from alexdb.domain.errors import ValidationError
from alexdb.domain.paging import Bookmark

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


def between(statement: Select[Any], column: Any, start: datetime | None, end: datetime | None) -> Select[Any]:
    """statement limited to rows whose column lies between start and end inclusive (None: unbounded)."""
    if start is not None:
        statement = statement.where(column >= start)
    if end is not None:
        statement = statement.where(column <= end)
    return statement


def keyset_rows(
    connection: Connection,
    statement: Select[Any],
    keys: Sequence[Column[Any]],
    size: int,
    after: Bookmark | None,
    convert: Callable[[Row[Any]], T],
    descending: bool = False,
) -> tuple[list[T], Bookmark | None]:
    """Up to size rows of statement ordered by keys, after a position; and the position of the last one.

    One row more than the page is asked for: if it comes there is a next page, so a page that ends
    exactly at the end of the data has no position after it (no empty last page).
    """
    if after is not None:
        try:
            values = zip(keys, after, strict=True)
            bound = [bindparam(None, _load(col, val), type_=col.type) for col, val in values]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError("cursor", after, "not a position of this list") from exc
        row_key = tuple_(*keys)
        statement = statement.where(row_key < tuple_(*bound) if descending else row_key > tuple_(*bound))
    order = [key.desc() if descending else key.asc() for key in keys]
    rows = connection.execute(statement.order_by(*order).limit(size + 1)).all()
    if len(rows) <= size:
        return [convert(row) for row in rows], None
    rows = rows[:size]
    last = rows[-1]._mapping
    return [convert(row) for row in rows], [_dump(last[key]) for key in keys]
