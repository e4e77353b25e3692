"""`alexdb ticks ...`: replay a file, simulate a market, or follow Polygon.io; alerts fire as ticks arrive."""

from __future__ import annotations

import time
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import alexdb
from alexdb import bootstrap
from alexdb.database import Database
from alexdb.speed import feeds
from alexdb.speed.pipeline import Counts

app = typer.Typer(help="Feed ticks in: stored, evaluated against the alerts, bars written as price history.",
                  no_args_is_help=True)
out = Console()
err = Console(stderr=True)

UrlOption = Annotated[str | None, typer.Option("--url", envvar="ALEXDB_URL", help="Database URL (default sqlite:///alex.db).")]
BatchOption = Annotated[int, typer.Option(min=1, max=100_000, help="Ticks stored per transaction.")]
SHOWN_ERRORS = 20


def _ingest(url: str | None, records: Iterable[feeds.Labelled], total: int | None, batch_size: int) -> Counts:
    with alexdb.connect(url) as db:
        ingestor = bootstrap.ingestor(db)
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        with Progress(*columns, console=err, transient=True) as progress:
            task = progress.add_task("ingesting", total=total)
            counts = feeds.run(ingestor, records, batch_size, lambda n: progress.advance(task, n))
    _report(counts)
    return counts


def _report(counts: Counts) -> None:
    for line in counts.errors[:SHOWN_ERRORS]:
        err.print(f"[yellow]rejected[/] {line}", highlight=False)
    if counts.rejected > SHOWN_ERRORS:
        err.print(f"... and {counts.rejected - SHOWN_ERRORS} more rejected")
    if counts.interrupted:
        err.print("[yellow]interrupted[/]: the ticks read until then are stored, evaluated and counted")
    table = Table(title="ticks")
    names = ("accepted", "rejected", "late", "merged", "fired", "sent", "failed")
    for name in names:
        table.add_column(name, justify="right")
    table.add_row(*(f"{getattr(counts, name):,}" for name in names))
    out.print(table)


@app.command()
def replay(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV with a header row, or JSON lines.")],
    format: Annotated[str | None, typer.Option("--format", help="csv or jsonl (default: by suffix).")] = None,
    batch_size: BatchOption = 1000, url: UrlOption = None,
) -> None:
    """Replay ticks from a file (fields symbol, price, timestamp as epoch ms or ISO-8601, volume, source)."""
    if format not in (None, "csv", "jsonl"):
        raise typer.BadParameter(f"--format must be csv or jsonl, not {format!r}")
    total = feeds.count_lines(file) - (1 if feeds.file_kind(file, format) == "csv" else 0)  # less the header
    _ingest(url, feeds.read_file(file, format), max(total, 0), batch_size)


@app.command()
def simulate(
    symbols: Annotated[int, typer.Option(min=1, max=100_000, help="How many symbols.")] = 10,
    count: Annotated[int, typer.Option(min=1, help="How many ticks in all.")] = 10_000,
    rate: Annotated[int, typer.Option(min=1, help="Ticks per second.")] = 1000,
    seed: Annotated[int, typer.Option(help="The same seed gives the same prices.")] = 0,
    realtime: Annotated[bool, typer.Option(help="Hold the rate in wall-clock time.")] = False,
    batch_size: BatchOption = 1000, url: UrlOption = None,
) -> None:
    """Random-walk ticks: the instruments in the store (from their current prices) or SIM0001...; timestamps
    start now and advance at the rate."""
    with alexdb.connect(url) as db:
        start = _starting_prices(db, symbols)
    records: Iterable[feeds.Labelled] = feeds.simulate(start, count, seed, time.time_ns() // 1_000_000, rate)
    if realtime:
        records = feeds.paced(records, rate)
    # In real time a batch is at most a tenth of a second of ticks, so alerts fire promptly.
    _ingest(url, records, count, max(1, min(batch_size, rate // 10)) if realtime else batch_size)


def _starting_prices(db: Database, wanted: int) -> dict[str, Decimal]:
    prices: dict[str, Decimal] = {}
    for instrument in db.instruments.find_all():
        if len(prices) == wanted:
            break
        prices[instrument.symbol] = instrument.current_price or Decimal(100)
    for n in range(len(prices), wanted):
        prices[f"SIM{n + 1:04d}"] = Decimal(100)
    return prices


@app.command()
def retry(url: UrlOption = None) -> None:
    """Send again the deliveries that are due: pending past their lease (a crashed ingestor's) or failed
    and due on the retry schedule; each is claimed first, so several workers never send one twice."""
    with alexdb.connect(url) as db:
        ingestor = bootstrap.ingestor(db)
        total = 0
        while done := ingestor.retry_due():
            total += done
            ingestor.settle()
        counts = ingestor.close()
    out.print(f"resent {total:,}: {counts.sent:,} sent, {counts.failed:,} failed again")


@app.command()
def polygon(
    url_ws: Annotated[str, typer.Option("--url", help="The WebSocket address, e.g. wss://socket.polygon.io/stocks.")],
    api_key: Annotated[str, typer.Option("--api-key", envvar="POLYGON_API_KEY", help="Polygon.io API key.")],
    channels: Annotated[str, typer.Option(help="Subscription, e.g. T.AAPL,T.MSFT or AM.*")] = "T.*",
    max_messages: Annotated[int | None, typer.Option(min=1, help="Stop after this many events.")] = None,
    duration: Annotated[float | None, typer.Option(min=0, help="Stop after this many seconds.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Most ticks stored per transaction.")] = 1000,
    db_url: Annotated[str | None, typer.Option("--db-url", envvar="ALEXDB_URL", help="Database URL.")] = None,
) -> None:
    """Follow a Polygon.io WebSocket stream (trades, or minute aggregates) until stopped."""
    feed = feeds.PolygonFeed(url_ws, api_key, channels, max_messages, duration)
    _ingest(db_url, feed, max_messages, batch_size)
