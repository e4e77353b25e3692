"""`alexdb capacity`: a workload's peak load on each hot DynamoDB key against its limits, and its monthly bill."""

from __future__ import annotations

import dataclasses
import json
import uuid
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from alexdb.domain.capacity import CapacityPlan, Profile, Workload, plan, workload_fields
from alexdb.domain.errors import ValidationError

out = Console()
PROFILE = "dynamodb_profile.json"


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


SETTINGS_HELP = "Workload settings for --set, with their defaults: " + ", ".join(
    f"{f.name}={_plain(f.default)}" for f in dataclasses.fields(Workload)) + "."  # type: ignore[arg-type]


def packaged_profile() -> Profile:
    """The per-operation units measured by `python -m benchmarks.dynamodb_cost` (alexdb/data)."""
    data = json.loads(resources.files("alexdb.data").joinpath(PROFILE).read_text())
    return {op: {resource: (float(r), float(w)) for resource, (r, w) in units.items()} for op, units in data.items()}


def measured_profile(url: str) -> Profile:
    """Measure every operation on the DynamoDB endpoint of url, in tables of their own (then deleted)."""
    import alexdb
    from alexdb.adapters.dynamodb.backend import DynamoBackend
    from alexdb.services.metering import measure_profile

    separator = "&" if "?" in url else "?"
    db = alexdb.connect(f"{url}{separator}prefix=meter{uuid.uuid4().hex[:6]}-&price_cache=0&meta_cache=0",
                        migrate=True)
    engine = db.engine
    assert isinstance(engine, DynamoBackend)
    try:
        return measure_profile(db, engine)
    finally:
        engine.delete_tables()
        db.close()


def workload_of(settings: list[str]) -> Workload:
    """The default scenario with name=value settings applied."""
    known = {f.name: f for f in dataclasses.fields(Workload)}
    values: dict[str, Any] = {}
    for setting in settings:
        name, _, text = setting.partition("=")
        if name not in known or not text or len(text) > 20:
            raise ValidationError("set", setting, f"expected name=value with name one of {', '.join(known)}")
        try:
            number = float(text)
        except ValueError:
            raise ValidationError("set", setting, "the value must be a number") from None
        if not number >= 0 or number == float("inf"):
            raise ValidationError("set", setting, "the value must be a finite number, 0 or more")
        values[name] = int(number) if known[name].type in (int, "int") else number
    return dataclasses.replace(Workload(), **values)


def capacity(
    settings: Annotated[list[str] | None, typer.Option(
        "--set", help="name=value of the workload (repeat); the names are listed below.")] = None,
    measure_on: Annotated[str | None, typer.Option(
        help="Measure the units on this DynamoDB endpoint (dynamodb://host:port) instead of the packaged profile.")]
    = None,
    check: Annotated[bool, typer.Option(help="Exit 1 when a key is over its limit.")] = False,
    markdown: Annotated[bool, typer.Option(help="Print Markdown tables (as docs/dynamodb.md shows them).")]
    = False,
) -> None:
    """Peak reads and writes a second on each hot DynamoDB key (and Kinesis shard) next to its limits, and the
    monthly on-demand bill, for a workload (default: a million users, SPY at 5,000 trades a second)."""
    workload = workload_of(settings or [])
    profile = measured_profile(measure_on) if measure_on else packaged_profile()
    result = plan(workload, profile)
    if markdown:
        print(as_markdown(result))
    else:
        _print_tables(result, workload)
    if check and any(row.over for row in result.keys):
        raise typer.Exit(1)


def as_markdown(result: CapacityPlan) -> str:
    """The hot keys and the monthly bill as Markdown tables."""
    lines = ["| resource | key | reads/s | writes/s | limits | | what |", "|---|---|---:|---:|---|---|---|"]
    lines += [f"| {r.resource} | `{r.key}` | {r.reads:,.1f} | {r.writes:,.1f} | {r.read_limit:,.0f} / "
              f"{r.write_limit:,.0f} | {'**OVER**' if r.over else 'ok'} | {r.why} |" for r in result.keys]
    lines += ["", "| table | read units a month | write units a month | USD a month |", "|---|---:|---:|---:|"]
    lines += [f"| {table} | {result.monthly[table][0]:,.0f} | {result.monthly[table][1]:,.0f} | "
              f"{result.costs[table]:,.2f} |" for table in sorted(result.monthly)]
    lines.append(f"| **total** | | | **{sum(result.costs.values()):,.2f}** |")
    return "\n".join(lines)


def _print_tables(result: CapacityPlan, workload: Workload) -> None:
    keys = Table(title="Hot keys at the peak (units a second; Kinesis: records a second)")
    for column in ("Resource", "Key", "Reads/s", "Writes/s", "Limits", "", "What"):
        keys.add_column(column, justify="right" if column in ("Reads/s", "Writes/s") else "left")
    for row in result.keys:
        keys.add_row(row.resource, row.key, f"{row.reads:,.1f}", f"{row.writes:,.1f}",
                     f"{row.read_limit:,.0f} / {row.write_limit:,.0f}", "[bold red]OVER[/]" if row.over else "ok",
                     row.why)
    out.print(keys)
    bill = Table(title="A month on DynamoDB on-demand (request units; storage: see `alexdb cost`)")
    for column in ("Table", "Read units", "Write units", "USD"):
        bill.add_column(column, justify="left" if column == "Table" else "right")
    for table in sorted(result.monthly):
        read, write = result.monthly[table]
        bill.add_row(table, f"{read:,.0f}", f"{write:,.0f}", f"{result.costs[table]:,.2f}")
    bill.add_section()
    bill.add_row("[bold]total[/]", "", "", f"[bold]{sum(result.costs.values()):,.2f}[/]")
    out.print(bill)
    out.print("Workload: " + ", ".join(f"{name}={_plain(getattr(workload, name))}" for name in workload_fields()))


def save_profile(profile: Profile, path: Path | None = None) -> Path:
    """Write a profile where packaged_profile() reads it (or to path)."""
    from alexdb.services.metering import as_json

    target = path or Path(str(resources.files("alexdb.data").joinpath(PROFILE)))
    target.write_text(json.dumps(as_json(profile), indent=1) + "\n")
    return target
