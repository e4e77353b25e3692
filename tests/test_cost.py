"""The cost model and `alexdb cost`, including the seeds' own example."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

from alexdb.services.cost import Prices, Workload, estimate


def test_seed_example_100_instruments_26_updates_20_days() -> None:
    result = estimate(Workload(instruments=100, price_updates_per_day=26, days=20, storage_gb=Decimal("0.065")))
    assert result.write_units == 100 * 26 * 20 * 2  # each update: the point and the PRICE item
    assert result.writes == Decimal("0.065")  # 104,000 WRU at $0.625 per million
    assert result.storage == Decimal("0.016")  # the seed's 65 MB at $0.25/GB-month
    assert result.total == Decimal("0.094")  # with PITR; the seeds' "$5-15/month" has no line item behind it
    assert result.aurora == Decimal("43.800")  # 0.5 ACU x $0.12 x 730 h: the seeds' "$43+" is right


def test_seed_pricing_assumption_was_wrong() -> None:
    # Seed 000 priced reads and writes alike at $1.25 per million *requests*; at that write price the same
    # example costs twice as much, and reads are billed at a fifth of the write price, per request unit.
    old = estimate(Workload(instruments=100, price_updates_per_day=26, days=20), Prices(write_per_million=Decimal("1.25")))
    assert old.writes == Decimal("0.130")


def test_every_line_of_a_full_workload() -> None:
    result = estimate(Workload(users=1000, trades_per_day=500, instruments=100, price_updates_per_day=390,
                               portfolio_views_per_user_per_day=2, jobs_per_day=200, storage_gb=Decimal(5)))
    lines = {what: (read, write) for what, read, write in result.lines}
    assert lines["trades"] == (Decimal(500 * 30), Decimal(500 * 30 * 8))
    assert lines["portfolio views"][0] == Decimal((1 + 1 + 10 + 1 + 1 + 10) * 1000 * 3 * 2 * 30)
    assert result.total == result.reads + result.writes + result.storage + result.pitr
    assert result.pitr == Decimal("1.000")


def test_cli_prints_both_engines() -> None:
    done = subprocess.run([sys.executable, "-m", "alexdb", "cost", "--instruments", "100", "--price-updates-per-day",
                           "26", "--days", "20", "--min-acu", "1"], capture_output=True, text=True, timeout=120,
                          env={"COLUMNS": "200", "PATH": ""})
    assert done.returncode == 0, done.stderr
    assert "104,000" in done.stdout and "0.065" in done.stdout and "87.60" in done.stdout
