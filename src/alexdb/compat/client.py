"""db.client: the original package's Data API client surface, routed to alexdb.

execute/query take the original's SQL and Data API parameters; insert/update/delete its generic row
calls. Writes to the five Alex tables go through their services (statements.py says which shapes);
SELECTs run read-only on SQLite and PostgreSQL. DynamoDB has no SQL: a SELECT there is refused with the
table method to call instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from alexdb.bootstrap import connect
from alexdb.compat.holdings import Positions
from alexdb.compat.jobs import Jobs
from alexdb.compat.portfolio import Accounts, Instruments, Users
from alexdb.compat.statements import Statement, casts, conditions, decode, is_read, parse_write
from alexdb.compat.values import cell, exact, row
from alexdb.domain.errors import UnsupportedError, ValidationError
from alexdb.ports import RawReader

if TYPE_CHECKING:
    from alexdb.compat.tables import Table
    from alexdb.database import Database as Store

INSTEAD_OF_SQL = ("the table methods: db.users.find_by_clerk_id, db.accounts.find_by_user, "
                  "db.positions.find_by_account, db.instruments.find_all, db.jobs.find_by_user")


def field(value: Any) -> dict[str, Any]:
    """One value as a Data API field ({'stringValue': ...}, {'longValue': ...}, {'isNull': True}, ...)."""
    shaped = cell(value)
    if shaped is None:
        return {"isNull": True}
    if isinstance(shaped, bool):
        return {"booleanValue": shaped}
    if isinstance(shaped, int):
        return {"longValue": shaped}
    if isinstance(shaped, float):
        return {"doubleValue": shaped}
    if isinstance(shaped, bytes):
        return {"blobValue": shaped}
    if isinstance(shaped, dict | list):
        return {"stringValue": json.dumps(shaped)}
    return {"stringValue": str(shaped)}


class DynamoTable:
    """A DynamoDB table as the DynamoDB port's scripts read it: its name and table_status."""

    def __init__(self, store: Store, name: str) -> None:
        self._store, self.name = store, name

    @property
    def table_status(self) -> str:
        """ACTIVE once the table is ready."""
        described = self._store.engine.dynamo.describe(self.name)  # type: ignore[attr-defined]
        return "MISSING" if described is None else str(described["TableStatus"])


