"""Alerts of one symbol and price type, indexed by threshold, and the one definition of each operator."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

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


_ABOVE_ALL, _BELOW_ALL = Decimal("Infinity"), Decimal("-Infinity")


@dataclass
class ThresholdIndex:
    """Alerts of one symbol and price type, sorted by threshold (two parallel lists, bisected in C).

    It also remembers the empty band around the tracked value: the nearest thresholds below and above
    it, with none at the value itself. A move that stays strictly inside the band cannot cross any
    threshold, so it costs one chained comparison however many alerts there are. An unknown band is
    (+inf, -inf), which no value lies inside.
    """

    thresholds: list[Decimal] = field(default_factory=list)
    alerts: list[Any] = field(default_factory=list)
    band_low: Decimal = _ABOVE_ALL
    band_high: Decimal = _BELOW_ALL

    def forget_band(self) -> None:
        self.band_low, self.band_high = _ABOVE_ALL, _BELOW_ALL

    def append(self, live: Any) -> None:
        """Add without keeping the order: sort() must follow (a bulk load sorts once, not per alert)."""
        self.thresholds.append(live.threshold)
        self.alerts.append(live)

    def sort(self) -> None:
        """Order by threshold (stable) after appends."""
        order = sorted(range(len(self.thresholds)), key=self.thresholds.__getitem__)
        self.thresholds = [self.thresholds[i] for i in order]
        self.alerts = [self.alerts[i] for i in order]
        self.forget_band()

    def add(self, live: Any) -> None:
        assert live.threshold is not None
        position = bisect_right(self.thresholds, live.threshold)
        self.thresholds.insert(position, live.threshold)
        self.alerts.insert(position, live)
        self.forget_band()

    def remove(self, live: Any) -> None:
        assert live.threshold is not None
        low = bisect_left(self.thresholds, live.threshold)
        high = bisect_right(self.thresholds, live.threshold)
        position = next(i for i in range(low, high) if self.alerts[i] is live)
        del self.thresholds[position]
        del self.alerts[position]
        self.forget_band()

    def moved(self, before: Decimal | None, price: Decimal) -> list[Any]:
        """Alerts whose threshold lies between before and price (inclusive); every alert when before is None."""
        if self.band_low < price < self.band_high:
            return []
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
            return self.alerts
        # The thresholds in [before, price] (or [price, before]), reusing the bisections at price.
        if before < price:
            start, stop = bisect_left(thresholds, before, 0, first), last
        else:
            start, stop = first, bisect_right(thresholds, before, last)
        return self.alerts[start:stop] if start != stop else []
