"""The portfolio store's primitives: users, accounts, jobs, instruments and prices, positions, splits, cash."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple, Protocol, runtime_checkable

from alexdb.domain.ledger import CashMovement, CashPlan, PlannedCash, Split
from alexdb.domain.models import (
    Account,
    Instrument,
    Job,
    Position,
    PositionChange,
    PricePoint,
    User,
)
from alexdb.domain.paging import Bookmark, Results
from alexdb.domain.trading import HeldState, Mutation, Plan

Columns = tuple[Sequence[str], Sequence[str], Sequence[Decimal]]
"""A time-ordered stream as three parallel columns: symbol, instant text (instants.instant_text), value."""

ChangeColumns = tuple[Sequence[str], Sequence[str], Sequence[Decimal], Sequence[Decimal]]
"""Position changes as columns: symbol, instant text, quantity after, trade cash after."""


class PriceMark(NamedTuple):
    """What a process checks before reusing a symbol's cached price points.

    revision changes with every write of a point at or before the newest point then (a correction or a
    backfill); newest is the newest point's instant (None: no points). A cache that read the mark before
    the points, and holds points up to that newest only, is exact: a point it could have missed was
    written at or before newest after the mark was read, and so moved the revision.
    """

    revision: int
    newest: datetime | None



Rows = tuple[list[Any], Bookmark | None]
"""A page as a backend reads it: the items, and the position after the last one (None at the end)."""


class UserRecords(Protocol):
    """The primitives behind db.users: every rule lives in services/users.py."""

    def get_user(self, clerk_user_id: str) -> User | None:
        """The live user, or None (also while the user is being deleted)."""
        ...
    def insert_user(self, user: User) -> bool:
        """Store a new user; False when the id is taken."""
        ...
    def replace_user(self, user: User, expected: datetime) -> bool:
        """Store user only if the stored one's updated_at is still expected; False otherwise or when gone."""
        ...
    def delete_user(self, clerk_user_id: str) -> bool:
        """Delete the user and everything the user owns; False when there is no such user."""
        ...
    def user_page(self, after: Bookmark | None, size: int) -> tuple[list[User], Bookmark | None]:
        """Up to size users by Clerk id after a position."""
        ...


class AccountRecords(Protocol):
    """The primitives behind db.accounts: every rule lives in services/accounts.py."""

    def get_account(self, account_id: uuid.UUID) -> Account | None:
        """The live account, or None (also while it or its user is being deleted)."""
        ...
    def insert_account(self, account: Account, opening: PlannedCash | None) -> bool:
        """Store a new account with its opening cash movement, at once; False when its user does not exist."""
        ...
    def replace_account(self, account: Account, expected: datetime) -> bool:
        """Store account's description (not its cash: the ledger owns that) only if the stored one's updated_at
        is still expected; False otherwise or when gone."""
        ...
    def delete_account(self, account_id: uuid.UUID) -> bool:
        """Delete the account with its positions and history; False when there is no such account."""
        ...
    def account_page(
        self, clerk_user_id: str, after: Bookmark | None, size: int
    ) -> tuple[list[Account], Bookmark | None]:
        """Up to size of a user's accounts, oldest first, after a position."""
        ...


class JobRecords(Protocol):
    """The primitives behind db.jobs: every rule lives in services/jobs.py."""

    def insert_job(self, job: Job) -> bool:
        """Store a new job; False when its user does not exist (or is being deleted)."""
        ...
    def get_job(self, job_id: uuid.UUID) -> Job | None:
        """The job, or None."""
        ...
    def move_job(self, job: Job, values: Mapping[str, Any]) -> Job | None:
        """Set values only while the stored job's status is still job.status; the new job, or None."""
        ...
    def set_payload(self, job_id: uuid.UUID, field: str, payload: Any, now: datetime) -> Job | None:
        """Set one payload field and updated_at; the new job, or None when there is no such job."""
        ...
    def delete_job(self, job_id: uuid.UUID) -> bool:
        """Remove a job (and whatever finds it); False when there was none."""
        ...
    def job_page(self, clerk_user_id: str, status: str | None, after: Bookmark | None, size: int) -> Rows:
        """Up to size of a user's jobs (of one status), newest first, after a position."""
        ...
    def queue_page(self, status: str, after: Bookmark | None, size: int) -> Rows:
        """Up to size jobs of one status, oldest first, after a position."""
        ...


