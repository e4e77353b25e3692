"""Bulk reads that skip SQLAlchemy's per-row machinery (for streams of 10^5 rows, it triples the cost)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, Dialect, Select, String, func, type_coerce
from sqlalchemy.pool import PoolProxiedConnection

from alexdb.ports import Columns

Transaction = Connection | PoolProxiedConnection  # a SQLAlchemy Connection, or UnitOfWork.driver's connection


def instant_text_column(conn: Connection, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A timestamp column as canonical UTC text (domain.instants.instant_text), rendered by the database.

    SQLite already stores exactly that text; PostgreSQL formats it server-side, cheaper than in Python.
    """
    if conn.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    return type_coerce(column, String)


def text_instant_columns(conn: Connection, statement: Select[Any]) -> Columns:
    """A three-column SELECT (key, instant text, number) as parallel columns, numbers as exact Decimals.

    Splitting and converting whole columns runs in C (map, itemgetter) instead of a bytecode loop per row.
    """
    keys, instants, numbers = numeric_columns(conn, statement, 1)
    return keys, instants, numbers[0]


def numeric_columns(conn: Connection, statement: Select[Any],
                    count: int) -> tuple[list[Any], list[str], list[list[Decimal]]]:
    """A SELECT of (key, instant text, count numbers) as parallel columns, numbers as exact Decimals."""
    rows = raw_rows(conn, statement)
    keys = list(map(itemgetter(0), rows))
    instants = list(map(itemgetter(1), rows))
    return keys, instants, [list(map(Decimal, map(itemgetter(2 + n), rows))) for n in range(count)]


def _column_converter(kind: Any, dialect: Dialect) -> Callable[[Sequence[Any]], Sequence[Any]] | None:
    """What turns a column of values into what the driver takes: the type's own whole-column processor
    (types.ExactDecimal's), else its bind processor mapped over the column, else nothing."""
    whole = getattr(kind, "column_processor", None)
    if whole is not None:
        converter: Callable[[Sequence[Any]], Sequence[Any]] | None = whole(dialect)
        return converter
    processor = kind.dialect_impl(dialect).bind_processor(dialect)
    return None if processor is None else partial(_mapped, processor)


def _mapped(processor: Callable[[Any], Any], values: Sequence[Any]) -> list[Any]:
    return list(map(processor, values))


@dataclass(frozen=True)
class PreparedInsert:
    """A Core INSERT compiled once for a dialect, run on the DBAPI cursor for many rows given by column.

    Each column goes through its bind processor as SQLAlchemy would do, but whole columns at a time (map
    and zip run in C) instead of SQLAlchemy's per-row parameter machinery, which costs three times the
    driver's own work; compiling once saves a millisecond a batch more.
    """

    sql: str
    positional: bool
    names: list[str]
    columns: list[tuple[str, Any]]  # (column key, column converter or None), in parameter order

    @classmethod
    def compile(cls, dialect: Dialect, statement: Any, keys: Sequence[str]) -> PreparedInsert:
        """statement compiled for dialect, with parameters for the column keys."""
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        names = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
        columns = [(compiled.binds[name].key, _column_converter(compiled.binds[name].type, dialect))
                   for name in names]
        return cls(str(compiled), compiled.positional, names, columns)

    def run(self, conn: Connection, columns: Mapping[str, Sequence[Any]]) -> None:
        """Insert the rows (every column the same length) in conn's transaction."""
        converted = [convert(columns[key]) if convert else columns[key] for key, convert in self.columns]
        if not converted or not converted[0]:
            return
        # Rows made as the driver takes them, not a list of them all: 10^4 live tuples at once would only
        # feed the garbage collector, which then costs more than the insert.
        arguments: Iterator[Any] = zip(*converted, strict=True)
        if not self.positional:
            arguments = (dict(zip(self.names, row, strict=True)) for row in arguments)
        cursor = conn.connection.cursor()
        try:
            # PEP 249 types a sequence; sqlite3 and psycopg both take any iterable of rows.
            cursor.executemany(self.sql, cast("Sequence[Any]", arguments))
        finally:
            cursor.close()


@dataclass(frozen=True)
class PreparedStatement:
    """A Core statement compiled once for a dialect and run on the DBAPI cursor with named parameters.

    For the hottest single-row writes (a chat append): SQLAlchemy's per-call statement building, cache
    key and parameter machinery cost three times the SQL itself. Parameters still go through their
    types' bind processors, so values are stored exactly as SQLAlchemy would store them.
    """

    sql: str
    positional: bool
    names: list[str]
    # (parameter key or None for a value fixed in the statement, that value, bind processor or None)
    keys: list[tuple[str | None, Any, Any]]

    @classmethod
    def compile(cls, dialect: Dialect, statement: Any) -> PreparedStatement:
        """statement compiled for dialect; its named bindparams become the run() parameters by key."""
        # A LIMIT is a literal-execute parameter: rendered into the text, as it is fixed in the statement.
        compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        # The names as rendered in the SQL: compiled.binds also holds anonymous binds under internal keys
        # that no statement text names (psycopg ignores extra keys; the Data API refuses them).
        rendered = {name: bind for bind, name in compiled.bind_names.items()}
        names = list(compiled.positiontup) if compiled.positional else list(rendered)
        keys = []
        for name in names:
            bind = rendered[name]
            # Anonymous binds (the 1 of "last_seq + 1") carry their own value.
            keys.append((None if bind.unique else bind.key, bind.value,
                         bind.type.dialect_impl(dialect).bind_processor(dialect)))
        return cls(str(compiled), compiled.positional, names, keys)

    def _arguments(self, params: Mapping[str, Any]) -> Any:
        values = []
        for key, fixed, processor in self.keys:
            value = fixed if key is None else params[key]
            values.append(processor(value) if processor else value)
        return tuple(values) if self.positional else dict(zip(self.names, values, strict=True))

    def run(self, conn: Transaction, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Execute in conn's transaction; the rows it returns, as driver tuples."""
        cursor = _cursor(conn)
        try:
            cursor.execute(self.sql, self._arguments(params))
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            cursor.close()

    def run_many(self, conn: Transaction, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute once per parameter set, in one driver call (executemany), in conn's transaction."""
        if not rows:
            return
        cursor = _cursor(conn)
        try:
            cursor.executemany(self.sql, [self._arguments(params) for params in rows])
        finally:
            cursor.close()


def raw_rows(conn: Connection, statement: Select[Any]) -> list[tuple[Any, ...]]:
    """Run a Core SELECT on the DBAPI cursor of conn's transaction; rows come back as driver tuples.

    Parameters still go through each bind's type (so UUIDs and instants are stored-form); results do
    not, so the caller converts the columns it asked for.
    """
    dialect = conn.dialect
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    processed: dict[str, Any] = {}
    for name, value in params.items():
        bind = compiled.binds.get(name)
        processor = None if bind is None else bind.type.dialect_impl(dialect).bind_processor(dialect)
        processed[name] = processor(value) if processor else value
    arguments: Any = (
        tuple(processed[name] for name in compiled.positiontup or ()) if compiled.positional else processed
    )
    cursor = conn.connection.cursor()
    try:
        cursor.execute(str(compiled), arguments)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _cursor(conn: Transaction) -> Any:
    """A driver cursor in conn's transaction (a SQLAlchemy Connection, or UnitOfWork.driver's connection)."""
    return conn.connection.cursor() if isinstance(conn, Connection) else conn.cursor()
