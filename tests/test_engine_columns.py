"""The engine's columnar price alerts: arming, removal, versions, and triggers that give back what was stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from alexdb.domain.alerts import AlertEntry
from alexdb.speed.engine import FEW, AlertEngine

NOW = datetime(2026, 1, 1, tzinfo=UTC)
MINUTE_MS = 60_000


def entry(threshold: str, operator: str = ">", armed: bool = False, user: str = "u1", cooldown: int = 0,
          updated: datetime = NOW) -> AlertEntry:
    return AlertEntry(uuid.uuid4(), user, "SPY", operator, Decimal(threshold), "close", "webhook", cooldown, True,
                      updated, updated if armed else None, None)


@pytest.mark.parametrize("count", [3, FEW + 50])  # looked up one by one, and matched in one pass
def test_unarmed_alerts_fire_once_when_armed_at_the_bar(count: int) -> None:
    engine = AlertEngine(cooldowns=False)
    fresh = [entry(str(90 + n % 20), updated=NOW + timedelta(seconds=n)) for n in range(count)]
    checked = [entry("50", armed=True) for _ in range(3)]
    engine.upsert_many(fresh + checked, arming=True)
    assert engine.unarmed("SPY") == {alert.alert_id: alert.updated_at for alert in fresh}
    engine.process("SPY", Decimal("100"), MINUTE_MS)  # > 50 holds from the first bar: nothing to fire
    wanted = {alert.alert_id: 7 for alert in fresh}
    fired = engine.arm_many("SPY", wanted)
    assert sorted(t.alert_id.int for t in fired) == sorted(a.alert_id.int for a in fresh
                                                         if Decimal(100) > (a.threshold or 0))
    assert {t.timestamp for t in fired} == {7}
    engine.armed(wanted)
    assert engine.unarmed("SPY") == {}


def test_a_removed_or_replaced_alert_leaves_no_trace() -> None:
    engine = AlertEngine()
    alerts = [entry(f"{100 + n}.{n % 10}0") for n in range(500)]
    engine.upsert_many(alerts)
    assert len(engine) == 500
    gone, changed = alerts[137], alerts[250]
    assert engine.remove(gone.alert_id) and not engine.remove(gone.alert_id)
    engine.upsert(changed._replace(threshold=Decimal("1"), updated_at=NOW + timedelta(hours=1)), fire=False)
    assert len(engine) == 499
    versions = engine.versions("SPY")
    assert gone.alert_id.bytes not in versions
    assert versions[changed.alert_id.bytes] == (NOW + timedelta(hours=1) - datetime(1970, 1, 1, tzinfo=UTC)) \
        // timedelta(microseconds=1)
    assert set(engine.held("SPY")) == {a.alert_id for a in alerts} - {gone.alert_id}
    fired = engine.process("SPY", Decimal("2"), MINUTE_MS)  # only the changed alert's new threshold is below
    assert [t.alert_id for t in fired] == [changed.alert_id]


def test_a_trigger_gives_back_the_stored_alert() -> None:
    engine = AlertEngine()
    stored = entry("100.10", user="someone", cooldown=300)
    engine.upsert(stored, fire=False)
    [trigger] = engine.process("SPY", Decimal("100.2"), MINUTE_MS)
    assert (trigger.alert_id, trigger.user_id, str(trigger.threshold), trigger.notification_method,
            trigger.cooldown_seconds) == (stored.alert_id, "someone", "100.10", "webhook", 300)
    # Inside its cooldown it stays quiet, then fires again once it re-arms and becomes true.
    engine.process("SPY", Decimal("99"), MINUTE_MS + 1)
    assert engine.process("SPY", Decimal("101"), MINUTE_MS + 2) == []
    engine.process("SPY", Decimal("99"), MINUTE_MS + 300_000)
    assert len(engine.process("SPY", Decimal("101"), MINUTE_MS + 300_001)) == 1
