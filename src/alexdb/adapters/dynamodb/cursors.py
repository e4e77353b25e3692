"""Each symbol's speed cursor on DynamoDB: <symbol> / CURSOR in the instruments table, advanced under a lease.

A transaction cannot hold a cursor and a burst's thousands of notifications (100 actions at most), so
the cursor is leased instead: a conditional write on its version takes it for LEASE_MS, the step runs,
the notifications are recorded (each exactly once by its id, see deliveries), and a write conditional
on the lease moves the cursor and frees it. An ingestor that dies holding the lease leaves the cursor
where it was: after LEASE_MS another takes it and applies the same ticks again, recording nothing twice.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Sequence
from typing import Any

from alexdb.adapters.dynamodb.client import ConditionFailedError, Dynamo
from alexdb.adapters.dynamodb.deliveries import DynamoRecorder
from alexdb.domain.alerts import Notification
from alexdb.domain.errors import ConflictError
from alexdb.domain.instants import now_ms
from alexdb.domain.speed_state import SymbolCursor
from alexdb.ports import CursorStep

CURSOR = "CURSOR"  # sorts after every price point ("0".."9") of the symbol's partition
LEASE_MS = 30_000
WAIT_S = 60.0  # how long an ingestor waits for a cursor another holds before it gives up (twice the lease)
LEASE_NAMES = {"#lease": "lease", "#until": "lease_until", "#v": "version"}
FIELDS = ("applied_ms", "minute", "open", "high", "low", "close", "writer")


def _cursor(item: dict[str, Any] | None) -> SymbolCursor | None:
    if item is None or "applied_ms" not in item:
        return None
    return SymbolCursor(symbol=item["PK"], applied_ms=int(item["applied_ms"]), minute=int(item["minute"]),
                        open=item["open"], high=item["high"], low=item["low"], close=item["close"],
                        writer=item["writer"])


class DynamoCursors:
    """CursorRecords on DynamoDB."""

    def __init__(self, dynamo: Dynamo, table: str, recorder: DynamoRecorder) -> None:
        self._dynamo, self._table, self._recorder = dynamo, table, recorder

    def cursor(self, symbol: str) -> SymbolCursor | None:
        """The cursor (a strongly consistent read), or None before the symbol's first tick."""
        return _cursor(self._dynamo.get(self._table, {"PK": symbol, "SK": CURSOR}))

    def advance(self, symbols: Sequence[str], step: CursorStep) -> list[Notification]:
        """Each symbol in turn: lease its cursor, run step, record its notifications, then move the cursor
        and free it."""
        return [n for symbol in dict.fromkeys(symbols) for n in self._advance(symbol, step)]

    def _advance(self, symbol: str, step: CursorStep) -> list[Notification]:
        key = {"PK": symbol, "SK": CURSOR}
        token, item = self._lease(key)
        try:
            advance = step(symbol, _cursor(item))
            recorded = self._recorder.record(advance.pending, lambda: self._renew(key, token))
            self._recorder.arm(advance.armed)
        except BaseException:
            self._release(key, token, {})
            raise
        values: dict[str, Any] = {}
        if advance.cursor is not None:
            values = {name: getattr(advance.cursor, name) for name in FIELDS}
        self._release(key, token, values)
        return recorded

    def _lease(self, key: dict[str, str]) -> tuple[str, dict[str, Any] | None]:
        token, deadline, pause = uuid.uuid4().hex, time.monotonic() + WAIT_S, 0.005
        while True:
            item = self._dynamo.get(self._table, key)
            now = now_ms()
            if item is None or int(item.get("lease_until", 0)) <= now:
                version = None if item is None else int(item["version"])
                condition = "attribute_not_exists(PK)" if version is None else "#v = :v"
                values: dict[str, Any] = {":t": token, ":until": now + LEASE_MS, ":next": (version or 0) + 1}
                if version is not None:
                    values[":v"] = version
                try:
                    self._dynamo.update(self._table, key, "SET #lease = :t, #until = :until, #v = :next",
                                        LEASE_NAMES, values, condition)
                    return token, item
                except ConditionFailedError:
                    pass  # another ingestor took it first: read it again
            if time.monotonic() > deadline:
                raise ConflictError(f"the speed cursor of {key['PK']} stayed leased by another ingestor for "
                                    f"{WAIT_S:.0f} s")
            time.sleep(pause)
            pause = min(pause * 2, 0.2)

    def _renew(self, key: dict[str, str], token: str) -> None:
        """Extend the lease while a burst is being recorded (if it was lost meanwhile, the ingestor that
        took it applies the same ticks again: what this one recorded is not recorded twice)."""
        with contextlib.suppress(ConditionFailedError):
            self._dynamo.update(self._table, key, "SET #until = :until", {"#until": "lease_until", "#lease": "lease"},
                                {":until": now_ms() + LEASE_MS, ":t": token}, "#lease = :t")

    def _release(self, key: dict[str, str], token: str, values: dict[str, Any]) -> None:
        """Free the lease, writing values with it; a lease lost to another ingestor (it outlived LEASE_MS)
        leaves that ingestor's cursor as it is."""
        names = {**LEASE_NAMES, **{f"#{name}": name for name in values}}
        names.pop("#v")
        sets = [f"#{name} = :{name}" for name in values]
        expression = ("SET " + ", ".join(sets) + " " if sets else "") + "REMOVE #lease, #until"
        with contextlib.suppress(ConditionFailedError):
            self._dynamo.update(self._table, key, expression, names,
                                {":t": token, **{f":{name}": v for name, v in values.items()}}, "#lease = :t")
