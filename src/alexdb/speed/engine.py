"""The alert engine: alerts indexed per symbol by threshold, evaluated as ticks arrive.

A tick moves a tracked value (a one-minute bar's open, high, low or close) from p0 to p1. Only alerts
whose threshold lies between p0 and p1 can change state, and they are found by bisection in a sorted
threshold list, so a tick costs O(log n + k): alerts that do not fire are never looked at.
"""

from __future__ import annotations

import time
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from alexdb.domain.alerts import LEVEL_OPERATORS, Alert, Trigger
from alexdb.speed.indicators import make_indicator

MINUTE_MS = 60_000
PRICE_TYPES = ("open", "high", "low", "close")


def holds(operator: str, value: Decimal, threshold: Decimal) -> bool:
    """Whether a level condition holds for value."""
    if operator == ">":
        return value > threshold
    if operator == ">=":
        return value >= threshold
    if operator == "<":
        return value < threshold
    if operator == "<=":
        return value <= threshold
    return value == threshold


def became_true(operator: str, before: Decimal | None, after: Decimal, threshold: Decimal) -> bool:
    """Whether a move from before to after makes the condition true (edge-triggered)."""
    if operator == "crosses_above":
        return before is not None and before <= threshold < after
    if operator == "crosses_below":
        return before is not None and before >= threshold > after
    return holds(operator, after, threshold) and (before is None or not holds(operator, before, threshold))


@dataclass(eq=False)
class _Live:
    """What the engine keeps of one alert."""

    alert: Alert
    threshold: Decimal | None
    cooldown_ms: int
    last_fired_ms: int | None
    indicator: Any = None
    previous: tuple[Decimal, Decimal] | None = None  # (close, indicator value) at the previous bar


@dataclass
class _ThresholdIndex:
    """Alerts of one symbol and price type, sorted by threshold (two parallel lists, bisected in C)."""

    thresholds: list[Decimal] = field(default_factory=list)
    alerts: list[_Live] = field(default_factory=list)

    def add(self, live: _Live) -> None:
        assert live.threshold is not None
        position = bisect_right(self.thresholds, live.threshold)
        self.thresholds.insert(position, live.threshold)
        self.alerts.insert(position, live)

    def remove(self, live: _Live) -> None:
        assert live.threshold is not None
        low = bisect_left(self.thresholds, live.threshold)
        high = bisect_right(self.thresholds, live.threshold)
        position = next(i for i in range(low, high) if self.alerts[i] is live)
        del self.thresholds[position]
        del self.alerts[position]

    def between(self, low: Decimal, high: Decimal) -> list[_Live]:
        """Alerts whose threshold is in [low, high]."""
        first = bisect_left(self.thresholds, low)
        last = bisect_right(self.thresholds, high, first)
        return self.alerts[first:last] if first != last else []


@dataclass
class _Symbol:
    """Per symbol: the current bar, the values alerts track, their indexes, indicator alerts."""

    minute: int = -1
    values: dict[str, Decimal] = field(default_factory=dict)
    indexes: dict[str, _ThresholdIndex] = field(default_factory=dict)
    indicator_alerts: list[_Live] = field(default_factory=list)


