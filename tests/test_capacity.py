"""The capacity model against hand-computed cases, the command line over it, and its packaged profile."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alexdb.cli.app import app
from alexdb.cli.capacity import measured_profile, packaged_profile, workload_of
from alexdb.domain.capacity import OUTBOX_SHARDS, S3_TICKS, SECONDS_A_MONTH, KeyLoad, Workload, plan
from alexdb.domain.errors import ValidationError
from tests.dynamodb_local import TICKS_BUCKET

ROOT = Path(__file__).resolve().parent.parent
PROFILE = {
    "view": {"instruments": (2.0, 0.0), "users": (3.0, 0.0)},
    "series": {"instruments": (13.0, 0.0)},
    "trade": {"users": (1.0, 6.0), "users/HoldersIndex": (0.0, 4.0)},
    "tick": {"ticks": (0.0, 1.0)},
    "trigger": {"notifications/Outbox": (0.0, 2.0)},
    "alert_load": {"alerts/AlertsBySymbol": (0.04, 0.0)},
    "agent_step": {"chat": (1.0, 8.0)},
    "agent_resume": {"chat": (6.0, 0.0)},
    "memory_put": {"chat": (1.0, 1.0)},
    "memory_search": {"chat": (1.0, 0.0)},
}
SMALL = Workload(users=86_400, accounts_per_user=2, holdings_per_account=10, views_per_user_per_day=1,
                 series_per_user_per_day=1, trades_per_user_per_day=1, hot_holder_share=0.5, hot_trade_share=0.1,
                 hot_trades_per_second=2_000, hot_alerts=1_000, trigger_burst=3_200, spike=2, processes=10,
                 price_cache_seconds=5, ingestors=1, alert_reload_seconds=10, sessions_per_day=0, jobs_per_day=0,
                 new_users_per_day=0, market_trades_per_day=0, triggers_per_day=0, symbols=1, ticks_per_record=1)


def _key(resource: str, start: str) -> KeyLoad:
    return next(row for row in plan(SMALL, PROFILE).keys if row.resource == resource and row.key.startswith(start))


def test_hot_keys_by_hand() -> None:
    # 86,400 users viewing once a day at twice the average: 2 views a second, each account of the 2 that
    # holds SPY with probability 1/2: 2 x 1 x 2 RRU = 4 RRU/s uncached; cached, 10 processes each reading
    # PRICE and SPLITS every 5 s and META every 60 s at 0.5 RRU: 10 x 0.5 x (2/5 + 1/60) = 2.083 RRU/s,
    # the fewer. Trades: 2 a second, a tenth in SPY, 0 RRU each on instruments.
    assert _key("instruments", "SPY (").reads == pytest.approx(10 * 0.5 * (2 / 5 + 1 / 60))
    # Series: 2 a second x 1 held account x 13 RRU.
    assert _key("instruments", "SPY#M").reads == pytest.approx(26.0)
    # HoldersIndex: 0.2 SPY trades a second x 4 WRU.
    assert _key("users/HoldersIndex", "HOLDING#SPY").writes == pytest.approx(0.8)
    # The outbox index: 3,200 triggers x 2 WRU (listed, then unlisted) over the shards.
    assert _key("notifications/Outbox", "OUTBOX").writes == pytest.approx(3_200 * 2 / OUTBOX_SHARDS)
    # An ingestor reloading 1,000 alerts every 10 s at 0.04 RRU each.
    assert _key("alerts/AlertsBySymbol", "SPY").reads == pytest.approx(4.0)
    # Ticks: 2,000 trades a second, one record each: over Kinesis' 1,000 records a second. The ticks table
    # takes an item per ingest batch and 10 s span it covers, 2 at most at a batch a second, whatever the records.
    ticks, kinesis = _key("ticks", "SPY"), _key("kinesis", "SPY")
    assert (ticks.writes, ticks.over, kinesis.writes, kinesis.over) == (2, False, 2_000, True)
    batched = plan(dataclasses.replace(SMALL, ticks_per_record=400), PROFILE).keys
    assert not next(row for row in batched if row.resource == "kinesis").over


def test_monthly_units_and_cost_by_hand() -> None:
    result = plan(SMALL, PROFILE)
    # users (its indexes included): views 86,400 x 2 accounts a day = 2 a second x 3 RRU, trades 1 a second
    # x 1 RRU; trades' writes 6 WRU on the table and 4 on HoldersIndex.
    assert result.monthly["users"] == pytest.approx((7 * SECONDS_A_MONTH, 10 * SECONDS_A_MONTH))
    assert result.costs["users"] == (Decimal(round(7 * SECONDS_A_MONTH)) * Decimal("0.125")
                                     + Decimal(round(10 * SECONDS_A_MONTH)) * Decimal("0.625")) / 1_000_000
    # instruments: views' reads through the caches of the one symbol (2.083 RRU/s, as above, fewer than
    # the 2 x 10 holdings x 2 RRU uncached), series 2 a second x 10 holdings x 13 RRU.
    cached = 10 * 0.5 * (2 / 5 + 1 / 60)
    assert result.monthly["instruments"] == pytest.approx(((cached + 260) * SECONDS_A_MONTH, 0))
    # The tick archive: 4 shards x 1 ingestor x a batch a second, 6.5 trading hours of each day, a PUT each.
    puts = 4 * 6.5 * 3600 / 86_400 * SECONDS_A_MONTH
    assert result.monthly[S3_TICKS] == pytest.approx((0, puts))
    assert result.costs[S3_TICKS] == Decimal(round(puts)) * 5 / 1_000_000


def test_agent_memory_by_hand() -> None:
    # One conversation, a message every 10 s, each a resume (6 RRU) and 3 steps (1 RRU, 8 WRU each).
    thread = _key("chat", "CKTHREAD")
    assert (thread.reads, thread.writes) == pytest.approx((0.6, 2.4))
    # A user's memories: a conversation's 2 puts (1 WRU) and its search (1 RRU) in one second.
    memories = _key("chat", "MEM#")
    assert (memories.reads, memories.writes) == pytest.approx((1.0, 2.0))
    # A session a second of 20 messages: 20 resumes x 6 + 60 steps x 1 + 2 puts x 1 + 1 search x 1 RRU,
    # 60 steps x 8 + 2 puts x 1 WRU, every second of the month.
    busy = plan(dataclasses.replace(SMALL, sessions_per_day=86_400), PROFILE)
    assert busy.monthly["chat"] == pytest.approx((183 * SECONDS_A_MONTH, 482 * SECONDS_A_MONTH))


def test_the_default_scenario_has_no_key_over_its_limit() -> None:
    assert not [row for row in plan(Workload(), packaged_profile()).keys if row.over]


def test_settings_are_checked() -> None:
    assert workload_of(["users=10", "spike=2.5"]) == dataclasses.replace(Workload(), users=10, spike=2.5)
    for bad in ("nonsense=1", "users", "users=-1", "users=nan", "users=1e400", "users=" + "9" * 30):
        with pytest.raises(ValidationError):
            workload_of([bad])


def test_the_command_prints_keys_and_the_bill() -> None:
    result = CliRunner().invoke(app, ["capacity", "--set", "users=1000", "--set", "hot_trades_per_second=10"],
                                env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    assert "HOLDING#SPY" in result.output and "OUTBOX#nnn" in result.output and "total" in result.output
    assert "OVER" not in result.output
    fine = CliRunner().invoke(app, ["capacity", "--check"], env={"COLUMNS": "220"})
    assert fine.exit_code == 0 and "OVER" not in fine.output  # the default scenario holds
    over = CliRunner().invoke(app, ["capacity", "--check", "--set", "ticks_per_record=1"], env={"COLUMNS": "220"})
    assert over.exit_code == 1 and "OVER" in over.output  # one record a trade does not


@pytest.mark.dynamodb
def test_the_packaged_profile_is_what_dynamodb_local_measures(dynamodb_endpoint: str, s3_endpoint: str) -> None:
    # After a change to the design, `python -m benchmarks.dynamodb_cost` measures it again (ticks in S3, as
    # deployed at scale).
    url = f"dynamodb://{dynamodb_endpoint}?region=us-east-1&ticks_bucket={TICKS_BUCKET}&s3_endpoint={s3_endpoint}"
    assert measured_profile(url) == packaged_profile()


def test_the_docs_show_what_the_command_prints() -> None:
    printed = CliRunner().invoke(app, ["capacity", "--markdown"]).output.strip()
    assert printed in (ROOT / "docs" / "dynamodb.md").read_text()
