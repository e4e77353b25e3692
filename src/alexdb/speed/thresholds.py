"""Alerts of one symbol and price type, indexed by threshold, and the one definition of each operator."""

from __future__ import annotations

import uuid
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from decimal import Decimal
from typing import NamedTuple

Test = Callable[[Decimal, Decimal | None, Decimal], bool]
"""test(threshold, before, after): whether a move from before to after makes the condition true."""


def _crosses_above(t: Decimal, b: Decimal | None, a: Decimal) -> bool:
    return b is not None and b <= t < a


def _crosses_below(t: Decimal, b: Decimal | None, a: Decimal) -> bool:
    return b is not None and b >= t > a


def _above(t: Decimal, b: Decimal | None, a: Decimal) -> bool:
    return a > t and (b is None or not b > t)


def _at_or_above(t: Decimal, b: Decimal | None, a: Decimal) -> bool:
    return a >= t and (b is None or not b >= t)


def _below(t: Decimal, b: Decimal | None, a: Decimal) -> bool:
    return a < t and (b is None or not b < t)


def _at_or_below(t: Decimal, b: Decimal | None, a: Decimal) -> bool:
    return a <= t and (b is None or not b <= t)


def _equal(t: Decimal, b: Decimal | None, a: Decimal) -> bool:
    return a == t and b != t


TESTS: dict[str, Test] = {"crosses_above": _crosses_above, "crosses_below": _crosses_below, ">": _above,
                          ">=": _at_or_above, "<": _below, "<=": _at_or_below, "==": _equal}
"""The one definition of every operator, edge-triggered: a level condition becomes true when it holds after
the move and did not before (or nothing was seen before); a crossing needs a value on each side. An alert
keeps its operator's function, so a tick pays no dispatch on the operator, and no alert holds a closure
(200,000 closures were a fifth of the memory of a symbol's alerts)."""


def became_true(operator: str, before: Decimal | None, after: Decimal, threshold: Decimal) -> bool:
    """Whether a move from before to after makes the condition true (one evaluation: bar closes)."""
    return TESTS[operator](threshold, before, after)


OPERATORS = tuple(TESTS)
"""Operators by code: an index keeps each alert's operator as one byte."""
CODE_TESTS = tuple(TESTS[operator] for operator in OPERATORS)
NEVER = -(2**63)  # no firing yet
ID_BYTES = 16
_ABOVE_ALL, _BELOW_ALL = Decimal("Infinity"), Decimal("-Infinity")


class Row(NamedTuple):
    """One price alert as an index keeps it: its threshold, and codes and integers for the rest."""

    threshold: Decimal
    alert_id: bytes
    user: int  # a code in the engine's table of user ids
    method: int
    operator: int
    cooldown_seconds: int
    version: int  # updated_at, microseconds since the epoch
    fired: int  # the last firing's timestamp (ms), or NEVER
    unarmed: int  # 1: settings no ingestor has checked at a bar yet (AlertEngine.unarmed)


_COLUMNS = ("users", "methods", "operators", "cooldowns", "versions", "fired")