class AlertEngine:
    """Holds the enabled alerts in memory and turns ticks into triggers."""

    def __init__(self) -> None:
        self._live: dict[uuid.UUID, _Live] = {}
        self._symbols: dict[str, _Symbol] = {}
        self.ticks = 0

    def __len__(self) -> int:
        return len(self._live)

    def upsert(self, alert: Alert, now_ms: int | None = None) -> list[Trigger]:
        """Add or replace an alert (disabled alerts are removed). A level condition that already holds
        fires now: it has just become true for this alert."""
        self.remove(alert.alert_id)
        if not alert.enabled:
            return []
        cooldown = alert.cooldown_seconds * 1000
        last = None if alert.last_triggered is None else int(alert.last_triggered.timestamp() * 1000)
        condition = alert.condition
        live = _Live(alert, condition.threshold, cooldown, last)
        state = self._symbols.setdefault(alert.symbol, _Symbol())
        self._live[alert.alert_id] = live
        if condition.indicator is not None:
            live.indicator = make_indicator(condition.indicator.kind, condition.indicator.period)
            state.indicator_alerts.append(live)
            return []
        state.indexes.setdefault(condition.price_type, _ThresholdIndex()).add(live)
        value = state.values.get(condition.price_type)
        level = condition.operator in LEVEL_OPERATORS and condition.threshold is not None
        if value is not None and level and holds(condition.operator, value, condition.threshold):  # type: ignore[arg-type]
            return self._fire([live], value, now_ms if now_ms is not None else time.time_ns() // 1_000_000)
        return []

    def remove(self, alert_id: uuid.UUID) -> bool:
        """Forget an alert; True if it was held."""
        live = self._live.pop(alert_id, None)
        if live is None:
            return False
        state = self._symbols[live.alert.symbol]
        if live.indicator is not None:
            state.indicator_alerts.remove(live)
        else:
            state.indexes[live.alert.condition.price_type].remove(live)
        return True

    def process(self, symbol: str, price: Decimal, timestamp: int) -> list[Trigger]:
        """One tick: update the symbol's bar, evaluate the alerts whose thresholds the move crossed."""
        self.ticks += 1
        state = self._symbols.get(symbol)
        if state is None:
            state = self._symbols[symbol] = _Symbol()
        values = state.values
        triggers: list[Trigger] = []
        minute = timestamp // MINUTE_MS
        if minute != state.minute:
            if state.indicator_alerts and "close" in values:
                triggers += self._bar_closed(state, values["close"], timestamp)
            state.minute = minute
            moves = [(kind, values.get(kind)) for kind in PRICE_TYPES]
            values["open"] = values["high"] = values["low"] = values["close"] = price
        else:
            moves = [("close", values["close"])]
            values["close"] = price
            if price > values["high"]:
                moves.append(("high", values["high"]))
                values["high"] = price
            elif price < values["low"]:
                moves.append(("low", values["low"]))
                values["low"] = price
        indexes = state.indexes
        for kind, before in moves:
            index = indexes.get(kind)
            if index is None or before == price:
                continue
            if before is None:
                candidates = index.alerts  # first value of this kind: every alert may have become true
            elif before < price:
                candidates = index.between(before, price)
            else:
                candidates = index.between(price, before)
            if candidates:
                fired = [live for live in candidates
                         if became_true(live.alert.condition.operator, before, price, live.threshold)]  # type: ignore[arg-type]
                if fired:
                    triggers += self._fire(fired, price, timestamp)
        return triggers

    def process_many(self, ticks: Iterable[tuple[str, Decimal, int]]) -> list[Trigger]:
        """Many ticks in order."""
        triggers: list[Trigger] = []
        process = self.process
        for symbol, price, timestamp in ticks:
            found = process(symbol, price, timestamp)
            if found:
                triggers += found
        return triggers

    def _bar_closed(self, state: _Symbol, close: Decimal, timestamp: int) -> list[Trigger]:
        triggers: list[Trigger] = []
        for live in state.indicator_alerts:
            value = live.indicator.update(close)
            if value is None:
                continue
            condition = live.alert.condition
            if condition.indicator.kind == "rsi":  # type: ignore[union-attr]
                before = None if live.previous is None else live.previous[1]
                fire = became_true(condition.operator, before, value, condition.threshold)  # type: ignore[arg-type]
            elif live.previous is None:
                fire = False
            else:
                # The close crosses its average: the sign of close - average changes.
                (old_close, old_average), gap = live.previous, close - value
                fire = became_true(condition.operator, old_close - old_average, gap, Decimal(0))
            live.previous = (close, value)
            if fire:
                triggers += self._fire([live], value if condition.indicator.kind == "rsi" else close, timestamp)  # type: ignore[union-attr]
        return triggers

    def _fire(self, fired: list[_Live], price: Decimal, timestamp: int) -> list[Trigger]:
        out = []
        for live in fired:
            if live.last_fired_ms is not None and timestamp - live.last_fired_ms < live.cooldown_ms:
                continue  # inside the cooldown: stays quiet until it re-arms and becomes true again
            live.last_fired_ms = timestamp
            alert = live.alert
            out.append(Trigger.model_construct(
                alert_id=alert.alert_id, user_id=alert.user_id, symbol=alert.symbol, price=price,
                threshold=live.threshold, price_type=alert.condition.price_type,
                notification_method=alert.notification_method, timestamp=timestamp))
        return out
