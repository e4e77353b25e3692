"""Notifications on DynamoDB as the speed layer records them: exactly once per id, with their alerts'
bookkeeping, and an outbox of deliveries still to make.

The history item (user_id / <triggered_at>#<id>) is put only if absent, in one transaction with its
alert's update (which must exist and, for an alert with a cooldown, must not have fired after the
notification's not_before). While its delivery is pending or to be retried, the history item also carries
outbox_shard (OUTBOX#<nnn>, by id): the sparse Outbox index over (outbox_shard, next_attempt_at) is the
outbox the retry worker reads, shard by shard, the most overdue first. Settling a delivery removes the
attribute, so the index forgets it; no second item is written or deleted per trigger.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from alexdb.adapters.dynamodb.client import Dynamo, TransactionCanceledError
from alexdb.adapters.dynamodb.codec import dump, load
from alexdb.domain.alerts import Notification
from alexdb.domain.capacity import OUTBOX_SHARDS  # a burst of 20,000 triggers spreads over these
from alexdb.domain.instants import instant_text, utcnow
from alexdb.domain.speed_state import Pending

PARALLEL = 8
PER_TRANSACTION = 50  # two actions per notification, within TransactWriteItems' 100
# How long a notification's history item lives: DynamoDB's TTL deletes it this long after it was recorded
# (within the day or two TTL takes), so a user's history does not grow without end; the alert's
# trigger_count keeps the total.
NOTIFICATION_RETENTION = timedelta(days=400)
OUTBOX_INDEX = "Outbox"
DELIVERY_FIELDS = ("delivery_status", "message_id", "attempts", "next_attempt_at", "last_error")
_MARK_NAMES = {f"#{f}": f for f in DELIVERY_FIELDS} | {"#outbox": "outbox_shard"}


def shard_key(number: int) -> str:
    """The Outbox index key of shard number."""
    return f"OUTBOX#{number:03d}"


def outbox_shard(notification_id: uuid.UUID) -> str:
    """The outbox shard a notification's pending delivery is listed under."""
    return shard_key(notification_id.int % OUTBOX_SHARDS)


def history_key(notification: Notification) -> dict[str, str]:
    """The history item of a notification."""
    return {"user_id": notification.user_id,
            "triggered_at_id": f"{instant_text(notification.triggered_at)}#{notification.notification_id}"}


def _rounds(pending: Sequence[Pending]) -> Iterator[list[Pending]]:
    """The first notification of each alert, then the second, ...: a transaction touches an alert once,
    and an alert's notifications are recorded in time order."""
    by_alert: dict[Any, list[Pending]] = defaultdict(list)
    for p in pending:
        by_alert[p.notification.alert_id].append(p)
    depth = max((len(group) for group in by_alert.values()), default=0)
    for k in range(depth):
        yield [group[k] for group in by_alert.values() if len(group) > k]


