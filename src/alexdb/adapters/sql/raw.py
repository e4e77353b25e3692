"""Raw SELECTs for callers of the original Alex package (alexdb.compat): run read-only, typed as alexdb's columns.

The original's SQL casts its parameters (`:id::uuid`); its values are given here with those casts, bound
with the column types alexdb stores (a UUID is 32 hex digits on SQLite, uuid on PostgreSQL), and every
result column named like one of alexdb's is read back through that column's type. The transaction is
read-only on both engines, so no statement given here can change what alexdb's rules keep consistent.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator
from sqlalchemy import Integer, String, Uuid, bindparam, text
from sqlalchemy.types import TypeEngine

from alexdb.adapters.sql.engine import UnitOfWork
from alexdb.adapters.sql.schema import metadata
from alexdb.adapters.sql.types import Document, ExactDecimal, UTCDateTime
from alexdb.domain.instants import to_instant
from alexdb.domain.models import Record
from alexdb.domain.numbers import exact_decimal
from alexdb.domain.validate import build, parse_id


def _column_types() -> dict[str, TypeEngine[Any]]:
    found: dict[str, TypeEngine[Any]] = {}
    for table in metadata.sorted_tables:
        for column in table.columns:
            found.setdefault(column.name, column.type)
    return found


COLUMN_TYPES = _column_types()

CAST_TYPES: dict[str, TypeEngine[Any]] = {
    "uuid": Uuid(), "numeric": ExactDecimal(), "decimal": ExactDecimal(), "jsonb": Document(), "json": Document(),
    "timestamp": UTCDateTime(), "timestamptz": UTCDateTime(), "date": UTCDateTime(), "int": Integer(),
    "integer": Integer(), "bigint": Integer(), "text": String(), "varchar": String(),
}


def read_rows(uow: UnitOfWork, statement: str, values: Mapping[str, Any],
              casts: Mapping[str, str]) -> tuple[list[str], list[dict[str, Any]]]:
    """The column names and rows of one read-only statement with named parameters (:name)."""
    clause = text(statement).bindparams(*(
        bindparam(name, _cast(name, value, casts.get(name, "")), type_=CAST_TYPES.get(casts.get(name, "")))
        for name, value in values.items()))
    with uow.begin(read_only=True) as conn:
        result = conn.execute(clause)
        names = list(result.keys())
        readers = [_reader(name, conn.dialect) for name in names]
        rows = [{name: read(value) for name, read, value in zip(names, readers, raw, strict=True)} for raw in result]
    return names, rows


def _cast(name: str, value: Any, cast: str) -> Any:
    """value as the cast's column type takes it (ValidationError naming the parameter if it cannot be)."""
    if value is None or not isinstance(value, str):
        return value
    if cast == "uuid":
        return parse_id(name, value)
    if cast in ("numeric", "decimal"):
        return build(_Number, {"value": value}).value
    if cast in ("timestamp", "timestamptz", "date"):
        return to_instant(value, name)
    return value


class _Number(Record):
    value: Annotated[Decimal, BeforeValidator(exact_decimal)]


def _reader(name: str, dialect: Any) -> Any:
    kind = COLUMN_TYPES.get(name)
    processor = None if kind is None else kind.result_processor(dialect, None)
    return processor or (lambda value: value)
