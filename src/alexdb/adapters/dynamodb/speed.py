"""The speed layer's data on DynamoDB (seed 002): alert_configurations (SymbolIndex, UserIndex),
realtime_ticks (symbol / timestamp, TTL 24 h) and alert_notifications_history (user_id / triggered_at#id)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from alexdb.adapters.dynamodb.client import ConditionFailedError, Dynamo, TransactionCanceledError
from alexdb.adapters.dynamodb.codec import dump, load
from alexdb.adapters.dynamodb.paging import query_page
from alexdb.domain.alerts import TICK_TTL_MS, Alert, Notification, Tick, Trigger
from alexdb.domain.errors import NotFoundError
from alexdb.domain.instants import instant_text, now_ms
from alexdb.domain.models import normalise_symbol
from alexdb.domain.paging import Page, check_limit
from alexdb.domain.speed_rules import Delivered, check_delivery, new_alert, updated_alert
from alexdb.domain.ticks import parse_ticks
from alexdb.domain.validate import parse_id

ALERT_KEY = ("alert_id",)
NOTIFICATION_KEY = ("user_id", "triggered_at_id")


def _alert(item: dict[str, Any]) -> Alert:
    return load(Alert, item)


class DynamoAlerts:
    """db.alerts on DynamoDB."""

    def __init__(self, dynamo: Dynamo, table: str, history_table: str) -> None:
        self._dynamo, self._table, self._history = dynamo, table, history_table

    def create_alert(self, user_id: str, symbol: str, condition: Any, **fields: Any) -> Alert:
        """Create an alert; one that could never fire is refused."""
        alert = new_alert(user_id, symbol, condition, **fields)
        # Conditional: a new id never overwrites an existing alert.
        self._dynamo.put(self._table, dump(alert), condition="attribute_not_exists(alert_id)")
        return alert

    def get_alert(self, alert_id: uuid.UUID | str) -> Alert:
        """The alert; NotFoundError if there is none."""
        item = self._dynamo.get(self._table, {"alert_id": str(parse_id("alert", alert_id))})
        if item is None:
            raise NotFoundError("alert", alert_id)
        return _alert(item)

    def update_alert(self, alert_id: uuid.UUID | str, **fields: Any) -> Alert:
        """Change an alert, validated as a whole; trigger bookkeeping written meanwhile is kept."""
        current = self.get_alert(alert_id)
        changed = updated_alert(current, fields)
        values = dump(changed)
        names = [n for n in ("condition", "condition_type", "notification_method", "enabled", "cooldown_seconds",
                             "updated_at") if n in values]
        try:
            item = self._dynamo.update(self._table, {"alert_id": str(current.alert_id)},
                                       "SET " + ", ".join(f"#{n} = :{n}" for n in names),
                                       {f"#{n}": n for n in names}, {f":{n}": values[n] for n in names},
                                       condition="attribute_exists(alert_id)")
        except ConditionFailedError as exc:
            raise NotFoundError("alert", alert_id) from exc
        return _alert(item)

    def enable(self, alert_id: uuid.UUID | str) -> Alert:
        """Turn an alert on."""
        return self.update_alert(alert_id, enabled=True)

    def disable(self, alert_id: uuid.UUID | str) -> Alert:
        """Turn an alert off (kept, not evaluated)."""
        return self.update_alert(alert_id, enabled=False)

    def delete_alert(self, alert_id: uuid.UUID | str) -> None:
        """Delete an alert (its notification history stays)."""
        key = str(parse_id("alert", alert_id))
        try:
            self._dynamo.call("DeleteItem", TableName=self._table, Key={"alert_id": {"S": key}},
                              ConditionExpression="attribute_exists(alert_id)")
        except ConditionFailedError as exc:
            raise NotFoundError("alert", alert_id) from exc

    def find_by_user(self, user_id: str, limit: int | None = None, cursor: str | None = None) -> Page[Alert]:
        """A user's alerts, newest first: one Query of UserIndex per page."""
        return query_page(self._dynamo, self._table, _alert, limit, cursor, ALERT_KEY, IndexName="UserIndex",
                          ScanIndexForward=False, KeyConditionExpression="user_id = :u",
                          ExpressionAttributeValues={":u": user_id})

    def find_by_symbol(self, symbol: str, limit: int | None = None, cursor: str | None = None) -> Page[Alert]:
        """Alerts on a symbol, by user: one Query of SymbolIndex per page."""
        return query_page(self._dynamo, self._table, _alert, limit, cursor, ALERT_KEY, IndexName="SymbolIndex",
                          KeyConditionExpression="symbol = :s",
                          ExpressionAttributeValues={":s": normalise_symbol(symbol)})

    def record_trigger(self, trigger: Trigger, delivery_status: str, message_id: str | None = None) -> Notification:
        """The history record and the alert's last_triggered / trigger_count, in one transaction."""
        return self._record(trigger, check_delivery(trigger, delivery_status, message_id))

    def _record(self, trigger: Trigger, notification: Notification) -> Notification:
        triggered = instant_text(notification.triggered_at)
        try:
            self._dynamo.transact([
                {"Update": {"TableName": self._table, "Key": {"alert_id": str(trigger.alert_id)},
                            "UpdateExpression": "SET last_triggered = :t ADD trigger_count :one",
                            "ConditionExpression": "attribute_exists(alert_id)",
                            "ExpressionAttributeValues": {":t": triggered, ":one": 1}}},
                {"Put": {"TableName": self._history, "ConditionExpression": "attribute_not_exists(user_id)",
                         "Item": dump(notification, triggered_at_id=f"{triggered}#{notification.notification_id}")}},
            ])
        except TransactionCanceledError as exc:
            raise NotFoundError("alert", str(trigger.alert_id)) from exc
        return notification

    def record_triggers(self, deliveries: Sequence[Delivered]) -> list[Notification]:
        """Each delivery in its own transaction (alert and history together); deleted alerts are skipped."""
        notifications = [check_delivery(*delivered) for delivered in deliveries]  # a bad batch writes nothing
        recorded = []
        for (trigger, _, _), notification in zip(deliveries, notifications, strict=True):
            with contextlib.suppress(NotFoundError):
                recorded.append(self._record(trigger, notification))
        return recorded


