"""The alert engine: alerts indexed per symbol by threshold, evaluated as ticks arrive.

A tick moves a tracked value (a one-minute bar's open, high, low or close) from p0 to p1. Only alerts
whose threshold lies between p0 and p1 can change state, and they are found by bisection in a sorted
threshold column, so a tick costs O(log n + k): alerts that do not fire are never looked at. Price alerts
live in the index's columns (thresholds.ThresholdIndex), with no Python object of their own; indicator and
fundamental alerts, few and stateful, are records.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from sys import intern
from typing import Any

from alexdb.domain.alerts import LEVEL_OPERATORS, Alert, AlertEntry, AlertSettings, Trigger
from alexdb.domain.instants import epoch_micros, from_epoch_micros
from alexdb.domain.instants import now_ms as current_ms
from alexdb.speed.stateful import Stateful
from alexdb.speed.thresholds import (
    CODE_TESTS,
    ID_BYTES,
    NEVER,
    OPERATORS,
    Row,
    ThresholdIndex,
)

MINUTE_MS = 60_000
_TESTED = object()  # _fire's "these already passed their test"
_new_trigger = tuple.__new__
_new_object, _set, _from_bytes, _UNKNOWN = object.__new__, object.__setattr__, int.from_bytes, uuid.SafeUUID.unknown
PRICE_TYPES = ("open", "high", "low", "close")
_OPERATOR_CODES = {operator: code for code, operator in enumerate(OPERATORS)}
_LEVEL_CODES = frozenset(_OPERATOR_CODES[operator] for operator in LEVEL_OPERATORS)
FEW = 64  # alerts to arm at once that are looked up one by one; more are matched in one pass


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
    indicator_alerts: list[Stateful] = field(default_factory=list)
    fundamental_alerts: list[Stateful] = field(default_factory=list)

    def value(self, price_type: str) -> Decimal | None:
        """The current bar's open, high, low or close."""
        return getattr(self, price_type)  # type: ignore[no-any-return]


