"""Indicator and fundamental alerts: few, each with state of its own, so each is a record.

Price alerts (the many) live in thresholds.ThresholdIndex's columns; these keep an indicator (SMA, EMA,
RSI) over bar closes, or the last value of an instrument field, and are evaluated when a bar closes or the
instrument changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from alexdb.domain.alerts import Condition, Trigger
from alexdb.speed.indicators import make_indicator
from alexdb.speed.thresholds import TESTS, became_true

_new_trigger = tuple.__new__


@dataclass(eq=False, slots=True)
class Stateful:
    """An indicator or fundamental alert: what evaluating and firing it needs, and its state."""

    alert_id: uuid.UUID
    user_id: str
    symbol: str
    threshold: Decimal | None
    price_type: str
    method: str  # the notification method
    operator: str
    cooldown_seconds: int
    cooldown_ms: int
    version: datetime  # the alert's updated_at
    condition: Condition
    last_fired_ms: int | None = None
    unarmed: bool = False
    indicator: Any = None
    previous: tuple[Decimal, Decimal] | None = None  # (close, indicator value) at the previous bar

    def start(self, closes: Iterable[Decimal] = ()) -> None:
        """(Re)start the indicator over past bar closes (oldest first), as if it had seen them."""
        indicator: Any = self.condition.indicator
        self.indicator, self.previous = make_indicator(indicator.kind, indicator.period), None
        for close in closes:
            value = self.indicator.update(close)
            if value is not None:
                self.previous = (close, value)

    def fire(self, price: Decimal, timestamp: int) -> list[Trigger]:
        """Its trigger at price, unless inside its cooldown."""
        last = self.last_fired_ms
        if last is not None and self.cooldown_ms and timestamp - last < self.cooldown_ms:
            return []
        self.last_fired_ms = timestamp
        return [_new_trigger(Trigger, (self.alert_id, self.user_id, self.symbol, price, self.threshold,
                                       self.price_type, self.method, timestamp, self.cooldown_seconds))]

    def bar_closed(self, close: Decimal, timestamp: int) -> list[Trigger]:
        """An indicator alert at a bar's close: its trigger if the condition has just become true."""
        value = self.indicator.update(close)
        if value is None:
            return []
        condition: Any = self.condition
        if condition.indicator.kind == "rsi":
            before = None if self.previous is None else self.previous[1]
            fire = became_true(condition.operator, before, value, condition.threshold)
        elif self.previous is None:
            fire = False
        else:
            # The close crosses its average: the sign of close - average changes.
            (old_close, old_average), gap = self.previous, close - value
            fire = became_true(condition.operator, old_close - old_average, gap, Decimal(0))
        self.previous = (close, value)
        return self.fire(value if condition.indicator.kind == "rsi" else close, timestamp) if fire else []

    def instrument_changed(self, instrument: Any, timestamp: int) -> list[Trigger]:
        """A fundamental alert on the instrument as it is now: its trigger if the field's value has just made
        the condition true (the trigger's price is that value, its price_type the field's name)."""
        name = str(self.condition.field)
        container, _, key = name.partition(".")
        value = getattr(instrument, container)
        value = value.get(key, Decimal(0)) if key else value  # a share not listed is 0%
        if value is None:
            return []  # no current price yet: nothing to compare
        before = self.previous[0] if self.previous else None
        self.previous = (value, value)
        if before == value or not TESTS[self.operator](self.threshold, before, value):  # type: ignore[arg-type]
            return []
        return [found._replace(price_type=name) for found in self.fire(value, timestamp)]
