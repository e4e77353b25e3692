"""The websocket notifier: triggers fanned out to the open WebSocket connections of their users."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

from alexdb.domain.alerts import Trigger
from alexdb.domain.ids import new_id
from alexdb.speed.notifiers import PermanentDeliveryError, describe

QUEUE_LIMIT = 1000


@dataclass(eq=False)
class Subscription:
    """One open connection of a user: messages reach it through a queue on its event loop."""

    user_id: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))

    def offer(self, message: dict[str, Any]) -> None:
        """On the loop: enqueue, dropping the oldest message of a client too slow to keep up."""
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(message)


class WebSocketBroadcaster:
    """A Notifier for method "websocket"; the HTTP service serves its subscriptions at /ws/{user_id}.

    send() may run on any thread (the Ingestor delivers on a pool): it hands each message to the
    connection's own event loop. A user with no open connection is a failed delivery, so the history
    says the notification was not seen.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: dict[str, set[Subscription]] = {}

    def subscribe(self, user_id: str, loop: asyncio.AbstractEventLoop) -> Subscription:
        """A new connection of user_id, served on loop."""
        subscription = Subscription(user_id, loop)
        with self._lock:
            self._subscriptions.setdefault(user_id, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """The connection has closed."""
        with self._lock:
            held = self._subscriptions.get(subscription.user_id, set())
            held.discard(subscription)
            if not held:
                self._subscriptions.pop(subscription.user_id, None)

    def connections(self, user_id: str) -> int:
        """How many connections user_id has open."""
        with self._lock:
            return len(self._subscriptions.get(user_id, ()))

    def send(self, trigger: Trigger, key: str) -> str:
        """Hand the trigger to every open connection of its user; the message id is ours."""
        with self._lock:
            targets = list(self._subscriptions.get(trigger.user_id, ()))
        if not targets:
            raise PermanentDeliveryError(f"user {trigger.user_id} has no open WebSocket connection")
        message_id = f"ws-{new_id()}"
        message = {"type": "price_alert", "message_id": message_id, **describe(trigger, key)}
        for subscription in targets:
            subscription.loop.call_soon_threadsafe(subscription.offer, message)
        return message_id
