"""Rich renderings of alexdb results for the terminal."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from rich.table import Table

from alexdb.domain.models import AccountValuation, Job, Position, PositionChange


def money(value: Decimal | None) -> str:
    """A Decimal as money with thousands separators (exact: no float on the way)."""
    return "-" if value is None else f"{value.quantize(Decimal('0.01')):,}"


def positions_table(title: str, positions: Iterable[Position]) -> Table:
    """Current holdings."""
    table = Table(title=title)
    for column in ("Symbol", "Name", "Type", "Quantity", "Price", "Value"):
        table.add_column(column, justify="right" if column in ("Quantity", "Price", "Value") else "left")
    total = Decimal(0)
    for p in positions:
        total += p.value or 0
        table.add_row(p.symbol, p.instrument_name, p.instrument_type, f"{p.quantity:,}",
                      money(p.current_price), money(p.value))
    table.add_section()
    table.add_row("", "", "", "", "Holdings", money(total))
    return table


def valuation_table(title: str, valuation: AccountValuation) -> Table:
    """A valuation at an instant, unpriced holdings flagged."""
    table = Table(title=f"{title} at {valuation.at:%Y-%m-%d %H:%M:%S} UTC")
    for column in ("Symbol", "Quantity", "Price", "Price as of", "Value"):
        table.add_column(column, justify="left" if column in ("Symbol", "Price as of") else "right")
    for h in valuation.holdings:
        table.add_row(h.symbol, f"{h.quantity:,}", money(h.price), f"{h.price_at:%Y-%m-%d %H:%M}", money(h.value))
    for u in valuation.unpriced:
        table.add_row(u.symbol, f"{u.quantity:,}", "[yellow]no price[/]", "-", "[yellow]unpriced[/]")
    table.add_section()
    table.add_row("Cash", "", "", "", money(valuation.cash))
    table.add_row("[bold]Total[/]", "", "", "", f"[bold]{money(valuation.total)}[/]")
    return table


def history_table(title: str, changes: Iterable[PositionChange]) -> Table:
    """A position audit trail."""
    table = Table(title=title)
    for column in ("When (UTC)", "Symbol", "Action", "Change", "Quantity after", "Price"):
        table.add_column(column, justify="right" if column in ("Change", "Quantity after", "Price") else "left")
    for c in changes:
        table.add_row(f"{c.at:%Y-%m-%d %H:%M:%S}", c.symbol, c.action, f"{c.delta:+,}", f"{c.quantity_after:,}",
                      money(c.price))
    return table


def jobs_table(title: str, jobs: Iterable[Job]) -> Table:
    """Analysis jobs."""
    table = Table(title=title)
    for column in ("Id", "Type", "Status", "Created (UTC)", "Completed (UTC)", "Error"):
        table.add_column(column)
    for j in jobs:
        table.add_row(str(j.id), j.job_type, j.status, f"{j.created_at:%Y-%m-%d %H:%M:%S}",
                      "-" if j.completed_at is None else f"{j.completed_at:%Y-%m-%d %H:%M:%S}", j.error_message or "")
    return table
