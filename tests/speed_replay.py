"""Many ingestors over one store, with restarts and redeliveries, and the independent replay they must equal.

Run as a module (python -m tests.speed_replay URL SEED FIRST) it is one ingestor process of the
multi-process test: it feeds the stream from FIRST with restarts and redeliveries, and exits.
"""

from __future__ import annotations

import json
import random
import sys
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import alexdb
from alexdb import Database
from alexdb.domain.alerts import Trigger
from alexdb.domain.instants import now_ms
from alexdb.speed.notifiers import Delivery
from alexdb.speed.pipeline import Ingestor

THRESHOLDS = [Decimal("99.5"), Decimal("100"), Decimal("100.5")]
OPERATORS = [">", ">=", "<", "<=", "==", "crosses_above", "crosses_below"]
BATCH = 7


@dataclass(frozen=True)
class Watch:
    """An alert as the replay sees it."""

    alert_id: str
    operator: str
    threshold: Decimal
    cooldown_ms: int


class Receiver:
    """A notifier that keeps every idempotency key it is sent (thread-safe)."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self._lock = threading.Lock()

    def send(self, trigger: Trigger, key: str) -> str:
        with self._lock:
            self.keys.append(key)
        return f"got-{key}"


def make_alerts(db: Database) -> list[Watch]:
    """One alert per operator and threshold on SPY, every third with a 2 s cooldown."""
    made = []
    for n, (operator, threshold) in enumerate((o, t) for o in OPERATORS for t in THRESHOLDS):
        cooldown = 2 if n % 3 == 0 else 0
        alert = db.alerts.create_alert(f"user{n % 4}", "SPY", {"operator": operator, "threshold": str(threshold)},
                                       cooldown_seconds=cooldown)
        made.append(Watch(str(alert.alert_id), operator, threshold, cooldown * 1000))
    return made


def make_ticks(seed: int, count: int) -> list[dict[str, Any]]:
    """A random walk of SPY on a 0.25 grid around the thresholds, 50 ms to 1.5 s apart, in the last hour."""
    rng = random.Random(seed)
    at, price, ticks = now_ms() - 3_600_000, Decimal("100"), []
    for _ in range(count):
        at += rng.randint(50, 1500)
        price = min(max(price + Decimal("0.25") * rng.choice([-2, -1, -1, 0, 1, 1, 2]), Decimal("98.5")),
                    Decimal("101.5"))
        ticks.append({"symbol": "SPY", "price": str(price), "timestamp": at})
    return ticks


def holds(operator: str, threshold: Decimal, value: Decimal) -> bool:
    """The level condition (a crossing's side: above for crosses_above, below for crosses_below)."""
    return {">": value > threshold, ">=": value >= threshold, "<": value < threshold, "<=": value <= threshold,
            "==": value == threshold, "crosses_above": value > threshold,
            "crosses_below": value < threshold}[operator]


def replay(watches: list[Watch], ticks: list[dict[str, Any]]) -> set[tuple[str, int]]:
    """The firings, written from the definitions and not from the engine: a level condition fires when it
    becomes true (or holds at the first tick); a crossing when the price moves from one side (or the
    threshold) to strictly the other; a firing within cooldown of the last one is dropped."""
    fired: set[tuple[str, int]] = set()
    for watch in watches:
        previous: Decimal | None = None
        last: int | None = None
        for tick in ticks:
            price, at = Decimal(tick["price"]), tick["timestamp"]
            now = holds(watch.operator, watch.threshold, price)
            if watch.operator.startswith("crosses"):
                edge = previous is not None and now and (
                    previous <= watch.threshold if watch.operator == "crosses_above" else previous >= watch.threshold)
            else:
                edge = now and (previous is None or not holds(watch.operator, watch.threshold, previous))
            if edge and (last is None or at - last >= watch.cooldown_ms):
                fired.add((watch.alert_id, at))
                last = at
            previous = price
    return fired


def feed(url: str, ticks: list[dict[str, Any]], seed: int, first: int, receiver: Receiver) -> None:
    """One ingestor's life from position first to the end: batches of BATCH ticks; now and then it crashes
    (dropped without settling, its deliveries maybe unsent) or restarts cleanly, and the batches since a
    random earlier checkpoint are delivered again, as Kinesis does after a failed invocation."""
    rng = random.Random(seed)
    db = alexdb.connect(url)
    try:
        ingestor = Ingestor(db, {"websocket": receiver}, Delivery(attempts=1, base_delay=0))
        position = first
        while position < len(ticks):
            ingestor.ingest(ticks[position:position + BATCH])
            position += BATCH
            roll = rng.random()
            if roll < 0.15:
                if roll < 0.07:
                    ingestor.close()  # a clean restart
                ingestor = Ingestor(db, {"websocket": receiver}, Delivery(attempts=1, base_delay=0))
                position = max(first, position - BATCH * rng.randint(0, 3))  # redelivered from a checkpoint
        ingestor.close()
    finally:
        db.close()


if __name__ == "__main__":
    URL, SEED, FIRST = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    TICKS = json.loads(sys.stdin.read())
    RECEIVED = Receiver()
    feed(URL, TICKS, SEED, FIRST, RECEIVED)
    print(json.dumps(RECEIVED.keys))
