"""The alert engine: alerts indexed per symbol by threshold, evaluated as ticks arrive.

A tick moves a tracked value (a one-minute bar's open, high, low or close) from p0 to p1. Only alerts
whose threshold lies between p0 and p1 can change state, and they are found by bisection in a sorted
threshold list, so a tick costs O(log n + k): alerts that do not fire are never looked at.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from sys import intern
from typing import Any

from alexdb.domain.alerts import LEVEL_OPERATORS, Alert, AlertEntry, AlertSettings, Condition, Trigger
from alexdb.domain.instants import now_ms as current_ms
from alexdb.speed.indicators import make_indicator
from alexdb.speed.thresholds import TESTS, Test, ThresholdIndex, became_true

MINUTE_MS = 60_000
_TESTED = object()  # _fire's "these already passed their test"
_new_trigger = tuple.__new__
PRICE_TYPES = ("open", "high", "low", "close")


@dataclass(eq=False, slots=True)
class _Live:
    """What the engine keeps of one alert: not the Alert model (a symbol may have 200,000 alerts), only
    what evaluating and firing it needs; the condition model itself only for indicator and fundamental ones."""

    alert_id: uuid.UUID
    user_id: str
    symbol: str
    threshold: Decimal | None
    price_type: str
    method: str  # the notification method
    operator: str
    test: Test  # its operator's function in thresholds.TESTS
    cooldown_seconds: int
    cooldown_ms: int
    version: datetime  # the alert's updated_at
    last_fired_ms: int | None = None
    condition: Condition | None = None  # indicator and fundamental alerts only
    indicator: Any = None
    previous: tuple[Decimal, Decimal] | None = None  # (close, indicator value) at the previous bar


@dataclass(slots=True)
class _Symbol:
    """Per symbol: the current one-minute bar, the alert indexes per price type, indicator alerts."""

    minute: int = -1
    open: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    close: Decimal | None = None
    indexes: dict[str, ThresholdIndex] = field(default_factory=dict)
    close_index: ThresholdIndex | None = None  # the common case, kept out of the dict for speed
    indicator_alerts: list[_Live] = field(default_factory=list)
    fundamental_alerts: list[_Live] = field(default_factory=list)

    def value(self, price_type: str) -> Decimal | None:
        """The current bar's open, high, low or close."""
        return getattr(self, price_type)  # type: ignore[no-any-return]