class DynamoRecorder:
    """Records pending notifications (AlertRecords.record_notifications) and their delivery schedule."""

    def __init__(self, dynamo: Dynamo, alerts: str, history: str) -> None:
        self._dynamo, self._alerts, self._history = dynamo, alerts, history

    def record(self, pending: Sequence[Pending], keep_alive: Callable[[], None] | None = None) -> list[Notification]:
        """Record those not recorded yet; a refused one (its id exists, its alert is gone or inside its
        cooldown) is left out and the rest of its transaction written. Throttling and other failures
        raise: nothing is ever reported as recorded, or as skipped, that was not. The transactions of one
        round touch different alerts, so they run PARALLEL at a time (a burst of 20,000 triggers is some
        600 transactions); keep_alive is called between rounds and every PARALLEL transactions."""
        kept: list[Notification] = []
        for round_ in _rounds(pending):
            chunks = [round_[offset:offset + PER_TRANSACTION] for offset in range(0, len(round_), PER_TRANSACTION)]
            for start in range(0, len(chunks), PARALLEL * 4):
                group = chunks[start:start + PARALLEL * 4]
                if len(group) == 1:
                    kept += self._chunk(group[0])
                else:
                    with ThreadPoolExecutor(max_workers=min(PARALLEL, len(group))) as pool:
                        for done in pool.map(self._chunk, group):
                            kept += done
                if keep_alive is not None:
                    keep_alive()
        return kept

    def arm(self, armed: Sequence[tuple[uuid.UUID, datetime]]) -> None:
        """Set each alert's armed_at to the settings version it was checked at, unless they changed since
        (an UpdateItem each, PARALLEL at a time: new alerts of a symbol may be many)."""
        def one(entry: tuple[uuid.UUID, datetime]) -> None:
            alert_id, version = entry
            self._dynamo.update_if(self._alerts, {"alert_id": str(alert_id)}, "SET armed_at = :v", {},
                                   {":v": instant_text(version)}, "updated_at = :v")

        if len(armed) < 2:
            for entry in armed:
                one(entry)
            return
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(armed))) as pool:
            list(pool.map(one, armed))

    def _chunk(self, chunk: list[Pending]) -> list[Notification]:
        while chunk:
            actions, owners = [], []
            for i, p in enumerate(chunk):
                made = self._actions(p)
                actions += made
                owners += [i] * len(made)
            try:
                self._dynamo.transact(actions)
                return [p.notification for p in chunk]
            except TransactionCanceledError as exc:
                refused = {owners[i] for i, code in enumerate(exc.codes) if code == "ConditionalCheckFailed"}
                if not refused:
                    raise
                chunk = [p for i, p in enumerate(chunk) if i not in refused]
        return []

    def _actions(self, p: Pending) -> list[dict[str, Any]]:
        n = p.notification
        triggered = instant_text(n.triggered_at)
        condition, values = "attribute_exists(alert_id)", {":t": triggered, ":one": 1}
        expression = "SET last_triggered = :t ADD trigger_count :one"
        if p.not_before is not None:
            condition += " AND (attribute_not_exists(last_triggered) OR last_triggered <= :nb)"
            values[":nb"] = instant_text(p.not_before)
        if p.arming is not None:
            condition += " AND updated_at = :version AND (attribute_not_exists(armed_at) OR armed_at <> :version)"
            values[":version"] = instant_text(p.arming)
            expression = "SET last_triggered = :t, armed_at = :version ADD trigger_count :one"
        item = dump(n, **history_key(n), ttl=int((utcnow() + NOTIFICATION_RETENTION).timestamp()))
        if n.next_attempt_at is not None:  # to deliver: listed in the outbox until settled
            item["outbox_shard"] = outbox_shard(n.notification_id)
        history = {"Put": {"TableName": self._history, "ConditionExpression": "attribute_not_exists(user_id)",
                           "Item": item}}
        alert = {"Update": {"TableName": self._alerts, "Key": {"alert_id": str(n.alert_id)},
                            "UpdateExpression": expression, "ConditionExpression": condition,
                            "ExpressionAttributeValues": values}}
        return [alert, history]

    def mark(self, notifications: Sequence[Notification]) -> None:
        """Write each delivery's outcome to its history item: still to retry, it stays in the outbox at its
        next attempt; settled, it leaves it (100 updates a transaction)."""
        for offset in range(0, len(notifications), 100):
            actions: list[dict[str, Any]] = []
            for n in notifications[offset:offset + 100]:
                values = dump(n)
                kept = [f for f in DELIVERY_FIELDS if values[f] is not None]
                gone = [f for f in DELIVERY_FIELDS if values[f] is None]
                assigned = [f"#{f} = :{f}" for f in kept]
                arguments = {f":{f}": values[f] for f in kept}
                if n.next_attempt_at is None:
                    gone.append("outbox")
                else:
                    assigned.append("#outbox = :outbox")
                    arguments[":outbox"] = outbox_shard(n.notification_id)
                expression = " ".join(part for part in (
                    "SET " + ", ".join(assigned) if assigned else "",
                    "REMOVE " + ", ".join(f"#{f}" for f in gone) if gone else "") if part)
                actions.append({"Update": {
                    "TableName": self._history, "Key": history_key(n), "UpdateExpression": expression,
                    "ExpressionAttributeNames": _MARK_NAMES, "ExpressionAttributeValues": arguments}})
            self._dynamo.transact(actions)

    def due(self, now: datetime, size: int) -> list[Notification]:
        """Up to size due deliveries, the most overdue first: each outbox shard's due entries (one Query of
        the Outbox index: it holds only deliveries not yet settled), then their history items. The index
        is eventually consistent: a delivery recorded a moment ago may wait for the next round."""
        cutoff = instant_text(now)

        def shard(number: int) -> list[dict[str, Any]]:
            # The first `size` of a shard, oldest first, are all it can add (no filter: Limit is exact).
            return self._dynamo.query_page(
                self._history, size, None, IndexName=OUTBOX_INDEX, ExpressionAttributeNames={"#s": "outbox_shard"},
                KeyConditionExpression="#s = :s AND next_attempt_at <= :cutoff",
                ExpressionAttributeValues={":s": shard_key(number), ":cutoff": cutoff})[0]

        with ThreadPoolExecutor(max_workers=16) as pool:
            waiting = [item for items in pool.map(shard, range(OUTBOX_SHARDS)) for item in items]
        waiting.sort(key=lambda item: (item["next_attempt_at"], item["triggered_at_id"]))
        keys = [{"user_id": item["user_id"], "triggered_at_id": item["triggered_at_id"]} for item in waiting[:size]]
        found = [load(Notification, item) for item in self._dynamo.batch_get(self._history, keys)]
        # An entry the index still lists for a delivery settled since is not due.
        due = [n for n in found if n.next_attempt_at is not None and n.next_attempt_at <= now]
        return sorted(due, key=lambda n: (n.next_attempt_at, str(n.notification_id)))

    def claim(self, notification: Notification, until: datetime) -> bool:
        """Move a due delivery's next attempt to until, if it is still as read (one conditional update)."""
        expected = notification.next_attempt_at
        if expected is None:
            return False
        return self._dynamo.update_if(
            self._history, history_key(notification), "SET next_attempt_at = :until", {},
            {":until": instant_text(until), ":expected": instant_text(expected)},
            "next_attempt_at = :expected") is not None
