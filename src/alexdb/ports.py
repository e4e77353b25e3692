"""The small storage-neutral interfaces every backend implements; services depend only on these."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from alexdb.domain.alerts import Alert, Notification
from alexdb.domain.models import (
    Account,
    Instrument,
    NewInstrument,
    Position,
    PositionChange,
    PricePoint,
)
from alexdb.domain.paging import Page
from alexdb.domain.speed_rules import Delivered

Mutation = Callable[[Decimal], tuple[Decimal, Decimal]]
"""Given the held quantity, returns (delta, quantity after); raises to refuse the change."""

Columns = tuple[Sequence[str], Sequence[str], Sequence[Decimal]]
"""A time-ordered stream as three parallel columns: symbol, instant text (instants.instant_text), value."""

Trade = tuple[str, str, Decimal, datetime, Decimal | None]
"""(symbol, action, quantity > 0, instant, price) of one validated trade."""


class InstrumentStore(Protocol):
    """Instruments and their price history."""

    def create_instrument(self, data: NewInstrument | Mapping[str, Any]) -> Instrument:
        """Create an instrument; ConflictError if the symbol exists."""
        ...
    def upsert_instrument(self, data: NewInstrument | Mapping[str, Any]) -> Instrument:
        """Create or replace an instrument's description."""
        ...
    def find_by_symbol(self, symbol: str) -> Instrument | None:
        """The instrument, or None."""
        ...
    def get_instrument(self, symbol: str) -> Instrument:
        """The instrument; NotFoundError if absent."""
        ...
    def record_price(self, symbol: str, price: Any, at: Any = None) -> PricePoint:
        """Record one price point."""
        ...
    def record_prices(self, rows: Iterable[Any]) -> int:
        """Record many price points; bad input writes nothing."""
        ...
    def get_price_at(self, symbol: str, at: Any) -> PricePoint | None:
        """The last price at or before an instant, or None."""
        ...
    def prices_at(self, symbols: Sequence[str], at: datetime) -> dict[str, PricePoint]:
        """Each symbol's last price at or before an instant."""
        ...
    def price_points_until(self, symbols: Sequence[str], end: datetime) -> Columns:
        """Every price of these symbols up to end, in time order, as columns (symbol, instant text, price)."""
        ...


class AccountStore(Protocol):
    """Investment accounts, each owned by one user."""

    def get_account(self, account_id: uuid.UUID | str) -> Account:
        """The account; NotFoundError if absent."""
        ...
    def find_by_user(
        self, clerk_user_id: str, limit: int | None = None, cursor: str | None = None
    ) -> Page[Account]:
        """One page of a user's accounts, oldest first."""
        ...


class PositionStore(Protocol):
    """Current holdings and their history; change() is the one atomic write."""

    def change(
        self, account_id: uuid.UUID, symbol: str, action: str, mutation: Mutation,
        at: datetime | None, price: Decimal | None,
    ) -> PositionChange:
        """Atomically apply mutation and append history; at=None means now, stamped under the lock."""
    def change_many(self, account_id: uuid.UUID, trades: Sequence[Trade]) -> int:
        """Apply trades in order in one transaction (all or nothing); returns how many."""
        ...
    def current(self, account_id: uuid.UUID) -> list[Position]:
        """Holdings with a non-zero quantity, joined with their instrument."""
        ...
    def symbols(self, account_id: uuid.UUID) -> list[str]:
        """Every symbol the account has ever held."""
        ...
    def history(
        self, account_id: uuid.UUID, symbol: str | None, start: datetime | None, end: datetime | None,
        limit: int | None, cursor: str | None,
    ) -> Page[PositionChange]:
        """One page of the audit trail in time order."""
        ...
    def holdings_at(self, account_id: uuid.UUID, at: datetime) -> dict[str, Decimal]:
        """Quantity held of each symbol at an instant."""
        ...
    def changes_until(self, account_id: uuid.UUID, end: datetime) -> Columns:
        """Every change up to end, in time order, as columns (symbol, instant text, quantity after)."""
        ...


class AlertStore(Protocol):
    """What the speed layer's pipeline reads and writes of alerts."""

    def find_by_symbol(self, symbol: str, limit: int | None = None, cursor: str | None = None) -> Page[Alert]:
        """Alerts on a symbol, a page at a time."""
        ...

    def record_triggers(self, deliveries: Sequence[Delivered]) -> list[Notification]:
        """Deliveries with their alerts' bookkeeping; those of deleted alerts are skipped."""
        ...


class TickStore(Protocol):
    """Where ticks are kept for 24 hours."""

    def record_ticks(self, batch: Iterable[Any]) -> int:
        """Store a batch of ticks; a bad one refuses the batch."""
        ...


class SpeedDatabase(Protocol):
    """The stores the ingestion pipeline works with."""

    @property
    def alerts(self) -> AlertStore:
        """Alert configurations."""
        ...

    @property
    def ticks(self) -> TickStore:
        """Realtime ticks."""
        ...

    @property
    def instruments(self) -> InstrumentStore:
        """Instruments and their price history."""
        ...
