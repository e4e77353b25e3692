"""Writing benchmark results: each benchmark owns one marked section of benchmarks/RESULTS.md."""

from __future__ import annotations

import re
import statistics
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def percentile(samples: list[float], pct: float) -> float:
    """The pct-th percentile (nearest rank) of samples."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(samples: list[float]) -> float:
    """The median of samples."""
    return statistics.median(samples)


def write_section(name: str, command: str, body: str) -> None:
    """Replace (or append) the section of RESULTS.md that belongs to benchmark name."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = f"{start}\n## {name}\n\nRun {stamp} with `{command}`.\n\n{body.strip()}\n{end}"
    header = "# Benchmark results\n\nEach section is rewritten by its benchmark.\n"
    text = RESULTS.read_text() if RESULTS.exists() else header
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _m: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(text)