class AlertEngine:
    """Holds the enabled alerts in memory and turns ticks into triggers."""

    def __init__(self, cooldowns: bool = True) -> None:
        """cooldowns=False fires every edge and leaves cooldowns to whoever records the triggers (a store
        shared by many ingestors checks them against its own record of the last firing)."""
        self._live: dict[uuid.UUID, _Live] = {}
        self._symbols: dict[str, _Symbol] = {}
        self._cooldowns = cooldowns
        self._unsorted: dict[int, ThresholdIndex] | None = None  # during upsert_many: appended to, by id

    def __len__(self) -> int:
        return len(self._live)

    def upsert(self, alert: AlertSettings | AlertEntry, now_ms: int | None = None, fire: bool = True) -> list[Trigger]:
        """Add or replace an alert (disabled alerts are removed). A level condition that already holds
        fires now, unless fire is False (then arm() decides later): it has just become true for this alert."""
        entry = alert if isinstance(alert, AlertEntry) else alert.entry()
        # Settings alone carry no last trigger: the store checks cooldowns then (an ingestor's engine has none).
        last = alert.last_triggered if isinstance(alert, Alert) else None
        placed = self._place(entry, None if last is None else int(last.timestamp() * 1000))
        if not placed or not fire:
            return []
        return self.arm(entry.alert_id, now_ms if now_ms is not None else current_ms())

    def _place(self, alert: AlertEntry, last_fired_ms: int | None) -> bool:
        """Hold the alert (replacing what was held of it); False if it is disabled (then it is not held)."""
        self.remove(alert.alert_id)
        if not alert.enabled:
            return False
        # Interned: 200,000 alerts of a symbol share a handful of users, operators and methods.
        operator, price_type = intern(alert.operator), intern(alert.price_type)
        live = _Live(alert.alert_id, intern(alert.user_id), intern(alert.symbol), alert.threshold, price_type,
                     intern(alert.notification_method), operator, TESTS[operator], alert.cooldown_seconds,
                     alert.cooldown_seconds * 1000 if self._cooldowns else 0, alert.updated_at, last_fired_ms,
                     alert.condition)
        state = self._symbols.get(live.symbol)
        if state is None:
            state = self._symbols[live.symbol] = _Symbol()
        self._live[alert.alert_id] = live
        condition = alert.condition
        if condition is not None and condition.indicator is not None:
            live.indicator = make_indicator(condition.indicator.kind, condition.indicator.period)
            state.indicator_alerts.append(live)
        elif condition is not None:
            state.fundamental_alerts.append(live)
        else:
            index = state.indexes.get(price_type)
            if index is None:
                index = state.indexes[price_type] = ThresholdIndex()
                if price_type == "close":
                    state.close_index = index
            if self._unsorted is None:
                index.add(live)
            else:
                index.append(live)
                self._unsorted[id(index)] = index
        return True

    def upsert_many(self, alerts: list[AlertEntry]) -> None:
        """upsert(alert, fire=False) for many: each index is sorted once at the end (loading 200,000 alerts
        of a symbol one sorted insert at a time would move the lists quadratically)."""
        unsorted = self._unsorted = {}
        try:
            for alert in alerts:
                self._place(alert, None)
        finally:
            self._unsorted = None
            for index in unsorted.values():
                index.sort()

    def arm(self, alert_id: uuid.UUID, timestamp: int) -> list[Trigger]:
        """The alert's trigger if it is a level condition that holds at its symbol's current bar (nothing
        was seen before it, so it has just become true for this alert); else none."""
        live = self._live.get(alert_id)
        if live is None or live.condition is not None:
            return []
        value = self._symbols[live.symbol].value(live.price_type)
        if value is not None and live.operator in LEVEL_OPERATORS and live.test(live.threshold, None, value):  # type: ignore[arg-type]
            return self._fire([live], value, timestamp)
        return []

    def warm(self, alert_id: uuid.UUID, closes: list[Decimal]) -> None:
        """Start an indicator alert's indicator over past bar closes (oldest first), as if it had seen them."""
        live = self._live.get(alert_id)
        if live is None or live.indicator is None or live.condition is None:
            return
        indicator = live.condition.indicator
        live.indicator, live.previous = make_indicator(indicator.kind, indicator.period), None  # type: ignore[union-attr]
        for close in closes:
            value = live.indicator.update(close)
            if value is not None:
                live.previous = (close, value)

    def indicator_alerts(self, symbol: str) -> list[tuple[uuid.UUID, int]]:
        """The symbol's indicator alerts: (alert_id, period)."""
        state = self._symbols.get(symbol)
        return [] if state is None else [(live.alert_id, live.condition.indicator.period)  # type: ignore[union-attr]
                                         for live in state.indicator_alerts]

    def cooldown_seconds(self, alert_id: uuid.UUID) -> int:
        """The alert's cooldown (0 for an alert the engine does not hold)."""
        live = self._live.get(alert_id)
        return 0 if live is None else live.cooldown_seconds

    def bar(self, symbol: str) -> tuple[int, Decimal, Decimal, Decimal, Decimal] | None:
        """The symbol's current one-minute bar: (minute, open, high, low, close), or None before a tick."""
        state = self._symbols.get(symbol)
        if state is None or state.close is None:
            return None
        return state.minute, state.open, state.high, state.low, state.close  # type: ignore[return-value]

    def resume(self, symbol: str, minute: int, open_: Decimal, high: Decimal, low: Decimal, close: Decimal) -> None:
        """Take up the symbol's bar as another ingestor left it (its alerts' edges follow from it)."""
        state = self._symbols.setdefault(symbol, _Symbol())
        if (state.minute, state.open, state.high, state.low, state.close) == (minute, open_, high, low, close):
            return
        state.minute, state.open, state.high, state.low, state.close = minute, open_, high, low, close
        for index in state.indexes.values():
            index.forget_band()  # the band was around this engine's last value, not the resumed one

    def remove(self, alert_id: uuid.UUID) -> bool:
        """Forget an alert; True if it was held."""
        live = self._live.pop(alert_id, None)
        if live is None:
            return False
        state = self._symbols[live.symbol]
        if live.indicator is not None:
            state.indicator_alerts.remove(live)
        elif live.condition is not None:
            state.fundamental_alerts.remove(live)
        else:
            state.indexes[live.price_type].remove(live)
        return True

    def held(self, symbol: str) -> dict[uuid.UUID, datetime]:
        """The alerts of symbol the engine holds: id to updated_at."""
        state = self._symbols.get(symbol)
        if state is None:
            return {}
        lives = [*state.indicator_alerts, *state.fundamental_alerts]
        lives += [live for index in state.indexes.values() for live in index.alerts]
        return {live.alert_id: live.version for live in lives}

    def watches_fundamentals(self, symbol: str) -> bool:
        """Whether any alert of symbol compares an instrument field."""
        state = self._symbols.get(symbol)
        return state is not None and bool(state.fundamental_alerts)

    def fundamentals(self, instrument: Any, timestamp: int) -> list[Trigger]:
        """Evaluate the fundamental alerts of an instrument as it is now (edge-triggered, like prices).

        A trigger's price is the field's value and its price_type the field's name.
        """
        state = self._symbols.get(instrument.symbol)
        if state is None:
            return []
        triggers: list[Trigger] = []
        for live in state.fundamental_alerts:
            name = str(live.condition.field)  # type: ignore[union-attr]
            container, _, key = name.partition(".")
            value = getattr(instrument, container)
            value = value.get(key, Decimal(0)) if key else value  # a share not listed is 0%
            if value is None:
                continue  # no current price yet: nothing to compare
            before = live.previous[0] if live.previous else None
            live.previous = (value, value)
            if before != value and live.test(live.threshold, before, value):  # type: ignore[arg-type]
                triggers += [found._replace(price_type=name) for found in self._fire([live], value, timestamp)]
        return triggers

    def process(self, symbol: str, price: Decimal, timestamp: int) -> list[Trigger]:
        """One tick: update the symbol's bar, evaluate the alerts whose thresholds the move crossed."""
        return self.process_many(((symbol, price, timestamp),))

    def _new_bar(self, state: _Symbol, price: Decimal, timestamp: int, minute: int) -> list[Trigger]:
        triggers: list[Trigger] = []
        if state.indicator_alerts and state.close is not None:
            triggers += self._bar_closed(state, state.close, timestamp)
        state.minute = minute
        before = {kind: state.value(kind) for kind in PRICE_TYPES}
        state.open = state.high = state.low = state.close = price
        for kind, index in state.indexes.items():
            if before[kind] != price:
                triggers += self._crossed(index, before[kind], price, timestamp)
        return triggers

    def _crossed(self, index: ThresholdIndex, before: Decimal | None, price: Decimal,
                 timestamp: int) -> list[Trigger]:
        """Triggers of the alerts in index whose condition a move from before to price made true."""
        candidates = index.moved(before, price)
        return self._fire(candidates, price, timestamp, before) if candidates else []

    def process_many(self, ticks: Iterable[tuple[str, Decimal, int]]) -> list[Trigger]:
        """Ticks in order: each updates its symbol's bar, and the alerts whose thresholds the move crossed
        are evaluated. The per-tick work is written out in this one loop, not called per tick: at 10^5-10^6
        ticks a second a Python call is a large share of a tick's cost."""
        triggers: list[Trigger] = []
        symbols, fire, crossed = self._symbols, self._fire, self._crossed
        for symbol, price, timestamp in ticks:
            state = symbols.get(symbol)
            if state is None:
                state = symbols[symbol] = _Symbol()
            minute = timestamp // MINUTE_MS
            if minute != state.minute:
                triggers += self._new_bar(state, price, timestamp, minute)
                continue
            before = state.close
            if before == price:
                continue
            state.close = price
            index = state.close_index
            # The band test inline: most ticks stop here.
            if index is not None and not index.band_low < price < index.band_high:
                candidates = index.moved(before, price)
                if candidates:
                    triggers += fire(candidates, price, timestamp, before)
            if price > state.high:  # type: ignore[operator]
                moved, state.high = state.high, price
                index = state.indexes.get("high")
                if index is not None:
                    triggers += crossed(index, moved, price, timestamp)
            elif price < state.low:  # type: ignore[operator]
                moved, state.low = state.low, price
                index = state.indexes.get("low")
                if index is not None:
                    triggers += crossed(index, moved, price, timestamp)
        return triggers

    def _bar_closed(self, state: _Symbol, close: Decimal, timestamp: int) -> list[Trigger]:
        triggers: list[Trigger] = []
        for live in state.indicator_alerts:
            value = live.indicator.update(close)
            if value is None:
                continue
            condition: Any = live.condition
            if condition.indicator.kind == "rsi":
                before = None if live.previous is None else live.previous[1]
                fire = became_true(condition.operator, before, value, condition.threshold)
            elif live.previous is None:
                fire = False
            else:
                # The close crosses its average: the sign of close - average changes.
                (old_close, old_average), gap = live.previous, close - value
                fire = became_true(condition.operator, old_close - old_average, gap, Decimal(0))
            live.previous = (close, value)
            if fire:
                triggers += self._fire([live], value if condition.indicator.kind == "rsi" else close, timestamp)
        return triggers

    def _fire(self, lives: list[_Live], price: Decimal, timestamp: int, before: Any = _TESTED) -> list[Trigger]:
        """Triggers of lives at price, but for those inside their cooldown; unless before is _TESTED,
        only of those whose test a move from before to price passes. One loop on the hot path: no
        intermediate list, and triggers built as plain tuples (the named tuple's own constructor is a
        Python function)."""
        out = []
        for live in lives:
            if before is not _TESTED and not live.test(live.threshold, before, price):  # type: ignore[arg-type]
                continue
            last = live.last_fired_ms
            if last is not None and live.cooldown_ms and timestamp - last < live.cooldown_ms:
                continue  # inside the cooldown: stays quiet until it re-arms and becomes true again
            live.last_fired_ms = timestamp
            out.append(_new_trigger(Trigger, (live.alert_id, live.user_id, live.symbol, price, live.threshold,
                                              live.price_type, live.method, timestamp)))
        return out
