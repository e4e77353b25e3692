"""Rich renderings of alexdb results for the terminal."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from rich.table import Table

from alexdb.domain.ledger import CashEntry
from alexdb.domain.lots import Disposal, Lot
from alexdb.domain.models import AccountValuation, Job, Position, PositionChange
from alexdb.domain.returns import Figure
from alexdb.services.performance import Returns


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
    for column in ("Symbol", "Quantity", "Price", "Price as of", "Value", "Cost", "Gain"):
        table.add_column(column, justify="left" if column in ("Symbol", "Price as of") else "right")
    for h in valuation.holdings:
        table.add_row(h.symbol, f"{h.quantity:,}", money(h.price), f"{h.price_at:%Y-%m-%d %H:%M}", money(h.value),
                      money(h.cost_basis), money(h.unrealized_gain))
    for u in valuation.unpriced:
        table.add_row(u.symbol, f"{u.quantity:,}", "[yellow]no price[/]", "-", "[yellow]unpriced[/]",
                      money(u.cost_basis), "-")
    table.add_section()
    table.add_row("Cash", "", "", "", money(valuation.cash), "", "")
    table.add_row("[bold]Total[/]", "", "", "", f"[bold]{money(valuation.total)}[/]", "", "")
    return table


def cash_table(title: str, entries: Iterable[CashEntry]) -> Table:
    """Cash movements and trades' cash, with the balance after each."""
    table = Table(title=title)
    for column in ("When (UTC)", "Kind", "Symbol", "Amount", "Balance", "Note"):
        table.add_column(column, justify="right" if column in ("Amount", "Balance") else "left")
    for e in entries:
        table.add_row(f"{e.at:%Y-%m-%d %H:%M}", e.kind, e.symbol or "", money(e.amount), money(e.balance),
                      e.note or ("" if e.fee is None else f"fee {money(e.fee)}"))
    return table


def lots_table(title: str, lots: Iterable[Lot]) -> Table:
    """Open tax lots."""
    table = Table(title=title)
    for column in ("Symbol", "Acquired (UTC)", "Quantity", "Cost", "Cost per unit"):
        table.add_column(column, justify="left" if column in ("Symbol", "Acquired (UTC)") else "right")
    for lot in lots:
        table.add_row(lot.symbol, f"{lot.acquired_at:%Y-%m-%d}", f"{lot.quantity:,}",
                      money(lot.cost) if lot.cost is not None else "[yellow]unknown[/]",
                      "-" if lot.cost_per_unit is None else f"{lot.cost_per_unit:,}")
    return table


def gains_table(title: str, disposals: Iterable[Disposal]) -> Table:
    """Realized gains, one row per sale."""
    table = Table(title=title)
    for column in ("Sold (UTC)", "Symbol", "Quantity", "Proceeds", "Cost", "Gain", "Held (days)"):
        table.add_column(column, justify="left" if column in ("Sold (UTC)", "Symbol") else "right")
    for d in disposals:
        table.add_row(f"{d.at:%Y-%m-%d}", d.symbol, f"{d.quantity:,}", money(d.proceeds), money(d.cost),
                      money(d.gain), f"{d.holding_days}{' (long)' if d.long_term else ''}")
    return table


def _rate(figure: Figure) -> str:
    return f"{figure.value * 100:.2f}%" if figure.value is not None else f"[yellow]unavailable[/]: {figure.reason}"


def returns_table(title: str, returns: Returns) -> Table:
    """A period's returns."""
    table = Table(title=f"{title}: {returns.start:%Y-%m-%d} to {returns.end:%Y-%m-%d}")
    table.add_column("Figure")
    table.add_column("Value", justify="right")
    for name, value in (("Start value", money(returns.start_value)), ("End value", money(returns.end_value)),
                        ("Deposits", money(returns.deposits)), ("Withdrawals", money(returns.withdrawals)),
                        ("Securities in/out", f"{money(returns.securities_in)} / {money(returns.securities_out)}"),
                        ("Income", money(returns.income)), ("Fees", money(returns.fees)),
                        ("Taxes", money(returns.taxes)), ("Gain", money(returns.absolute_gain)),
                        ("TWR", _rate(returns.twr)), ("TWR a year", _rate(returns.twr_annualised)),
                        ("MWR (XIRR)", _rate(returns.mwr))):
        table.add_row(name, value)
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
