"""Each symbol's speed cursor on DynamoDB: <symbol> / CURSOR in the instruments table, advanced under a lease.

A transaction cannot hold a cursor and a burst's thousands of notifications (100 actions at most), so
the cursor is leased instead: a conditional write (no lease, or one run out) takes it for LEASE_MS and
returns it, the step runs, the notifications are recorded (each exactly once by its id, see deliveries),
and a write conditional on the lease moves the cursor and frees it. An ingestor that dies holding the
lease leaves the cursor where it was: after LEASE_MS another takes it and applies the same ticks again,
recording nothing twice.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
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
LEASE_NAMES = {"#lease": "lease", "#until": "lease_until"}
PARALLEL = 8
_Lease = tuple[dict[str, str], str, dict[str, Any]]  # key, token, the cursor item as the lease left it
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
        """Lease the symbols' cursors, run step on each, record the notifications, then move the cursors and
        free them. The leases are tried all at once; a cursor another ingestor holds is waited for after
        the others are done and freed, one at a time, so two ingestors never wait on each other."""
        keys = [{"PK": symbol, "SK": CURSOR} for symbol in sorted(set(symbols))]
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(keys))) as pool:
            tried = list(pool.map(self._try_lease, keys))
        recorded = self._apply([lease for lease in tried if lease is not None], step)
        for key, lease in zip(keys, tried, strict=True):
            if lease is None:
                recorded += self._apply([self._lease(key)], step)
        return recorded

    def _apply(self, leases: list[_Lease], step: CursorStep) -> list[Notification]:
        if not leases:
            return []
        moved: dict[str, dict[str, Any]] = {}
        try:
            pending, armed = [], []
            for key, _, item in leases:
                advance = step(key["PK"], _cursor(item))
                pending += advance.pending
                armed += advance.armed
                if advance.cursor is not None:
                    moved[key["PK"]] = {name: getattr(advance.cursor, name) for name in FIELDS}
            recorded = self._recorder.record(pending, lambda: self._each(self._renew, leases))
            self._recorder.arm(armed)
        except BaseException:
            self._each(lambda key, token: self._release(key, token, {}), leases)  # the cursors stay where they were
            raise
        self._each(lambda key, token: self._release(key, token, moved.get(key["PK"], {})), leases)
        return recorded

    def _each(self, action: Any, leases: list[_Lease]) -> None:
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(leases))) as pool:
            list(pool.map(lambda lease: action(lease[0], lease[1]), leases))

    def _try_lease(self, key: dict[str, str]) -> _Lease | None:
        """Take the lease if no one holds it (or the holder's has run out): one conditional update, whose
        new image is the cursor. None if another ingestor holds it."""
        token, now = uuid.uuid4().hex, now_ms()
        try:
            item = self._dynamo.update(self._table, key, "SET #lease = :t, #until = :until", LEASE_NAMES,
                                       {":t": token, ":until": now + LEASE_MS, ":now": now},
                                       "attribute_not_exists(#lease) OR #until <= :now")
        except ConditionFailedError:
            return None
        return key, token, item

    def _lease(self, key: dict[str, str]) -> _Lease:
        deadline, pause = time.monotonic() + WAIT_S, 0.005
        while (lease := self._try_lease(key)) is None:
            if time.monotonic() > deadline:
                raise ConflictError(f"the speed cursor of {key['PK']} stayed leased by another ingestor for "
                                    f"{WAIT_S:.0f} s")
            time.sleep(pause)
            pause = min(pause * 2, 0.2)
        return lease

    def _renew(self, key: dict[str, str], token: str) -> None:
        """Extend the lease while a burst is being recorded (if it was lost meanwhile, the ingestor that
        took it applies the same ticks again: what this one recorded is not recorded twice)."""
        with contextlib.suppress(ConditionFailedError):
            self._dynamo.update(self._table, key, "SET #until = :until", LEASE_NAMES,
                                {":until": now_ms() + LEASE_MS, ":t": token}, "#lease = :t")

    def _release(self, key: dict[str, str], token: str, values: dict[str, Any]) -> None:
        """Free the lease, writing values with it; a lease lost to another ingestor (it outlived LEASE_MS)
        leaves that ingestor's cursor as it is."""
        names = {**LEASE_NAMES, **{f"#{name}": name for name in values}}
        sets = [f"#{name} = :{name}" for name in values]
        expression = ("SET " + ", ".join(sets) + " " if sets else "") + "REMOVE #lease, #until"
        with contextlib.suppress(ConditionFailedError):
            self._dynamo.update(self._table, key, expression, names,
                                {":t": token, **{f":{name}": v for name, v in values.items()}}, "#lease = :t")
