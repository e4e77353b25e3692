"""INSERT ... ON CONFLICT for whichever of SQLite and PostgreSQL the connection speaks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_for(conn: Connection, table: Table) -> Any:
    """The dialect's insert construct, which offers on_conflict_do_update / _do_nothing."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table)