class InstrumentStore(Protocol):
    """The primitives behind db.instruments and their price history: every rule lives in services/instruments.py."""

    def get_instrument(self, symbol: str) -> Instrument | None:
        """The instrument (with its current price), or None."""
        ...
    def insert_instrument(self, instrument: Instrument, first: PricePoint | None) -> bool:
        """Store a new instrument and its first price point at once; False when the symbol exists."""
        ...
    def replace_description(self, instrument: Instrument, expected: datetime) -> bool:
        """Store name, type, allocations and updated_at only if updated_at is still expected; else False."""
        ...
    def instrument_page(self, instrument_type: str | None, after: Bookmark | None, size: int) -> Rows:
        """Up to size instruments (of one type, or all) by symbol after a position."""
        ...
    def search_page(self, needle: str, after: Bookmark | None, size: int) -> Rows:
        """Up to size instruments whose symbol or name contains needle (lower case) by symbol."""
        ...
    def write_prices(self, points: Sequence[PricePoint], newest: Mapping[str, PricePoint]) -> list[str]:
        """Store points and move each symbol's current price to newest[symbol] unless a newer one is stored.

        Returns the symbols that have no instrument, and then writes nothing.
        """
        ...
    def price_at(self, symbol: str, at: datetime) -> PricePoint | None:
        """The last price at or before an instant, or None."""
        ...
    def prices_at(self, symbols: Sequence[str], at: datetime) -> dict[str, PricePoint]:
        """Each symbol's last price at or before an instant."""
        ...
    def price_page(
        self, symbol: str, start: datetime | None, end: datetime | None, after: Bookmark | None, size: int
    ) -> Rows:
        """Up to size prices of a symbol between start and end inclusive, oldest first, after a position."""
        ...
    def price_points_at(self, symbols: Sequence[str], instants: Sequence[datetime]) -> Columns:
        """Each symbol's last price at or before each of these instants (in time order), as columns ordered
        by symbol, then time.

        Columns are (symbol, instant text, price). A store may return more of the points in between, never
        fewer: a sweep that takes the last point at or before an instant is exact on what comes back.
        """
        ...


class PriceReader(Protocol):
    """What valuation reads of prices."""

    def prices_at(self, symbols: Sequence[str], at: datetime) -> dict[str, PricePoint]:
        """Each symbol's last price at or before an instant."""
        ...
    def price_points_at(self, symbols: Sequence[str], instants: Sequence[datetime]) -> Columns:
        """Each symbol's last price at or before each of these instants (in time order), as columns ordered
        by symbol, then time.

        Columns are (symbol, instant text, price). A store may return more of the points in between, never
        fewer: a sweep that takes the last point at or before an instant is exact on what comes back.
        """
        ...


@runtime_checkable
class PriceMarks(Protocol):
    """What lets a process cache each symbol's price points and extend them as new ones arrive.

    SQL stores have it. DynamoDB does not: there a symbol's raw points include every intraday bar, so a
    process would read them all once, where a series over midnights reads a month of closes per item.
    """

    def price_marks(self, symbols: Sequence[str]) -> dict[str, PriceMark]:
        """Each known symbol's price revision and newest point's instant."""
        ...
    def price_columns(self, symbols: Sequence[str], after: datetime | None, until: datetime) -> Columns:
        """Points after `after` (None: from the first) up to until inclusive, ordered by symbol, then time."""
        ...


