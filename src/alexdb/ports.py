"""The small storage-neutral interfaces every backend implements; services depend only on these."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple, Protocol, runtime_checkable

from alexdb.domain.alerts import Alert, Notification
from alexdb.domain.chat import ChatMessage, ChatSession, NewMessage, SessionStats
from alexdb.domain.checkpoints import BlobRow, CheckpointRow, Snapshot, ThreadRows, WriteRow
from alexdb.domain.ledger import CashMovement, CashPlan, PlannedCash, Split
from alexdb.domain.memories import MemoryItem
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
from alexdb.domain.speed_state import Advance, Pending, SymbolCursor
from alexdb.domain.ticks import TickRow
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


class ChatRecords(Protocol):
    """The primitives behind db.chat: every rule lives in services/chat.py. A session of another user, or
    one expired at `now`, is no session: calls on it answer None (or False)."""

    def insert_session(self, session: ChatSession) -> bool:
        """Store a new session; False when its id is taken."""
        ...
    def live_session(self, session_id: uuid.UUID, user_id: str, now: datetime) -> ChatSession | None:
        """The user's live session, or None."""
        ...
    def append(self, session_id: uuid.UUID, user_id: str, messages: list[NewMessage], now: datetime,
               ttl: timedelta) -> list[ChatMessage] | None:
        """Add the next messages (one or more, in order) and move the counters and the expiry (now + ttl),
        all in one transaction; None when the session is not the user's live one."""
        ...
    def messages(self, session_id: uuid.UUID, user_id: str, now: datetime, limit: int | None,
                 before: int | None) -> list[ChatMessage] | None:
        """Messages oldest first: all, or the last `limit` with seq below `before`."""
        ...
    def touch(self, session_id: uuid.UUID, user_id: str, now: datetime, ttl: timedelta,
              changes: Mapping[str, Any]) -> ChatSession | None:
        """Set changes (title, pedagogy_mode), record activity at now."""
        ...
    def truncate(self, session_id: uuid.UUID, user_id: str, keep: int, now: datetime, ttl: timedelta) -> int | None:
        """Delete all but the newest keep messages; how many were deleted."""
        ...
    def delete_session(self, session_id: uuid.UUID, user_id: str, now: datetime) -> bool:
        """Delete the session and its messages."""
        ...
    def stats(self, session_id: uuid.UUID, user_id: str, now: datetime) -> SessionStats | None:
        """Counts by role, tokens and size."""
        ...
    def session_page(self, user_id: str, now: datetime, ttl: timedelta, after: Bookmark | None, size: int) -> Rows:
        """Up to size of the user's live sessions, most recently active first."""
        ...
    def purge_expired(self, now: datetime) -> int:
        """Delete expired sessions where the engine does not (SQL); how many."""
        ...


class CheckpointRecords(Protocol):
    """The primitives behind db.checkpoints (LangGraph's persistence): every rule lives in
    services/checkpoints.py. Every call is scoped by owner; a thread whose expiry has passed is absent."""

    def put(self, owner: str, row: CheckpointRow, blobs: list[BlobRow], chunks: Mapping[str, bytes], now: datetime,
            expires_at: datetime | None) -> int:
        """Store a checkpoint, the blobs new at it (one already there is kept) and the pieces of chunked ones
        (one the thread already holds is not written again), and record the thread's activity and expiry;
        the thread's checkpoint count after."""
        ...
    def put_writes(self, owner: str, rows: list[WriteRow], replace: bool, now: datetime,
                   expires_at: datetime | None) -> None:
        """Store pending writes in one transaction: over existing ones when replace, else keeping them."""
        ...
    def checkpoint(self, owner: str, thread_id: str, ns: str, checkpoint_id: str | None,
                   now: datetime) -> CheckpointRow | None:
        """One checkpoint, or the namespace's newest when checkpoint_id is None."""
        ...
    def snapshot(self, owner: str, thread_id: str, ns: str, checkpoint_id: str | None,
                 now: datetime) -> Snapshot | None:
        """One checkpoint (the namespace's newest when checkpoint_id is None) with the blobs of its versions
        that exist and its pending writes, read together: what resuming it needs, in as few round trips
        as the store allows."""
        ...
    def checkpoints(self, owner: str, thread_id: str | None, ns: str | None, before: str | None,
                    now: datetime) -> Iterator[CheckpointRow]:
        """Checkpoints by thread and namespace, newest first within each, read in pages as iterated."""
        ...
    def blobs(self, owner: str, thread_id: str, ns: str, keys: Sequence[tuple[str, str]]) -> list[BlobRow]:
        """The blobs of these (channel, version) keys that exist."""
        ...
    def writes(self, owner: str, thread_id: str, ns: str, checkpoint_id: str) -> list[WriteRow]:
        """A checkpoint's pending writes (in no particular order)."""
        ...
    def chunks(self, owner: str, thread_id: str, names: Sequence[str]) -> dict[str, bytes]:
        """The pieces of chunked values the thread holds, by name."""
        ...
    def thread(self, owner: str, thread_id: str, now: datetime) -> ThreadRows:
        """Everything a live thread holds."""
        ...
    def insert_thread(self, owner: str, thread_id: str, rows: ThreadRows, now: datetime,
                      expires_at: datetime | None) -> None:
        """Write a thread's rows (under thread_id) to a thread that must not exist yet."""
        ...
    def delete_thread(self, owner: str, thread_id: str) -> None:
        """Delete a thread with everything in it."""
        ...
    def delete_checkpoints(self, owner: str, thread_id: str, ns: str, checkpoint_ids: Sequence[str],
                           blobs: Sequence[tuple[str, str]]) -> None:
        """Delete checkpoints with their writes, and the given (channel, version) blobs of the namespace."""
        ...
    def blob_keys(self, owner: str, thread_id: str, ns: str) -> list[tuple[str, str]]:
        """Every (channel, version) stored in a namespace of a thread."""
        ...
    def run_checkpoints(self, owner: str, run_ids: Sequence[str]) -> list[tuple[str, str, str]]:
        """(thread, namespace, checkpoint id) of every checkpoint whose metadata names one of run_ids."""
        ...
    def purge_expired(self, now: datetime) -> int:
        """Delete expired threads where the engine does not (SQL); how many."""
        ...


