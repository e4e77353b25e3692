"""Rules shared by every backend's alert store: building, updating and recording alerts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from alexdb.domain.alerts import Alert, NewAlert, Notification, Trigger
from alexdb.domain.errors import ValidationError
from alexdb.domain.ids import new_id
from alexdb.domain.instants import next_stamp, utcnow
from alexdb.domain.validate import build, check_fields

Delivered = tuple[Trigger, str, str | None]
"""A trigger as delivered: (trigger, delivery_status, message_id)."""

UPDATABLE = {"condition", "condition_type", "notification_method", "enabled", "cooldown_seconds"}
DELIVERY = ("sent", "failed")
SETTINGS = ("condition", "condition_type", "notification_method", "enabled", "cooldown_seconds", "updated_at")
"""What an update of an alert writes: never its trigger bookkeeping (last_triggered, trigger_count)."""


def new_alert(user_id: str, symbol: str, condition: Any, /, **fields: Any) -> Alert:
    """A validated new alert; condition_type follows the condition unless given."""
    check_fields(NewAlert, fields, UPDATABLE - {"condition"})
    if "condition_type" not in fields and isinstance(condition, dict):
        if condition.get("indicator"):
            fields["condition_type"] = "indicator"
        elif condition.get("field"):
            fields["condition_type"] = "fundamental"
    new = build(NewAlert, {"user_id": user_id, "symbol": symbol, "condition": condition, **fields})
    now = utcnow()
    return build(Alert, {**new.model_dump(), "alert_id": new_id(), "created_at": now, "updated_at": now})


def updated_alert(current: Alert, fields: dict[str, Any]) -> Alert:
    """current with fields changed, validated as a whole; updated_at (its version) moves forward."""
    check_fields(NewAlert, fields, UPDATABLE)
    return build(Alert, {**current.model_dump(), **fields, "updated_at": next_stamp(current.updated_at)})


def check_status(delivery_status: str) -> str:
    """A delivery's outcome: sent or failed (pending is what the store records before the attempt)."""
    if delivery_status not in DELIVERY:
        raise ValidationError("delivery_status", delivery_status, "must be sent or failed")
    return delivery_status


def notification_of(trigger: Trigger, notification_id: uuid.UUID, delivery_status: str,
                    **delivery: Any) -> Notification:
    """The history record of a trigger (the one mapping from a trigger to its record), with the given
    delivery fields (message_id, attempts, next_attempt_at, ...)."""
    return build(Notification, {
        "notification_id": notification_id, "user_id": trigger.user_id, "alert_id": trigger.alert_id,
        "symbol": trigger.symbol, "triggered_at": datetime.fromtimestamp(trigger.timestamp / 1000, UTC),
        "current_price": trigger.price, "threshold": trigger.threshold, "price_type": trigger.price_type,
        "notification_method": trigger.notification_method, "delivery_status": delivery_status, **delivery})


def check_delivery(trigger: Trigger, delivery_status: str, message_id: str | None) -> Notification:
    """The history record of a trigger's delivery, as recorded by hand (a new id)."""
    return notification_of(trigger, new_id(), check_status(delivery_status), message_id=message_id)
