"""The ledger's commands: cash, lots, gains and returns of an account."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console

from alexdb.cli import render
from alexdb.cli.common import UrlOption, UserOption, find_account, open_db
from alexdb.domain.instants import to_instant, utcnow
from alexdb.services.seeding import TEST_USER

out = Console()
StartOption = Annotated[str | None, typer.Option(help="From this instant or date.")]
EndOption = Annotated[str | None, typer.Option(help="Up to this instant or date (a date means its end).")]
MethodOption = Annotated[str, typer.Option(help="Booking method: fifo, lifo, hifo or average.")]


def cash(account: str, user: UserOption = TEST_USER, url: UrlOption = None, start: StartOption = None,
         end: EndOption = None) -> None:
    """An account's cash history: deposits, income, fees, taxes and trades, with the balance after each."""
    with open_db(url) as db:
        found = find_account(db, account, user)
        out.print(render.cash_table(f"{found.account_name} cash", db.cash.history(found.id, start, end)))
        out.print(f"cash now: {render.money(db.cash.balance(found.id))}")


def lots(account: str, user: UserOption = TEST_USER, url: UrlOption = None,
         symbol: Annotated[str | None, typer.Option(help="Only this symbol.")] = None,
         at: Annotated[str | None, typer.Option(help="As of this instant or date.")] = None,
         method: MethodOption = "fifo") -> None:
    """Open tax lots: quantity, cost with fees and when each was acquired."""
    with open_db(url) as db:
        found = find_account(db, account, user)
        out.print(render.lots_table(f"{found.account_name} lots ({method})",
                                    db.positions.get_lots(found.id, symbol, at, method)))


def gains(account: str, user: UserOption = TEST_USER, url: UrlOption = None, start: StartOption = None,
          end: EndOption = None, method: MethodOption = "fifo") -> None:
    """Realized gains: each sale with proceeds net of fee, cost, gain and holding period."""
    with open_db(url) as db:
        found = find_account(db, account, user)
        out.print(render.gains_table(f"{found.account_name} realized gains ({method})",
                                     db.positions.get_realized_gains(found.id, start, end, method)))


def returns(account: str, user: UserOption = TEST_USER, url: UrlOption = None, start: StartOption = None,
            end: EndOption = None) -> None:
    """Returns over a period (default the last year): TWR, MWR, flows, income and costs."""
    finish = utcnow() if end is None else to_instant(end, "end")
    begin = finish - timedelta(days=365) if start is None else to_instant(start, "start")
    with open_db(url) as db:
        found = find_account(db, account, user)
        out.print(render.returns_table(found.account_name, db.performance.returns(found.id, begin, finish)))