class AlertEngine:
    """Holds the enabled alerts in memory and turns ticks into triggers."""

    def __init__(self, cooldowns: bool = True) -> None:
        """cooldowns=False fires every edge and leaves cooldowns to whoever records the triggers (a store
        shared by many ingestors checks them against its own record of the last firing)."""
        self._live: dict[uuid.UUID, Stateful] = {}
        # Which index holds each price alert, by the id's integer: the columns keep no object per alert,
        # this map one int (the UUID's own) and an entry. A slot is found in its index by a scan in C.
        self._where: dict[int, ThresholdIndex] = {}
        self._symbols: dict[str, _Symbol] = {}
        self._cooldowns = cooldowns
        self._unsorted: dict[int, ThresholdIndex] | None = None  # during upsert_many: appended to, by id
        # Codes: 200,000 alerts of a symbol share a handful of users and methods.
        self._users: list[str] = []
        self._user_codes: dict[str, int] = {}
        self._methods: list[str] = []
        self._method_codes: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._live) + len(self._where)

    def upsert(self, alert: AlertSettings | AlertEntry, now_ms: int | None = None, fire: bool = True) -> list[Trigger]:
        """Add or replace an alert (disabled alerts are removed). A level condition that already holds
        fires now, unless fire is False (then arm() decides later): it has just become true for this alert."""
        entry = alert if isinstance(alert, AlertEntry) else alert.entry()
        # Settings alone carry no last trigger: the store checks cooldowns then (an ingestor's engine has none).
        last = alert.last_triggered if isinstance(alert, Alert) else None
        placed = self._place(entry, None if last is None else int(last.timestamp() * 1000), False)
        if not placed or not fire:
            return []
        return self.arm(entry.alert_id, now_ms if now_ms is not None else current_ms())

    def _code(self, table: list[str], codes: dict[str, int], value: str) -> int:
        code = codes.get(value)
        if code is None:
            code = codes[value] = len(table)
            table.append(intern(value))
        return code

    def _place(self, alert: AlertEntry, last_fired_ms: int | None, unarmed: bool) -> bool:
        """Hold the alert (replacing what was held of it); False if it is disabled (then it is not held).
        unarmed: its settings wait for arm_many (unarmed() lists them)."""
        self.remove(alert.alert_id)  # one map lookup when it is not held
        if not alert.enabled:
            return False
        state = self._symbols.get(alert.symbol)
        if state is None:
            state = self._symbols[intern(alert.symbol)] = _Symbol()
        condition = alert.condition
        if condition is not None:
            live = Stateful(alert.alert_id, intern(alert.user_id), intern(alert.symbol), alert.threshold,
                         intern(alert.price_type), intern(alert.notification_method), intern(alert.operator),
                         alert.cooldown_seconds, alert.cooldown_seconds * 1000 if self._cooldowns else 0,
                         alert.updated_at, condition, last_fired_ms, unarmed)
            self._live[alert.alert_id] = live
            if condition.indicator is not None:
                live.start()
                state.indicator_alerts.append(live)
            else:
                state.fundamental_alerts.append(live)
            return True
        index = state.indexes.get(alert.price_type)
        if index is None:
            index = state.indexes[intern(alert.price_type)] = ThresholdIndex(intern(alert.symbol),
                                                                             intern(alert.price_type))
            if alert.price_type == "close":
                state.close_index = index
        assert alert.threshold is not None
        row = Row(alert.threshold, alert.alert_id.bytes, self._code(self._users, self._user_codes, alert.user_id),
                  self._code(self._methods, self._method_codes, alert.notification_method),
                  _OPERATOR_CODES[alert.operator], alert.cooldown_seconds, epoch_micros(alert.updated_at),
                  NEVER if last_fired_ms is None else last_fired_ms, unarmed)
        self._where[alert.alert_id.int] = index
        if self._unsorted is None:
            index.add(row)
        else:
            index.append(row)
            self._unsorted[id(index)] = index
        return True

    def upsert_many(self, alerts: list[AlertEntry], arming: bool = False) -> None:
        """upsert(alert, fire=False) for many: each index is sorted once at the end (loading 200,000 alerts
        of a symbol one sorted insert at a time would move the columns quadratically). arming: alerts whose
        settings no ingestor has checked at a bar yet (armed_at is not their updated_at) are held unarmed,
        for arm_many."""
        unsorted = self._unsorted = {}
        try:
            for alert in alerts:
                self._place(alert, None, arming and alert.armed_at != alert.updated_at)
        finally:
            self._unsorted = None
            for index in unsorted.values():
                index.sort()

    def _find(self, alert_id: uuid.UUID) -> tuple[ThresholdIndex, int] | None:
        """The index of a price alert and its slot there (a scan of that index's ids, in C)."""
        index = self._where.get(alert_id.int)
        if index is None:
            return None
        slot = index.find(alert_id.bytes)
        assert slot is not None, "an alert's index holds it"
        return index, slot

    def arm(self, alert_id: uuid.UUID, timestamp: int) -> list[Trigger]:
        """The alert's trigger if it is a level condition that holds at its symbol's current bar (nothing
        was seen before it, so it has just become true for this alert); else none."""
        found = self._find(alert_id)
        return [] if found is None else self._arm_slot(*found, timestamp)

    def arm_many(self, symbol: str, wanted: Mapping[uuid.UUID, int]) -> list[Trigger]:
        """arm(alert_id, timestamp) for many alerts of one symbol: a few looked up one by one, more matched
        in one pass over the symbol's id columns."""
        state = self._symbols.get(symbol)
        if state is None or not wanted:
            return []
        keys = {alert_id.bytes: timestamp for alert_id, timestamp in wanted.items()}
        triggers: list[Trigger] = []
        for index in state.indexes.values():
            if len(keys) <= FEW:
                slots = [(slot, timestamp) for key, timestamp in keys.items()
                         if (slot := index.find(key)) is not None]
            else:
                ids = bytes(index.ids)
                slots = [(slot, keys[ids[slot * ID_BYTES:(slot + 1) * ID_BYTES]]) for slot in range(len(index))
                         if ids[slot * ID_BYTES:(slot + 1) * ID_BYTES] in keys]
            for slot, timestamp in slots:
                triggers += self._arm_slot(index, slot, timestamp)
        return triggers

    def _arm_slot(self, index: ThresholdIndex, slot: int, timestamp: int) -> list[Trigger]:
        value = self._symbols[index.symbol].value(index.price_type)
        operator = index.operators[slot]
        if value is None or operator not in _LEVEL_CODES:
            return []
        if not CODE_TESTS[operator](index.thresholds[slot], None, value):
            return []
        return self._fire(index, range(slot, slot + 1), value, timestamp)

    def warm(self, alert_id: uuid.UUID, closes: list[Decimal]) -> None:
        """Start an indicator alert's indicator over past bar closes (oldest first), as if it had seen them."""
        live = self._live.get(alert_id)
        if live is not None and live.indicator is not None:
            live.start(closes)

    def indicator_alerts(self, symbol: str) -> list[tuple[uuid.UUID, int]]:
        """The symbol's indicator alerts: (alert_id, period)."""
        state = self._symbols.get(symbol)
        return [] if state is None else [(live.alert_id, live.condition.indicator.period)  # type: ignore[union-attr]
                                         for live in state.indicator_alerts]

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
        if live is not None:
            state = self._symbols[live.symbol]
            (state.indicator_alerts if live.indicator is not None else state.fundamental_alerts).remove(live)
            return True
        found = self._find(alert_id)
        if found is None:
            return False
        found[0].delete(found[1])
        del self._where[alert_id.int]
        return True

    def unarmed(self, symbol: str) -> dict[uuid.UUID, datetime]:
        """The symbol's alerts whose settings wait to be checked at a bar: id to updated_at."""
        state = self._symbols.get(symbol)
        if state is None:
            return {}
        found = {live.alert_id: live.version for live in (*state.indicator_alerts, *state.fundamental_alerts)
                 if live.unarmed}
        for index in state.indexes.values():
            slot = index.unarmed.find(1)
            while slot != -1:
                found[index.alert_id(slot)] = from_epoch_micros(index.versions[slot])
                slot = index.unarmed.find(1, slot + 1)
        return found

    def armed(self, alert_ids: Iterable[uuid.UUID]) -> None:
        """These alerts' settings were checked at a bar (and the check recorded): they are unarmed no more."""
        for alert_id in alert_ids:
            live = self._live.get(alert_id)
            if live is not None:
                live.unarmed = False
            elif (found := self._find(alert_id)) is not None:
                found[0].unarmed[found[1]] = 0

    def versions(self, symbol: str) -> dict[bytes, int]:
        """The alerts of symbol the engine holds: id bytes to updated_at in microseconds (what a reload
        compares, without an object per alert)."""
        state = self._symbols.get(symbol)
        if state is None:
            return {}
        held = {live.alert_id.bytes: epoch_micros(live.version)
                for live in (*state.indicator_alerts, *state.fundamental_alerts)}
        for index in state.indexes.values():
            ids = bytes(index.ids)
            held.update(zip((ids[at:at + ID_BYTES] for at in range(0, len(ids), ID_BYTES)), index.versions,
                            strict=True))
        return held

    def held(self, symbol: str) -> dict[uuid.UUID, datetime]:
        """The alerts of symbol the engine holds: id to updated_at."""
        return {uuid.UUID(bytes=key): from_epoch_micros(version) for key, version in self.versions(symbol).items()}

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
        return [found for live in state.fundamental_alerts for found in live.instrument_changed(instrument, timestamp)]

    def process(self, symbol: str, price: Decimal, timestamp: int) -> list[Trigger]:
        """One tick: update the symbol's bar, evaluate the alerts whose thresholds the move crossed."""
        return self.process_many(((symbol, price, timestamp),))

    def _new_bar(self, state: _Symbol, price: Decimal, timestamp: int, minute: int) -> list[Trigger]:
        triggers: list[Trigger] = []
        if state.indicator_alerts and state.close is not None:
            close = state.close
            triggers += [trigger for live in state.indicator_alerts for trigger in live.bar_closed(close, timestamp)]
        state.minute = minute
        before = {kind: state.value(kind) for kind in PRICE_TYPES}
        state.open = state.high = state.low = state.close = price
        for kind, index in state.indexes.items():
            if before[kind] != price:
                triggers += self._crossed(index, before[kind], price, timestamp)
        return triggers

    def _crossed(self, index: ThresholdIndex, before: Decimal | None, price: Decimal, timestamp: int) -> list[Trigger]:
        """Triggers of the alerts in index whose condition a move from before to price made true."""
        candidates = index.moved(before, price)
        return self._fire(index, candidates, price, timestamp, before) if candidates else []

    def process_many(self, ticks: Iterable[tuple[str, Decimal, int]]) -> list[Trigger]:
        """Ticks in order: each updates its symbol's bar, and the alerts whose thresholds the move crossed
        are evaluated. The per-tick work is written out in this one loop, not called per tick: at 10^5-10^6
        ticks a second a Python call is a large share of a tick's cost."""
        triggers: list[Trigger] = []
        symbols, crossed = self._symbols, self._crossed
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
            # The band test inline: most ticks stop here, without a call.
            if index is not None and not index.band_low < price < index.band_high:
                triggers += crossed(index, before, price, timestamp)
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

    def _fire(self, index: ThresholdIndex, slots: range, price: Decimal, timestamp: int,
              before: Any = _TESTED) -> list[Trigger]:
        """Triggers of the alerts at slots at price, but for those inside their cooldown; unless before is
        _TESTED, only of those whose test a move from before to price passes. One loop on the hot path,
        triggers built as plain tuples (the named tuple's own constructor is a Python function)."""
        out = []
        thresholds, operators, cooldowns, fired = index.thresholds, index.operators, index.cooldowns, index.fired
        tested, with_cooldowns, symbol, price_type = before is _TESTED, self._cooldowns, index.symbol, index.price_type
        for slot in slots:
            threshold = thresholds[slot]
            if not tested and not CODE_TESTS[operators[slot]](threshold, before, price):
                continue
            cooldown, last = cooldowns[slot], fired[slot]
            if with_cooldowns and cooldown and last != NEVER and timestamp - last < cooldown * 1000:
                continue  # inside the cooldown: stays quiet until it re-arms and becomes true again
            fired[slot] = timestamp
            alert_id = _new_object(uuid.UUID)  # UUID(bytes=...) checks its arguments: twice the cost
            _set(alert_id, "int", _from_bytes(index.ids[slot * ID_BYTES:(slot + 1) * ID_BYTES]))
            _set(alert_id, "is_safe", _UNKNOWN)
            out.append(_new_trigger(Trigger, (alert_id, self._users[index.users[slot]], symbol, price, threshold,
                                              price_type, self._methods[index.methods[slot]], timestamp, cooldown)))
        return out
