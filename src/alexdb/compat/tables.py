"""What every table of the original package has: find_by_id, find_all, create, update, delete.

Each table routes the generic calls (and db.client's insert/update/delete on its name) to alexdb's
services: a table names its key column and implements three primitives, _insert, _update and _delete.
Nothing is written around the services, so every alexdb rule (the ledger, history, time order) holds.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from itertools import islice
from typing import TYPE_CHECKING, Any, ClassVar

from alexdb.compat.values import exact
from alexdb.domain.errors import NotFoundError, UnsupportedError

if TYPE_CHECKING:
    from alexdb.compat.client import DataAPIClient
    from alexdb.database import Database as Store


def window(rows: Iterable[dict[str, Any]], limit: int | None, offset: int) -> list[dict[str, Any]]:
    """rows[offset:offset + limit] without reading past them (LIMIT/OFFSET of the original's SQL)."""
    return list(islice(rows, offset, None if limit is None else offset + limit))


class Table(ABC):
    """One table of the original package, over alexdb's services."""

    table_name: ClassVar[str] = ""
    key: ClassVar[str] = "id"
    """The column the original's find_by_id, update and delete take."""
    parents: ClassVar[tuple[str, ...]] = ()
    """Other columns a client.delete may name: every row under that value goes (as its CASCADE would)."""

    def __init__(self, db: DataAPIClient, store: Store) -> None:
        self.db = db
        self._store = store

    @abstractmethod
    def find_by_id(self, id: Any) -> dict[str, Any] | None:
        """The row with this key, or None."""

    def find_all(self, limit: int | None = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Rows in key order, limit from offset (the original's default: 100)."""
        return window(self._all(), limit, offset)

    def create(self, data: Mapping[str, Any] | Any, returning: str = "id") -> Any:
        """Insert a row from a dict (or a schema model); the value of its returning column (its key by default)."""
        created = self._insert(self._fields(data))
        return created.get(returning, created[self.key])

    def update(self, id: Any, data: Mapping[str, Any]) -> int:
        """Change columns of the row with this key; rows changed (0 when there is none)."""
        return self._update(id, self._fields(data))

    def delete(self, id: Any) -> int:
        """Delete the row with this key (and what hangs from it); rows deleted (0 when there is none)."""
        return self._delete(id)

    def delete_under(self, column: str, value: Any) -> int:
        """Delete every row whose parent column is value; rows deleted."""
        raise UnsupportedError(f"DELETE FROM {self.table_name} WHERE {column} = ...",
                               f"{self.table_name} rows are deleted by {self.key}", f"db.{self.table_name}.delete")

    def _fields(self, data: Mapping[str, Any] | Any) -> dict[str, Any]:
        plain = data.model_dump() if hasattr(data, "model_dump") else dict(data)
        return dict(exact(plain, self.table_name))

    @abstractmethod
    def _all(self) -> Iterable[dict[str, Any]]:
        """Every row in key order."""

    @abstractmethod
    def _insert(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Store a new row through the service; the row as read back."""

    @abstractmethod
    def _update(self, key: Any, fields: dict[str, Any]) -> int:
        """Change the row with this key; rows changed."""

    @abstractmethod
    def _delete(self, key: Any) -> int:
        """Delete the row with this key; rows deleted."""


def counted(change: Any, *args: Any, **kwargs: Any) -> int:
    """1 when change(*args, **kwargs) found its row, 0 when it raised NotFoundError (the original's rowcount)."""
    try:
        change(*args, **kwargs)
    except NotFoundError:
        return 0
    return 1