class DynamoNotifications:
    """db.notifications on DynamoDB."""

    def __init__(self, dynamo: Dynamo, table: str) -> None:
        self._dynamo, self._table = dynamo, table

    def find_by_user(self, user_id: str, limit: int | None = None, cursor: str | None = None) -> Page[Notification]:
        """A user's notifications, newest first: one Query per page."""
        return query_page(self._dynamo, self._table, lambda item: load(Notification, item), limit, cursor,
                          NOTIFICATION_KEY, ScanIndexForward=False, KeyConditionExpression="user_id = :u",
                          ExpressionAttributeValues={":u": user_id})


class DynamoTicks:
    """db.ticks on DynamoDB: TTL deletes ticks 24 hours on, and reads leave expired ones out before that."""

    def __init__(self, dynamo: Dynamo, table: str) -> None:
        self._dynamo, self._table = dynamo, table

    def record_ticks(self, batch: Iterable[Any]) -> int:
        """Store ticks (validated first: a bad one refuses the batch); the last of a millisecond wins."""
        ticks = parse_ticks(batch)
        items = {(t.symbol, t.timestamp): {**t._asdict(), "ttl": (t.timestamp + TICK_TTL_MS) // 1000}
                 for t in ticks}
        self._dynamo.batch_write(self._table, puts=list(items.values()))
        return len(ticks)

    def latest(self, symbol: str) -> Tick | None:
        """The newest live tick of a symbol: one Query, newest first, limit 1."""
        found = self.window(symbol, 0, 2**62, limit=1, newest_first=True)
        return found[0] if found else None

    def window(self, symbol: str, start_ms: int, end_ms: int, limit: int | None = None,
               newest_first: bool = False) -> list[Tick]:
        """Live ticks with start_ms <= timestamp <= end_ms; the key condition leaves expired ones out."""
        low = max(start_ms, now_ms() - TICK_TTL_MS + 1)
        if low > end_ms:
            return []
        size = check_limit(limit or 1000)
        ticks: list[Tick] = []
        for item in self._dynamo.query(self._table, ScanIndexForward=not newest_first, ConsistentRead=True,
                                       KeyConditionExpression="symbol = :s AND #t BETWEEN :low AND :high",
                                       ExpressionAttributeNames={"#t": "timestamp"},
                                       ExpressionAttributeValues={":s": normalise_symbol(symbol), ":low": low,
                                                                  ":high": end_ms}):
            ticks.append(load(Tick, item))
            if len(ticks) == size:
                break
        return ticks

    def purge_expired(self) -> int:
        """Nothing to do: DynamoDB's TTL deletes expired ticks, and reads already leave them out."""
        return 0
