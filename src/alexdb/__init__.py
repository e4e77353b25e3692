"""alexdb: the data layer of the Alex financial planner, one API over SQLite, PostgreSQL and DynamoDB."""

from __future__ import annotations

from alexdb.bootstrap import DEFAULT_URL, connect
from alexdb.database import Database
from alexdb.domain.errors import (
    AlexdbError,
    BackendError,
    ConflictError,
    InsufficientQuantityError,
    InvalidTransitionError,
    NotFoundError,
    SchemaError,
    ValidationError,
)
from alexdb.domain.paging import Results

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_URL", "AlexdbError", "BackendError", "ConflictError", "Database", "InsufficientQuantityError",
    "InvalidTransitionError", "NotFoundError", "Results", "SchemaError", "ValidationError", "connect",
]
