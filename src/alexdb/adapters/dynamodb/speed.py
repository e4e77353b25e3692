"""The speed layer's data on DynamoDB (seed 002): alert_configurations (AlertsBySymbol, UserIndex),
realtime_ticks (symbol / timestamp, TTL 24 h) and alert_notifications_history (user_id / triggered_at#id)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import suppress
from datetime import datetime
from typing import Any

from alexdb.adapters.dynamodb.client import ConditionFailedError, Dynamo
from alexdb.adapters.dynamodb.codec import dump, load
from alexdb.adapters.dynamodb.deliveries import DynamoRecorder
from alexdb.adapters.dynamodb.paging import query_rows
from alexdb.domain.alerts import Alert, AlertEntry, Notification, stored_entry
from alexdb.domain.instants import instant_text, to_instant
from alexdb.domain.numbers import whole_number
from alexdb.domain.paging import Bookmark
from alexdb.domain.speed_rules import SETTINGS
from alexdb.domain.speed_state import Pending
from alexdb.ports import Rows

ALERT_KEY = ("alert_id",)
NOTIFICATION_KEY = ("user_id", "triggered_at_id")


def _alert(item: dict[str, Any]) -> Alert:
    return load(Alert, item)


def _entry(item: dict[str, Any]) -> AlertEntry:
    """An item's settings in their Python types (ids and instants are text, numbers Decimal here)."""
    cooldown, armed = item["cooldown_seconds"], item.get("armed_at")
    with suppress(ValueError):  # not a whole number: stored_entry validates the row as the model, and refuses it
        cooldown = whole_number(cooldown)
    return stored_entry(uuid.UUID(item["alert_id"]), item["user_id"], item["symbol"], item["condition_type"],
                        item["condition"], item["notification_method"], cooldown, item["enabled"],
                        to_instant(item["updated_at"], "updated_at"),
                        None if armed is None else to_instant(armed, "armed_at"))


class DynamoAlerts:
    """AlertRecords on DynamoDB."""

    def __init__(self, dynamo: Dynamo, table: str, recorder: DynamoRecorder) -> None:
        self._dynamo, self._table, self._recorder = dynamo, table, recorder

    def insert_alert(self, alert: Alert) -> None:
        """Put, conditional: a new id never overwrites an existing alert."""
        self._dynamo.put(self._table, dump(alert), condition="attribute_not_exists(alert_id)")

    def get_alert(self, alert_id: uuid.UUID) -> Alert | None:
        """The alert, or None."""
        item = self._dynamo.get(self._table, {"alert_id": str(alert_id)})
        return None if item is None else _alert(item)

    def replace_settings(self, alert: Alert, expected: datetime) -> Alert | None:
        """Set the settings only while updated_at is still expected; trigger bookkeeping is left as stored."""
        values = dump(alert)
        names = [n for n in SETTINGS if n in values]
        item = self._dynamo.update_if(self._table, {"alert_id": str(alert.alert_id)},
                                      "SET " + ", ".join(f"#{n} = :{n}" for n in names), {f"#{n}": n for n in names},
                                      {**{f":{n}": values[n] for n in names}, ":expected": instant_text(expected)},
                                      "#updated_at = :expected")
        return None if item is None else _alert(item)

    def delete_alert(self, alert_id: uuid.UUID) -> bool:
        """Delete; False when there is none."""
        try:
            self._dynamo.call("DeleteItem", TableName=self._table, Key={"alert_id": {"S": str(alert_id)}},
                              ConditionExpression="attribute_exists(alert_id)")
        except ConditionFailedError:
            return False
        return True

    def user_page(self, user_id: str, after: Bookmark | None, size: int) -> Rows:
        """A user's alerts, newest first: one Query of UserIndex per page."""
        return query_rows(self._dynamo, self._table, _alert, size, after, ALERT_KEY, IndexName="UserIndex",
                          ScanIndexForward=False, KeyConditionExpression="user_id = :u",
                          ExpressionAttributeValues={":u": user_id})

    def settings_page(self, symbol: str, after: Bookmark | None, size: int) -> Rows:
        """Alerts' settings on a symbol as AlertEntry, by user: one Query of AlertsBySymbol per page."""
        return query_rows(self._dynamo, self._table, _entry, size, after, ALERT_KEY,
                          IndexName="AlertsBySymbol", KeyConditionExpression="symbol = :s",
                          ExpressionAttributeValues={":s": symbol})

    def symbol_page(self, symbol: str, after: Bookmark | None, size: int) -> Rows:
        """Alerts on a symbol, by user: a page of AlertsBySymbol, completed from the table (one BatchGetItem)."""
        settings, position = self.settings_page(symbol, after, size)
        found = {item["alert_id"]: item for item in self._dynamo.batch_get(
            self._table, [{"alert_id": str(alert.alert_id)} for alert in settings])} if settings else {}
        # An alert deleted since the index was read has no item: it is left out, as a later read would.
        return [_alert(found[str(a.alert_id)]) for a in settings if str(a.alert_id) in found], position

    def record_notifications(self, pending: Sequence[Pending]) -> list[Notification]:
        """Record each not recorded yet with its alert's bookkeeping (see deliveries.DynamoRecorder)."""
        return self._recorder.record(pending)


class DynamoNotifications:
    """NotificationRecords on DynamoDB."""

    def __init__(self, dynamo: Dynamo, table: str, recorder: DynamoRecorder) -> None:
        self._dynamo, self._table, self._recorder = dynamo, table, recorder

    def user_page(self, user_id: str, after: Bookmark | None, size: int) -> Rows:
        """A user's notifications, newest first: one Query per page."""
        return query_rows(self._dynamo, self._table, lambda item: load(Notification, item), size, after,
                          NOTIFICATION_KEY, ScanIndexForward=False, KeyConditionExpression="user_id = :u",
                          ExpressionAttributeValues={":u": user_id})

    def mark(self, notifications: Sequence[Notification]) -> None:
        """Write deliveries' outcomes (history and outbox)."""
        self._recorder.mark(notifications)

    def due(self, now: datetime, size: int) -> list[Notification]:
        """Deliveries due now, from the outbox."""
        return self._recorder.due(now, size)

    def claim(self, notification: Notification, until: datetime) -> bool:
        """Move a due delivery's next attempt, if still as read."""
        return self._recorder.claim(notification, until)