class MemoryRecords(Protocol):
    """The primitives behind db.memories: every rule lives in services/memories.py. Namespaces are given as
    their text (domain.memories.namespace_text); an item whose expiry has passed is absent."""

    def get(self, owner: str, namespace: str, key: str, now: datetime) -> MemoryItem | None:
        """One live item."""
        ...
    def put(self, owner: str, item: MemoryItem, now: datetime) -> MemoryItem:
        """Insert or replace an item, keeping the created_at of the one replaced (if live); the item stored."""
        ...
    def delete(self, owner: str, namespace: str, key: str) -> None:
        """Delete an item."""
        ...
    def under(self, owner: str, prefix: str, now: datetime) -> Iterator[MemoryItem]:
        """The live items whose namespace text starts with prefix, by namespace and key, read in pages."""
        ...
    def namespaces(self, owner: str, now: datetime) -> list[str]:
        """The text of every namespace holding a live item."""
        ...
    def refresh(self, owner: str, items: Sequence[MemoryItem]) -> None:
        """Set these items' expiry to theirs as given (items deleted meanwhile stay deleted)."""
        ...
    def purge_expired(self, now: datetime) -> int:
        """Delete expired items where the engine does not (SQL); how many."""
        ...


class AlertRecords(Protocol):
    """The primitives behind db.alerts: every rule lives in services/speed.py."""

    def insert_alert(self, alert: Alert) -> None:
        """Store a new alert."""
        ...
    def get_alert(self, alert_id: uuid.UUID) -> Alert | None:
        """The alert, or None."""
        ...
    def replace_settings(self, alert: Alert, expected: datetime) -> Alert | None:
        """Store the settings only if updated_at is still expected, keeping trigger bookkeeping; else None."""
        ...
    def delete_alert(self, alert_id: uuid.UUID) -> bool:
        """Delete; False when there is none."""
        ...
    def user_page(self, user_id: str, after: Bookmark | None, size: int) -> Rows:
        """Up to size of a user's alerts, newest first."""
        ...
    def symbol_page(self, symbol: str, after: Bookmark | None, size: int) -> Rows:
        """Up to size alerts on a symbol, by user."""
        ...
    def settings_page(self, symbol: str, after: Bookmark | None, size: int) -> Rows:
        """Up to size alerts' settings (AlertEntry: no trigger bookkeeping) on a symbol, by user."""
        ...
    def record_notifications(self, pending: Sequence[Pending]) -> list[Notification]:
        """Store notifications not stored yet, with their alerts' last_triggered and trigger_count, all or
        nothing; those of deleted alerts, or of alerts that fired after their not_before, are skipped."""
        ...


CursorStep = Callable[[str, SymbolCursor | None], Advance]
"""Given a symbol and its cursor (None before its first tick): what the ticks applied after it did."""


class CursorRecords(Protocol):
    """Each symbol's speed cursor: the store lets one ingestor at a time advance it."""

    def cursor(self, symbol: str) -> SymbolCursor | None:
        """The cursor, or None before the symbol's first tick."""
        ...
    def advance(self, symbols: Sequence[str], step: CursorStep) -> list[Notification]:
        """Run step on each symbol's current cursor while no other ingestor can advance it; record the new
        cursors, the notifications (as record_notifications does) and the alerts' armed_at, so that none is
        lost if a cursor moves. Returns the notifications recorded now: those the caller delivers."""
        ...


class NotificationRecords(Protocol):
    """The primitives behind db.notifications."""

    def user_page(self, user_id: str, after: Bookmark | None, size: int) -> Rows:
        """Up to size of a user's notifications, newest first."""
        ...
    def mark(self, notifications: Sequence[Notification]) -> None:
        """Store each one's delivery status, message id, attempts, last error and next attempt."""
        ...
    def due(self, now: datetime, size: int) -> list[Notification]:
        """Up to size deliveries whose next attempt is at or before now, the most overdue first."""
        ...
    def claim(self, notification: Notification, until: datetime) -> bool:
        """Move a due delivery's next attempt to until if it is still as read; False if another moved it."""
        ...


class TickRecords(Protocol):
    """The primitives behind db.ticks (kept 24 hours)."""

    def write_ticks(self, ticks: Sequence[TickRow]) -> None:
        """Store checked ticks; the last of a symbol in one millisecond wins."""
        ...
    def tick_page(self, symbol: str, start_ms: int, end_ms: int, newest_first: bool, after: Bookmark | None,
                  size: int) -> Rows:
        """Up to size live ticks of a symbol between two instants (ms), after a position."""
        ...
    def purge_expired(self) -> int:
        """Delete expired ticks where the engine does not; how many."""
        ...


@runtime_checkable
class RawReader(Protocol):
    """An engine that runs raw SQL read-only (the SQL engines; alexdb.compat's query and execute_raw)."""

    def read_sql(self, statement: str, values: Mapping[str, Any],
                 casts: Mapping[str, str]) -> tuple[list[str], list[dict[str, Any]]]:
        """Column names and rows of statement with named parameters (:name), each cast as casts names."""
        ...
