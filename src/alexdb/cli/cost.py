"""`alexdb cost`: a workload's monthly bill on DynamoDB on-demand, next to Aurora Serverless v2."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from alexdb.services.cost import Prices, Workload, estimate

out = Console()


def cost(
    users: Annotated[int, typer.Option(help="Users.")] = 0,
    accounts_per_user: Annotated[int, typer.Option(help="Accounts per user.")] = 3,
    holdings: Annotated[int, typer.Option(help="Holdings per account.")] = 5,
    trades_per_day: Annotated[int, typer.Option(help="Trades per day, all users together.")] = 0,
    instruments: Annotated[int, typer.Option(help="Instruments with live prices.")] = 0,
    price_updates_per_day: Annotated[int, typer.Option(help="Price updates per instrument per day.")] = 0,
    views_per_day: Annotated[int, typer.Option(help="Portfolio views per user per day.")] = 0,
    jobs_per_day: Annotated[int, typer.Option(help="Analysis jobs per day.")] = 0,
    days: Annotated[int, typer.Option(help="Active days per month (20 = trading days).")] = 30,
    storage_gb: Annotated[str, typer.Option(help="Stored data in GB.")] = "0",
    pitr: Annotated[bool, typer.Option(help="Point-in-time recovery on.")] = True,
    write_price: Annotated[str, typer.Option(help="USD per million write request units.")] = "0.625",
    read_price: Annotated[str, typer.Option(help="USD per million read request units.")] = "0.125",
    storage_price: Annotated[str, typer.Option(help="USD per GB-month stored.")] = "0.25",
    pitr_price: Annotated[str, typer.Option(help="USD per GB-month of PITR.")] = "0.20",
    acu_price: Annotated[str, typer.Option(help="Aurora Serverless v2, USD per ACU-hour.")] = "0.12",
    min_acu: Annotated[str, typer.Option(help="Aurora Serverless v2 minimum capacity (ACU).")] = "0.5",
) -> None:
    """Estimate a month on DynamoDB on-demand for a workload, next to the Aurora Serverless v2 minimum."""
    prices = Prices(Decimal(write_price), Decimal(read_price), Decimal(storage_price), Decimal(pitr_price),
                    Decimal(acu_price))
    workload = Workload(users, accounts_per_user, holdings, trades_per_day, instruments, price_updates_per_day,
                        views_per_day, jobs_per_day, days, Decimal(storage_gb), pitr)
    result = estimate(workload, prices, Decimal(min_acu))
    units = Table(title="Request units per month")
    for column in ("Work", "Read units", "Write units"):
        units.add_column(column, justify="left" if column == "Work" else "right")
    for what, read, write in result.lines:
        units.add_row(what, f"{read:,.0f}", f"{write:,.0f}")
    out.print(units)
    bill = Table(title="Monthly cost (USD)")
    bill.add_column("Item")
    bill.add_column("DynamoDB on-demand", justify="right")
    for item, amount in (("reads", result.reads), ("writes", result.writes), ("storage", result.storage),
                         ("point-in-time recovery", result.pitr)):
        bill.add_row(item, f"{amount:,.3f}")
    bill.add_section()
    bill.add_row("[bold]total[/]", f"[bold]{result.total:,.3f}[/]")
    bill.add_row(f"Aurora Serverless v2 at {min_acu} ACU minimum (compute only)", f"{result.aurora:,.2f}")
    out.print(bill)
