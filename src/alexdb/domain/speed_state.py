"""What the speed layer keeps in the store so that many ingestors act as one: each symbol's cursor, the
identity of a crossing, the cooldown a store checks, and the delivery schedule."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from alexdb.domain.alerts import Notification, Trigger
from alexdb.domain.speed_rules import check_status, notification_of

_CROSSINGS = uuid.UUID("3f0b9c62-7f43-4c1e-9d0e-a1e6c3b2d5f4")  # the namespace of notification ids
DELIVERY_LEASE = timedelta(seconds=60)
"""A pending delivery is due for the retry worker this long after it was recorded (or last claimed): the
ingestor that recorded it normally marks it sent or failed well within that."""
MAX_ATTEMPTS = 6
RETRY_BASE = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class SymbolCursor:
    """How far a symbol's ticks have been applied to its alerts, and the one-minute bar they left.

    Every price alert's edge state (armed, or its condition seen true) is a function of the symbol's
    last bar, so this one record is the edge state of all of them: the ingestor that advances it
    evaluates the ticks after applied_ms, and a tick at or before applied_ms is late (stored, never
    evaluated again). writer names the ingestor that advanced it last.
    """

    symbol: str
    applied_ms: int
    minute: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    writer: str


@dataclass(frozen=True, slots=True)
class Pending:
    """A notification to record, unless one with its id exists, its alert is gone, or the alert last
    fired after not_before (inside its cooldown, checked by the store against its own record).

    An arrival firing (the alert's settings, version arming, already held at the symbol's bar) is
    recorded only if those settings are still current and no ingestor checked them yet; recording it
    marks them checked (armed_at)."""

    notification: Notification
    not_before: datetime | None = None
    arming: datetime | None = None


@dataclass(frozen=True, slots=True)
class Advance:
    """What applying ticks to a symbol's alerts did: its next cursor (None: unchanged), the notifications
    to record, and the alerts checked on arrival, as (alert_id, the updated_at they were checked at)."""

    cursor: SymbolCursor | None
    pending: list[Pending]
    armed: list[tuple[uuid.UUID, datetime]]


def crossing_id(alert_id: uuid.UUID, kind: str, at: int | str) -> uuid.UUID:
    """The id of one firing: the same alert, kind and instant give the same id on every ingestor, so a
    redelivered tick or a second ingestor records nothing new (an alert notifies at most once per
    millisecond and kind)."""
    return uuid.uuid5(_CROSSINGS, f"{alert_id}:{kind}:{at}")


def pending(trigger: Trigger, notification_id: uuid.UUID, cooldown_seconds: int, now: datetime,
            arming: datetime | None = None) -> Pending:
    """The pending record of a trigger, due for a retry DELIVERY_LEASE from now (see Pending for arming)."""
    notification = notification_of(trigger, notification_id, "pending", attempts=0,
                                   next_attempt_at=now + DELIVERY_LEASE)
    not_before = notification.triggered_at - timedelta(seconds=cooldown_seconds) if cooldown_seconds else None
    return Pending(notification, not_before, arming)


def as_trigger(notification: Notification) -> Trigger:
    """The trigger a recorded notification sends (for a retry)."""
    return Trigger(notification.alert_id, notification.user_id, notification.symbol, notification.current_price,
                   notification.threshold, notification.price_type or "close", notification.notification_method,
                   round(notification.triggered_at.timestamp() * 1000))


def next_attempt(attempts: int, now: datetime) -> datetime | None:
    """When a delivery that has failed attempts times is tried again (30 s, 1 min, 2 min, ...), or None:
    after MAX_ATTEMPTS it stays failed."""
    if attempts >= MAX_ATTEMPTS:
        return None
    delay: timedelta = RETRY_BASE * 2 ** (attempts - 1)
    return now + delay


def after_attempt(notification: Notification, status: str, detail: str | None, now: datetime) -> Notification:
    """The notification after one delivery attempt: sent with its message id; or failed with its error,
    due again on the retry schedule (or settled as failed after MAX_ATTEMPTS)."""
    check_status(status)
    attempts = notification.attempts + 1
    text = None if detail is None else detail[:255]
    changes: dict[str, object] = {"delivery_status": status, "attempts": attempts}
    if status == "sent":
        changes |= {"message_id": text, "next_attempt_at": None, "last_error": None}
    else:
        changes |= {"next_attempt_at": next_attempt(attempts, now), "last_error": text}
    return notification.model_copy(update=changes)
