"""The alert engine against a naive evaluator that tests every alert on every tick."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alexdb.domain.alerts import Alert, Condition, Indicator, Trigger
from alexdb.domain.validate import build
from alexdb.speed.engine import AlertEngine
from alexdb.speed.indicators import ExponentialMovingAverage, RelativeStrengthIndex, SimpleMovingAverage

NOW = datetime(2026, 1, 1, tzinfo=UTC)
PRICES = [Decimal(p) for p in ("99", "99.5", "100", "100.5", "101", "102")]


def alert(symbol: str = "SPY", operator: str = ">", threshold: Any = "100", price_type: str = "close", cooldown: int = 0,
          **extra: Any) -> Alert:
    condition = {"operator": operator, "threshold": threshold, "price_type": price_type, **extra.pop("condition", {})}
    return build(Alert, {"alert_id": uuid.uuid4(), "user_id": "u", "symbol": symbol, "condition": condition,
                         "cooldown_seconds": cooldown, "created_at": NOW, "updated_at": NOW, **extra})


def naive(alerts: list[Alert], ticks: list[tuple[str, Decimal, int]]) -> list[tuple[uuid.UUID, int]]:
    """Every alert, every tick: the definition the engine must match."""
    def holds(op: str, v: Decimal, t: Decimal) -> bool:
        return {">": v > t, ">=": v >= t, "<": v < t, "<=": v <= t, "==": v == t}[op]

    bars: dict[str, dict[str, Any]] = {}
    last_fired: dict[uuid.UUID, int] = {}
    fired = []
    for symbol, price, ts in ticks:
        bar = bars.get(symbol)
        before = dict(bar["v"]) if bar else {}
        if bar is None or ts // 60_000 != bar["minute"]:
            bars[symbol] = bar = {"minute": ts // 60_000, "v": dict.fromkeys(("open", "high", "low", "close"), price)}
        else:
            v = bar["v"]
            v["close"], v["high"], v["low"] = price, max(v["high"], price), min(v["low"], price)
        for a in alerts:
            if a.symbol != symbol:
                continue
            c = a.condition
            old, new, t = before.get(c.price_type), bar["v"][c.price_type], c.threshold
            assert t is not None  # price alerts only here
            if c.operator == "crosses_above":
                became = old is not None and old <= t < new
            elif c.operator == "crosses_below":
                became = old is not None and old >= t > new
            else:
                became = holds(c.operator, new, t) and (old is None or not holds(c.operator, old, t))
            if became and (a.alert_id not in last_fired or ts - last_fired[a.alert_id] >= a.cooldown_seconds * 1000):
                last_fired[a.alert_id] = ts
                fired.append((a.alert_id, ts))
    return fired


alerts_strategy = st.lists(st.builds(
    lambda symbol, op, t, pt, cd: alert(symbol, op, str(t), pt, cd),
    st.sampled_from(["SPY", "QQQ"]), st.sampled_from([">", ">=", "<", "<=", "==", "crosses_above", "crosses_below"]),
    st.sampled_from(PRICES), st.sampled_from(["open", "high", "low", "close"]), st.sampled_from([0, 0, 30])),
    max_size=30)
ticks_strategy = st.lists(st.tuples(st.sampled_from(["SPY", "QQQ"]), st.sampled_from(PRICES),
                                    st.integers(min_value=0, max_value=40_000)), max_size=80)


@settings(max_examples=300, deadline=None)
@given(alerts=alerts_strategy, steps=ticks_strategy)
def test_engine_fires_exactly_what_the_naive_evaluator_fires(alerts: Any, steps: Any) -> None:
    ticks, ts = [], 0
    for symbol, price, gap in steps:
        ts += gap
        ticks.append((symbol, price, ts))
    engine = AlertEngine()
    for a in alerts:
        assert engine.upsert(a) == []  # no value seen yet: nothing can hold
    got = [(t.alert_id, t.timestamp) for t in engine.process_many(ticks)]
    assert sorted(got, key=lambda x: (x[1], str(x[0]))) == sorted(naive(alerts, ticks), key=lambda x: (x[1], str(x[0])))


def test_edge_triggered_rearm_and_cooldown() -> None:
    engine = AlertEngine()
    a = alert(operator=">", threshold="100", cooldown=60)
    engine.upsert(a)
    def fired(price: str, ts: int) -> list[int]:
        return [t.timestamp for t in engine.process("SPY", Decimal(price), ts)]
    assert fired("99", 0) == [] and fired("101", 1000) == [1000]
    assert fired("102", 2000) == []  # still true: no second notification
    assert fired("99", 3000) == [] and fired("101", 4000) == []  # re-armed, but inside the cooldown
    assert fired("99", 70_000) == [] and fired("101", 71_000) == [71_000]


def test_a_trigger_carries_the_alert_and_the_tick() -> None:
    engine = AlertEngine()
    a = alert(operator="crosses_below", threshold="100.5", price_type="low", notification_method="email")
    engine.upsert(a)
    engine.process("SPY", Decimal("101"), 0)
    [trigger] = engine.process("SPY", Decimal("100.25"), 5)
    assert trigger == Trigger(a.alert_id, "u", "SPY", Decimal("100.25"), Decimal("100.5"), "low", "email", 5)
    assert type(trigger) is Trigger and trigger.notification_method == "email"


def test_index_follows_alerts_changed_while_running() -> None:
    engine = AlertEngine()
    engine.process("SPY", Decimal("100"), 0)
    a = alert(operator=">", threshold="99")
    assert [t.alert_id for t in engine.upsert(a, now_ms=1)] == [a.alert_id]  # already true at creation
    moved = a.model_copy(update={"condition": Condition(operator="<", threshold=Decimal("90"))})
    assert engine.upsert(moved) == [] and len(engine) == 1
    assert [t.price for t in engine.process("SPY", Decimal("89"), 1000)] == [Decimal("89")]
    assert engine.upsert(moved.model_copy(update={"enabled": False})) == [] and len(engine) == 0
    assert engine.process("SPY", Decimal("100"), 2000) == [] and engine.process("SPY", Decimal("80"), 3000) == []
    assert engine.remove(a.alert_id) is False


def test_high_and_low_follow_the_minute_bar() -> None:
    engine = AlertEngine()
    high = alert(operator=">=", threshold="105", price_type="high")
    opened = alert(operator="<", threshold="100", price_type="open")
    engine.upsert(high)
    engine.upsert(opened)
    assert engine.process("SPY", Decimal("101"), 0) == []
    assert [t.alert_id for t in engine.process("SPY", Decimal("106"), 10_000)] == [high.alert_id]
    assert engine.process("SPY", Decimal("102"), 20_000) == []  # the bar's high stays 106
    assert [t.alert_id for t in engine.process("SPY", Decimal("99"), 60_000)] == [opened.alert_id]  # new bar opens at 99


def test_indicators_match_their_definitions() -> None:
    closes = [Decimal(c) for c in ("10", "11", "12", "11", "13", "14", "13", "15", "16", "15")]
    sma, ema, rsi = SimpleMovingAverage(3), ExponentialMovingAverage(3), RelativeStrengthIndex(3)
    sma_values = [sma.update(c) for c in closes]
    assert sma_values[2] == Decimal(11) and sma_values[-1] == (Decimal(15) + 16 + 15) / 3
    ema_values = [ema.update(c) for c in closes]
    expected = Decimal(11)
    for c in closes[3:]:
        expected += Decimal(2) / 4 * (c - expected)
    assert ema_values[-1] == expected
    rsi_values = [rsi.update(c) for c in closes]
    assert rsi_values[2] is None and rsi_values[3] == 100 - 100 / (1 + (Decimal(2) / 3) / (Decimal(1) / 3))


def test_moving_average_cross_and_rsi_alerts_fire_on_bar_closes() -> None:
    engine = AlertEngine()
    cross = alert(operator="crosses_above", threshold=None, condition_type="indicator",
                  condition={"indicator": {"kind": "sma", "period": 3}})
    hot = alert(operator=">", threshold="70", condition_type="indicator",
                condition={"indicator": {"kind": "rsi", "period": 3}})
    engine.upsert(cross)
    engine.upsert(hot)
    fired = []
    for minute, close in enumerate(["10", "9", "8", "7", "9", "12", "13"]):
        fired += [(t.alert_id, minute) for t in engine.process("SPY", Decimal(close), minute * 60_000)]
    # The minute-4 bar closes at 9 above its 3-bar average 8.33 (the bar before: 7 below 8); a bar is
    # closed by the first tick of the next minute, so the trigger comes at minute 5, and only once.
    assert [m for a, m in fired if a == cross.alert_id] == [5]
    assert (hot.alert_id, 6) in fired


@pytest.mark.parametrize("condition", [
    {"operator": ">"},                                               # no threshold
    {"operator": ">", "indicator": {"kind": "sma", "period": 20}},   # an average needs a crossing
    {"operator": "crosses_above", "threshold": "1", "indicator": {"kind": "ema", "period": 20}},
    {"operator": ">", "threshold": "150", "indicator": {"kind": "rsi", "period": 14}},  # RSI is 0-100
    {"operator": "crosses_above", "indicator": {"kind": "sma", "period": 20}, "price_type": "high"},
    {"operator": "between", "threshold": "1"},
])
def test_alerts_that_could_never_fire_are_refused(condition: Any) -> None:
    from alexdb import ValidationError

    with pytest.raises(ValidationError):
        build(Condition, condition)


def test_indicator_model_bounds() -> None:
    from alexdb import ValidationError

    with pytest.raises(ValidationError):
        build(Indicator, {"kind": "sma", "period": 1})
