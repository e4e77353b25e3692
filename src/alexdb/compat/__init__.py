"""The original Alex database package's surface over alexdb: switching is one import.

    from alexdb.compat import Database   # was: from src import Database
    db = Database()                      # $ALEXDB_URL, else the embedded SQLite file

db.users, db.instruments, db.accounts, db.positions and db.jobs keep the original's method names,
arguments and return shapes (rows as JSON-ready dicts with the original column names, ids as text);
db.client and db.execute_raw take the original's SQL and Data API parameters. Every write goes through
alexdb's services, so the ledger, position history and time travel stay exact.
"""

from __future__ import annotations

from typing import Any, cast

from alexdb.compat.client import DataAPIClient
from alexdb.compat.holdings import Positions
from alexdb.compat.jobs import Jobs
from alexdb.compat.portfolio import Accounts, Instruments, Users
from alexdb.compat.schemas import (
    AccountCreate,
    AccountType,
    AssetClassType,
    InstrumentCreate,
    InstrumentResponse,
    InstrumentType,
    JobCreate,
    JobStatus,
    JobType,
    JobUpdate,
    PortfolioAnalysis,
    PositionCreate,
    RebalanceRecommendation,
    RegionType,
    SectorType,
    UserCreate,
)
from alexdb.compat.values import DecimalText
from alexdb.database import Database as Store


class Database:
    """The original package's Database: its tables and client over one alexdb database."""

    def __init__(self, url: str | None = None, *, store: Store | None = None) -> None:
        self.client = DataAPIClient(url, store=store)
        self.store = self.client.store
        tables = self.client.tables
        self.users = cast(Users, tables["users"])
        self.instruments = cast(Instruments, tables["instruments"])
        self.accounts = cast(Accounts, tables["accounts"])
        self.positions = cast(Positions, tables["positions"])
        self.jobs = cast(Jobs, tables["jobs"])

    def execute_raw(self, sql: str, parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Run one statement (the original's SQL and parameters); the Data API's response."""
        return self.client.execute(sql, parameters)

    def query_raw(self, sql: str, parameters: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """Rows of a SELECT as dicts by column name."""
        return self.client.query(sql, parameters)

    def close(self) -> None:
        """Release the connections."""
        self.store.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()


__all__ = [
    "AccountCreate", "AccountType", "AssetClassType", "DataAPIClient", "Database", "DecimalText",
    "InstrumentCreate", "InstrumentResponse", "InstrumentType", "JobCreate", "JobStatus", "JobType", "JobUpdate",
    "PortfolioAnalysis", "PositionCreate", "RebalanceRecommendation", "RegionType", "SectorType", "UserCreate",
]