class DataAPIClient:
    """The original client's calls over an alexdb database: url, else $ALEXDB_URL, else the SQLite file."""

    def __init__(self, url: str | None = None, *, store: Store | None = None) -> None:
        self._store = store if store is not None else connect(url)
        self.tables: dict[str, Table] = {table.table_name: table for table in (
            Users(self, self._store), Instruments(self, self._store), Accounts(self, self._store),
            Positions(self, self._store), Jobs(self, self._store))}

    @property
    def store(self) -> Store:
        """The alexdb database underneath."""
        return self._store

    def execute(self, sql: str, parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Run one statement; the Data API's response (columnMetadata, records, numberOfRecordsUpdated)."""
        values = decode(parameters)
        if is_read(sql):
            names, rows = self._read(sql, values)
            return {"columnMetadata": [{"name": name} for name in names],
                    "records": [[field(found[name]) for name in names] for found in rows],
                    "numberOfRecordsUpdated": 0}
        count, returned = self._write(parse_write(sql, values))
        response: dict[str, Any] = {"numberOfRecordsUpdated": count}
        if returned is not None:
            response["records"] = [[field(returned)]]
        return response

    def query(self, sql: str, parameters: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """Rows of a statement as dicts by column name (a write with RETURNING gives its returned column)."""
        values = decode(parameters)
        if is_read(sql):
            return [row(found) for found in self._read(sql, values)[1]]
        statement = parse_write(sql, values)
        _, returned = self._write(statement)
        if statement.returning is None or returned is None:
            return []
        return [{statement.returning: cell(returned)}]

    def query_one(self, sql: str, parameters: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
        """The first row of query, or None."""
        rows = self.query(sql, parameters)
        return rows[0] if rows else None

    def insert(self, table: str, data: Mapping[str, Any], returning: str | None = None) -> Any:
        """Insert one row through its table's service; the returning column's value (else None)."""
        return self._write(Statement("insert", table, data=dict(data), returning=returning))[1]

    def update(self, table: str, data: Mapping[str, Any], where: str,
               where_params: Mapping[str, Any] | None = None) -> int:
        """Update the row a WHERE names (its key column); rows changed."""
        return self._write(Statement("update", table, data=dict(data),
                                     where=conditions(where, dict(where_params or {}))))[0]

    def delete(self, table: str, where: str, where_params: Mapping[str, Any] | None = None) -> int:
        """Delete the rows a WHERE names (by key, or by the parent they belong to); rows deleted."""
        return self._write(Statement("delete", table, where=conditions(where, dict(where_params or {}))))[0]

    def begin_transaction(self) -> str:
        """Refused: each alexdb call is its own transaction on every backend."""
        raise UnsupportedError("begin_transaction", "a transaction spanning calls cannot hold on DynamoDB, so "
                               "alexdb makes each call all-or-nothing instead", "one call per change "
                               "(db.positions.record_trades for many trades at once)")

    def commit_transaction(self, transaction_id: str) -> None:
        """Refused, as begin_transaction is."""
        self.begin_transaction()

    def rollback_transaction(self, transaction_id: str) -> None:
        """Refused, as begin_transaction is."""
        self.begin_transaction()

    @property
    def users_table(self) -> DynamoTable:
        """The users table on DynamoDB (the DynamoDB port's client attribute)."""
        return DynamoTable(self._store, self._dynamo_config().users_table)

    @property
    def instruments_table(self) -> DynamoTable:
        """The instruments table on DynamoDB (the DynamoDB port's client attribute)."""
        return DynamoTable(self._store, self._dynamo_config().instruments_table)

    def _dynamo_config(self) -> Any:
        config = getattr(self._store.engine, "config", None)
        if self._store.backend != "dynamodb" or config is None:
            raise UnsupportedError("db.client.users_table", f"the {self._store.backend} backend has no DynamoDB "
                                   "tables", "db.client.query for SQL, or db.counts()")
        return config

    def _read(self, sql: str, values: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
        engine = self._store.engine
        if not isinstance(engine, RawReader):
            raise UnsupportedError(sql.strip()[:80], f"the {self._store.backend} backend runs no SQL", INSTEAD_OF_SQL)
        statement, cast = casts(sql)
        return engine.read_sql(statement, values, cast)

    def _write(self, statement: Statement) -> tuple[int, Any]:
        """Route a write to its table: (rows changed, the returning column's value or None)."""
        table = self.tables.get(statement.table)
        if table is None:
            raise UnsupportedError(f"{statement.kind} on {statement.table!r}", "alexdb.compat writes the Alex "
                                   f"tables ({', '.join(self.tables)}) through their services", "alexdb's own API")
        data = exact(statement.data, statement.table)
        if statement.kind == "insert":
            created = table._insert(data)
            return 1, None if statement.returning is None else created.get(statement.returning)
        key = self._key(table, statement.where)
        if statement.kind == "update":
            return table._update(key, data), None
        if isinstance(key, tuple):
            return table.delete_under(*key), None
        return table._delete(key), None

    @staticmethod
    def _key(table: Table, where: dict[str, Any]) -> Any:
        """The key value a WHERE names, or (column, value) for a parent column."""
        if set(where) == {table.key}:
            return where[table.key]
        if set(where) == {"account_id", "symbol"} and table.table_name == "positions":
            return f"{where['account_id']}:{str(where['symbol']).upper()}"
        if len(where) == 1 and next(iter(where)) in table.parents:
            return next(iter(where.items()))
        raise ValidationError("where", " AND ".join(where), f"{table.table_name} rows are named by "
                              f"{' or '.join((table.key, *table.parents))}")