class AccountStore(Protocol):
    """What other services read of accounts."""

    def account_record(self, account_id: uuid.UUID | str) -> Account:
        """The account as stored (its cash_balance not brought up to date); NotFoundError if absent."""
        ...
    def find_by_user(
        self, clerk_user_id: str, limit: int | None = None, cursor: str | None = None
    ) -> Results[Account]:
        """A user's accounts, oldest first."""
        ...


class PositionStore(Protocol):
    """Current holdings and their history; change() is the one atomic write."""

    def change(self, account_id: uuid.UUID, symbol: str, mutation: Mutation, at: datetime | None) -> PositionChange:
        """Atomically apply mutation to the holding (with the symbol's splits) and append its history record;
        at=None means now, stamped under the lock."""
        ...
    def change_many(self, account_id: uuid.UUID, symbols: Sequence[str], plan: Plan) -> int:
        """Read the holdings and splits of symbols under the store's lock, write plan(...) all or nothing; how many.

        Readers see either none or all of the changes, however many; an import cut short is retried safely.
        """
        ...
    def current(self, account_id: uuid.UUID) -> list[tuple[Position, HeldState]]:
        """Holdings whose last change left a non-zero quantity, joined with their instrument."""
        ...
    def states(self, account_id: uuid.UUID) -> dict[str, HeldState]:
        """Every symbol the account has ever held, with its holding as last changed."""
        ...
    def history_page(
        self, account_id: uuid.UUID, symbol: str | None, start: datetime | None, end: datetime | None,
        after: Bookmark | None, size: int,
    ) -> Rows:
        """Up to size changes of the audit trail in time order, after a position."""
        ...
    def holdings_at(self, account_id: uuid.UUID, at: datetime) -> dict[str, HeldState]:
        """Each symbol's holding as its last change at or before an instant left it."""
        ...
    def transfers(self, account_id: uuid.UUID, start: datetime, end: datetime) -> list[PositionChange]:
        """The changes between start and end inclusive that moved no cash (transfers, UPDATEs, trades without
        a price), in time order: the security flows of a return."""
        ...
    def changes_of(self, account_id: uuid.UUID, symbols: Sequence[str] | None) -> ChangeColumns:
        """Every change of these symbols (None: of all), as columns ordered by symbol, then time."""
        ...


class SplitRecords(Protocol):
    """The primitives behind db.instruments.record_split."""

    def insert_split(self, split: Split) -> tuple[uuid.UUID, datetime] | None:
        """Store a split unless some account has a change of its symbol at or after it: that change's
        (account, instant) then, and nothing written. NotFoundError when the symbol has no instrument."""
        ...
    def splits_of(self, symbols: Sequence[str]) -> dict[str, list[Split]]:
        """Each symbol's splits, oldest first (symbols without any are left out)."""
        ...


class CashRecords(Protocol):
    """The primitives behind db.cash: every rule lives in services/cash.py."""

    def append_cash(self, account_id: uuid.UUID, plan: CashPlan) -> CashMovement | None:
        """Append plan(...) to a live account's ledger atomically; None when there is no such account."""
        ...
    def cash_page(self, account_id: uuid.UUID, start: datetime | None, end: datetime | None,
                  after: Bookmark | None, size: int) -> Rows:
        """Up to size movements between start and end inclusive, in time order, after a position."""
        ...
    def cash_balance_at(self, account_id: uuid.UUID, at: datetime) -> Decimal:
        """The ledger's balance after its last movement at or before an instant (0 before the first)."""
        ...


@runtime_checkable
class RawReader(Protocol):
    """An engine that runs raw SQL read-only (the SQL engines; alexdb.compat's query and execute_raw)."""

    def read_sql(self, statement: str, values: Mapping[str, Any],
                 casts: Mapping[str, str]) -> tuple[list[str], list[dict[str, Any]]]:
        """Column names and rows of statement with named parameters (:name), each cast as casts names."""
        ...