class ThresholdIndex:
    """Price alerts of one symbol and price type as parallel columns sorted by threshold.

    A symbol may have 200,000 alerts: a record, a UUID and a datetime per alert were some 300 bytes of the
    500 each took; here only the threshold is an object (a Decimal: the tick's price is compared with it as
    it is, bisecting in C), and the rest packs into about 40 bytes (the id as 16 bytes, users and methods as
    codes into the engine's tables, integers in arrays). It also remembers the empty band around the tracked
    value: the nearest thresholds below and above it, with none at the value itself. A move strictly inside
    the band cannot cross any threshold, so it costs one chained comparison however many alerts there are.
    An unknown band is (+inf, -inf), which no value lies inside.
    """

    def __init__(self, symbol: str, price_type: str) -> None:
        self.symbol, self.price_type = symbol, price_type
        self.thresholds: list[Decimal] = []
        self.ids = bytearray()
        self.users = array("I")
        self.methods = array("B")
        self.operators = array("B")
        self.cooldowns = array("i")
        self.versions = array("q")
        self.fired = array("q")
        self.unarmed = bytearray()
        self.band_low, self.band_high = _ABOVE_ALL, _BELOW_ALL

    def __len__(self) -> int:
        return len(self.thresholds)

    def forget_band(self) -> None:
        self.band_low, self.band_high = _ABOVE_ALL, _BELOW_ALL

    def _put(self, slot: int, row: Row) -> None:
        self.thresholds.insert(slot, row.threshold)
        self.ids[slot * ID_BYTES:slot * ID_BYTES] = row.alert_id
        self.users.insert(slot, row.user)
        self.methods.insert(slot, row.method)
        self.operators.insert(slot, row.operator)
        self.cooldowns.insert(slot, row.cooldown_seconds)
        self.versions.insert(slot, row.version)
        self.fired.insert(slot, row.fired)
        self.unarmed.insert(slot, row.unarmed)

    def append(self, row: Row) -> None:
        """Add without keeping the order: sort() must follow (a bulk load sorts once, not per alert)."""
        self._put(len(self), row)

    def sort(self) -> None:
        """Order by threshold (stable) after appends: each column rebuilt once."""
        order = sorted(range(len(self)), key=self.thresholds.__getitem__)
        if any(slot != place for place, slot in enumerate(order)):
            self.thresholds = [self.thresholds[slot] for slot in order]
            for name in _COLUMNS:
                column = getattr(self, name)
                setattr(self, name, array(column.typecode, [column[slot] for slot in order]))
            ids, unarmed = self.ids, self.unarmed
            self.ids = bytearray(b"".join([ids[slot * ID_BYTES:(slot + 1) * ID_BYTES] for slot in order]))
            self.unarmed = bytearray(unarmed[slot] for slot in order)
        self.forget_band()

    def add(self, row: Row) -> None:
        """Add in threshold order (after any alert of the same threshold)."""
        self._put(bisect_right(self.thresholds, row.threshold), row)
        self.forget_band()

    def find(self, alert_id: bytes) -> int | None:
        """The slot of an alert (a scan of the id column in C), or None."""
        position = self.ids.find(alert_id)
        while position != -1 and position % ID_BYTES:
            position = self.ids.find(alert_id, position + 1)
        return None if position == -1 else position // ID_BYTES

    def delete(self, slot: int) -> None:
        """Remove the alert at a slot."""
        del self.thresholds[slot]
        for name in _COLUMNS:
            del getattr(self, name)[slot]
        del self.unarmed[slot]
        del self.ids[slot * ID_BYTES:(slot + 1) * ID_BYTES]
        self.forget_band()

    def alert_id(self, slot: int) -> uuid.UUID:
        """The id of the alert at a slot."""
        return uuid.UUID(bytes=bytes(self.ids[slot * ID_BYTES:(slot + 1) * ID_BYTES]))

    def moved(self, before: Decimal | None, price: Decimal) -> range:
        """Slots whose threshold lies between before and price (inclusive); every slot when before is None."""
        if self.band_low < price < self.band_high:
            return range(0)
        thresholds = self.thresholds
        first = bisect_left(thresholds, price)
        last = bisect_right(thresholds, price, first)
        # The band around the new value, for the next move (none if a threshold sits on the value).
        if first == last:
            self.band_low = thresholds[first - 1] if first else _BELOW_ALL
            self.band_high = thresholds[last] if last < len(thresholds) else _ABOVE_ALL
        else:
            self.forget_band()
        if before is None:
            return range(len(thresholds))
        # The thresholds in [before, price] (or [price, before]), reusing the bisections at price.
        if before < price:
            return range(bisect_left(thresholds, before, 0, first), last)
        return range(first, bisect_right(thresholds, before, last))
