"""The command line, run as a user runs it: a real process, a real database file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def cli(tmp_path: Path) -> Any:
    env = {**os.environ, "ALEXDB_URL": f"sqlite:///{tmp_path / 'cli.db'}", "COLUMNS": "200"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "alexdb", *args], env=env, capture_output=True,
                              text=True, timeout=300, stdin=subprocess.DEVNULL)
    return run


def test_reset_verify_and_inspect(cli: Any) -> None:
    reset = cli("reset", "--with-test-data")
    assert reset.returncode == 0, reset.stderr
    assert "instruments 22" in reset.stdout and "positions 7" in reset.stdout
    verify = cli("verify")
    assert verify.returncode == 0, verify.stderr
    from alexdb.adapters.sql.migrate import head_revision

    assert f"schema {head_revision()}: ok" in verify.stdout and "verified" in verify.stdout
    assert "query chat: ok" in verify.stdout
    positions = cli("positions", "401(k)")
    assert positions.returncode == 0 and all(s in positions.stdout for s in ("SPY", "QQQ", "BND", "VEA", "GLD"))
    assert "90,937.50" in positions.stdout
    trade = cli("trade", "401(k)", "spy", "sell", "10", "--price", "450.25")
    assert trade.returncode == 0 and "now hold 90" in trade.stdout
    history = cli("history", "401(k)", "--symbol", "SPY")
    assert history.returncode == 0 and history.stdout.count("SPY") >= 3
    value = cli("value", "401(k)", "--at", "2000-01-01")  # before the first deposit: no cash then
    assert value.returncode == 0 and "Cash" in value.stdout and "5,000.00" not in value.stdout
    for command in (["cash", "401(k)"], ["lots", "401(k)", "--method", "hifo"], ["gains", "401(k)"],
                    ["returns", "401(k)"]):
        shown = cli(*command)
        assert shown.returncode == 0, shown.stderr
    assert "cash now: 9,502.50" in cli("cash", "401(k)").stdout  # 5,000 and the sale above
    assert "QQQ" in cli("gains", "401(k)").stdout and "TWR" in cli("returns", "401(k)").stdout
    jobs = cli("jobs")
    assert jobs.returncode == 0 and "jobs of test_user_001" in jobs.stdout


def test_errors_are_one_line_without_traceback(cli: Any) -> None:
    assert cli("reset", "--with-test-data").returncode == 0
    for args in (["trade", "401(k)", "SPY", "SELL", "1000"], ["positions", "No such account"],
                 ["value", "401(k)", "--at", "someday"], ["trade", "401(k)", "SPY", "BUY", "-1"]):
        result = cli(*args)
        assert result.returncode in (1, 2), args  # 2: a usage error ("-1" reads as an option)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("error:")


def test_verify_fails_on_an_unseeded_database(cli: Any) -> None:
    assert cli("migrate").returncode == 0
    result = cli("verify")
    assert result.returncode == 1
    assert "no instruments" in result.stderr


def test_init_and_demo(cli: Any) -> None:
    init = cli("init")
    assert init.returncode == 0 and "ready" in init.stdout
    demo = cli("demo")
    assert demo.returncode == 0, demo.stderr
    assert demo.stdout.count("401(k) at") == 4 and "All three accounts" in demo.stdout


def test_unexpected_failures_are_one_line_too(tmp_path: Path) -> None:
    env = {**os.environ, "ALEXDB_URL": "postgresql://nobody@127.0.0.1:1/none", "COLUMNS": "200"}
    result = subprocess.run([sys.executable, "-m", "alexdb", "verify"], env=env, capture_output=True, text=True,
                            timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_ticks_replay_and_simulate(cli: Any, tmp_path: Path) -> None:
    import time

    now = time.time_ns() // 1_000_000
    ticks = tmp_path / "ticks.csv"
    ticks.write_text("symbol,price,timestamp\n" + "".join(f"SPY,{500 + n}.25,{now + n}\n" for n in range(50))
                     + "SPY,1.5.5,1\n")
    replay = cli("ticks", "replay", str(ticks), "--batch-size", "7")
    assert replay.returncode == 0, replay.stderr
    assert "rejected line 52: price='1.5.5': not a number" in replay.stderr
    assert "│       50 │        1 │" in replay.stdout  # accepted, rejected
    simulate = cli("ticks", "simulate", "--symbols", "3", "--count", "500", "--seed", "1")
    assert simulate.returncode == 0, simulate.stderr
    assert "│      500 │        0 │" in simulate.stdout
    missing = cli("ticks", "replay", str(tmp_path / "nope.csv"))
    assert missing.returncode != 0 and "nope.csv" in missing.stderr


def test_ticks_retry_resends_what_is_due(cli: Any, tmp_path: Path) -> None:
    import time
    from datetime import timedelta

    import alexdb
    from alexdb.domain.instants import utcnow
    from alexdb.speed.pipeline import Ingestor

    with alexdb.connect(f"sqlite:///{tmp_path / 'cli.db'}", migrate=True) as db:
        db.alerts.create_alert("zoe", "SPY", {"operator": ">", "threshold": "1"}, notification_method="sns")
        ingestor = Ingestor(db, {})
        ingestor.ingest([{"symbol": "SPY", "price": "2", "timestamp": time.time_ns() // 1_000_000}])
        ingestor.close()  # failed once (no notifier), due again in 30 s
        [note] = db.notifications.find_by_user("zoe")
        db.notifications.settle(note, "failed", "no notifier for sns", now=utcnow() - timedelta(hours=1))
    retry = cli("ticks", "retry")
    assert retry.returncode == 0, retry.stderr
    assert "resent 1: 0 sent, 1 failed again" in retry.stdout  # no SNS topic configured here either
    assert "resent 0" in cli("ticks", "retry").stdout  # failed again: due later, on the schedule
