"""Benchmark: what refusing hostile input costs, next to accepting a normal one.

    python -m benchmarks.hostile

On in-memory SQLite, for each defect class of the hostile-input issue, the worst input found (an 8-byte
number whose conversion would take seconds, a holding past the model's range, a tick in the year 3000,
NUL bytes and lone surrogates, a payload nested 100,000 deep, an integer of 5,000 digits) is refused
through the public Python call; the p50 of that refusal is printed beside the p50 of the same call with
a normal input. The cost the size check avoids is measured in the same run: converting 1e100000 to an int.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tests.hostile import nested

import alexdb
from alexdb import AlexdbError
from benchmarks.results import write_section

RUNS = 200
DAY = "2024-01-02T15:00:00Z"


def p50_us(call: Callable[[], Any], refused: bool, runs: int = RUNS) -> float:
    """The median time of call in microseconds; it must raise an AlexdbError when refused, and not otherwise."""
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        try:
            call()
        except AlexdbError:
            if not refused:
                raise
        else:
            if refused:
                raise AssertionError("a hostile input was accepted")
        samples.append((time.perf_counter() - began) * 1e6)
    return statistics.median(samples)


def main() -> None:
    """Measure every class and write the table."""
    db = alexdb.connect("sqlite://")
    db.users.create_user("u")
    db.instruments.create_instrument({"symbol": "SPY", "name": "SPY", "instrument_type": "etf",
                                      "allocation_regions": {"north_america": 100},
                                      "allocation_sectors": {"technology": 100},
                                      "allocation_asset_class": {"equity": 100}})
    account = db.accounts.create_account("u", "a")
    full = db.accounts.create_account("u", "full")
    db.positions.record_trade(full.id, "SPY", "BUY", Decimal("9999999999999999.99999999"), at=DAY)
    now = time.time_ns() // 1_000_000
    deep, huge_int, ten_mb = nested(100_000), {"x": 10**5000}, "1" * 10_000_000
    condition = {"operator": ">", "threshold": "1"}
    rows: list[tuple[str, str, float, float]] = [
        ("1 work before bounds", "quantity 1e400000",
         p50_us(lambda: db.positions.record_trade(account.id, "SPY", "BUY", Decimal("1e400000")), True),
         p50_us(lambda: db.positions.record_trade(account.id, "SPY", "BUY", 1), False)),
        ("1 work before bounds", "cooldown_seconds 1e400000",
         p50_us(lambda: db.alerts.create_alert("u", "SPY", condition, cooldown_seconds=Decimal("1e400000")), True),
         p50_us(lambda: db.alerts.create_alert("u", "SPY", condition, cooldown_seconds=60), False)),
        ("1 work before bounds", "a 10 MB number as text",
         p50_us(lambda: db.positions.record_trade(account.id, "SPY", "BUY", ten_mb), True, runs=20),
         p50_us(lambda: db.positions.record_trade(account.id, "SPY", "BUY", "1.5"), False)),
        ("2 checked after commit", "a BUY past the largest holding",
         p50_us(lambda: db.positions.record_trade(full.id, "SPY", "BUY", "0.00000001"), True),
         p50_us(lambda: db.positions.record_trade(account.id, "SPY", "BUY", "0.00000001"), False)),
        ("3 time", "a tick in the year 3000",
         p50_us(lambda: db.ticks.record_ticks([{"symbol": "SPY", "price": "1", "timestamp": 32_503_680_000_000}]),
                True),
         p50_us(lambda: db.ticks.record_ticks([{"symbol": "SPY", "price": "1", "timestamp": now}]), False)),
        ("5 text and structure", "NUL in an account name",
         p50_us(lambda: db.accounts.create_account("u", "a\x00b"), True),
         p50_us(lambda: db.accounts.create_account("u", "ab"), False)),
        ("5 text and structure", "a payload nested 100,000 deep",
         p50_us(lambda: db.jobs.create_job("u", "risk_assessment", deep), True),
         p50_us(lambda: db.jobs.create_job("u", "risk_assessment", {"a": {"b": 1}}), False)),
        ("5 text and structure", "a payload holding 10**5000",
         p50_us(lambda: db.jobs.create_job("u", "risk_assessment", huge_int), True),
         p50_us(lambda: db.jobs.create_job("u", "risk_assessment", {"x": 10**12}), False)),
    ]
    began = time.perf_counter()
    int(Decimal("1e100000"))
    avoided = time.perf_counter() - began
    body = [f"In-memory SQLite; p50 of {RUNS} calls (20 for the 10 MB input), microseconds.", "",
            "| class | worst input | refused in | the same call, normal input |", "|---|---|---|---|"]
    body += [f"| {kind} | {name} | {refuse:,.0f} us | {accept:,.0f} us |" for kind, name, refuse, accept in rows]
    body += ["", f"What the size check avoids, measured in the same run: `int(Decimal('1e100000'))` took "
             f"{avoided * 1000:,.0f} ms (the cost grows with the square of the exponent: 1e400000 takes about 16 times "
             "as long)."]
    write_section("hostile", "python -m benchmarks.hostile", "\n".join(body))
    print("\n".join(body))


if __name__ == "__main__":
    main()
