"""Column types that keep values exact and instants UTC on both SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from itertools import repeat
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Numeric, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

from alexdb.domain.instants import instant_text
from alexdb.domain.payloads import json_dumps, json_loads

__all__ = ["Document", "ExactDecimal", "UTCDateTime", "json_dumps", "json_loads"]


def _decimal_texts(values: Sequence[Any]) -> list[Any]:
    """ExactDecimal's text of each value (None stays None): map runs format in C, ten times a Python call."""
    try:
        return list(map(format, values, repeat("f")))
    except TypeError:  # a None among them
        return [None if value is None else format(value, "f") for value in values]


class ExactDecimal(TypeDecorator[Decimal]):
    """NUMERIC on PostgreSQL; canonical decimal text on SQLite, whose REAL would round 0.1 + 0.2."""

    impl = String(40)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(asdecimal=True))
        return dialect.type_descriptor(String(40))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        # Keep the value's own digits and scale ("100.10" stays "100.10", like NUMERIC).
        return format(value, "f")

    def column_processor(self, dialect: Dialect) -> Callable[[Sequence[Any]], list[Any]] | None:
        """process_bind_param for a whole column at a time (bulk.PreparedInsert), or None if it is a no-op."""
        return None if dialect.name == "postgresql" else _decimal_texts

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        return Decimal(value)


class UTCDateTime(TypeDecorator[datetime]):
    """timestamptz on PostgreSQL; canonical UTC text on SQLite ("2024-01-02T21:00:00.000000Z", instant_text).

    Fixed width makes text order time order, so SQLite compares and indexes instants as text; and
    parsing that text ourselves is several times cheaper than a generic DATETIME processor.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        return dialect.type_descriptor(String(27))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime reached the database; instants must be aware UTC")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else instant_text(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value)
        return value.astimezone(UTC)  # type: ignore[no-any-return]


def Document() -> TypeEngine[Any]:  # noqa: N802 - reads as a column type
    """JSONB on PostgreSQL, JSON text elsewhere; numbers round-trip as Decimal (see json_dumps/json_loads)."""
    return JSON().with_variant(JSONB(), "postgresql")
