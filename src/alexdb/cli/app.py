"""The alexdb command line: a thin Typer layer over the library."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from alexdb.cli import capacity as capacity_cli
from alexdb.cli import common, render
from alexdb.cli import cost as cost_cli
from alexdb.cli import dynamodb as dynamodb_cli
from alexdb.cli import ledger as ledger_cli
from alexdb.cli import ticks as ticks_cli
from alexdb.cli.common import UrlOption, UserOption
from alexdb.database import Database
from alexdb.domain.errors import AlexdbError
from alexdb.domain.instants import to_instant, utcnow
from alexdb.services import seeding

app = typer.Typer(help="alexdb: the Alex portfolio store.", no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(dynamodb_cli.app, name="dynamodb")
app.add_typer(ticks_cli.app, name="ticks")
app.command("cost")(cost_cli.cost)
app.command("capacity", epilog=capacity_cli.SETTINGS_HELP)(capacity_cli.capacity)
out = Console()
err = Console(stderr=True)

_open, _account = common.open_db, common.find_account
for command in (ledger_cli.cash, ledger_cli.lots, ledger_cli.gains, ledger_cli.returns):
    app.command()(command)


def _seed(db: Database, with_test_data: bool) -> None:
    total = 22 * (2 if with_test_data else 1)
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("Seeding instruments and prices", total=total)
        seeding.seed_instruments(db, lambda n: progress.advance(task, n))
        if with_test_data:
            seeding.load_test_data(db, lambda n: progress.advance(task, n))


@app.command()
def init(url: UrlOption = None) -> None:
    """Create or upgrade the schema and load the 22 reference ETFs."""
    with _open(url, migrate=True) as db:
        _seed(db, with_test_data=False)
        out.print(f"[green]ready[/]: {db!r} at schema {db.schema_version()}")


@app.command()
def migrate(url: UrlOption = None) -> None:
    """Bring the schema up to this version of alexdb."""
    with _open(url, migrate=False) as db:
        before = db.schema_version()
        after = db.migrate()
        out.print(f"schema {before or 'empty'} -> {after}")


@app.command()
def seed(url: UrlOption = None) -> None:
    """Load (or refresh) the 22 reference ETFs."""
    with _open(url) as db:
        db.check_schema()
        _seed(db, with_test_data=False)
        out.print(f"seeded {len(seeding.load_etfs())} instruments")


@app.command()
def reset(
    url: UrlOption = None,
    with_test_data: Annotated[bool, typer.Option("--with-test-data", help="Add the test user and portfolio.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Drop everything, migrate, seed, and optionally load the test portfolio."""
    if not yes and sys.stdin.isatty():
        typer.confirm("This deletes every row in the database. Continue?", abort=True)
    with _open(url, migrate=False) as db:
        db.drop_all()
        db.migrate()
        _seed(db, with_test_data)
        counts = db.counts()
    out.print("[green]reset complete[/]: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@app.command()
def verify(url: UrlOption = None) -> None:
    """Check schema version, row counts and one query per table; exits non-zero on any problem."""
    problems: list[str] = []
    with _open(url, migrate=False) as db:
        try:
            db.check_schema()
            out.print(f"schema {db.schema_version()}: ok")
        except AlexdbError as exc:
            problems.append(str(exc))
        if not problems:
            counts = db.counts()
            out.print("counts: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
            problems += _sample_queries(db, counts)
    for problem in problems:
        err.print(f"[red]problem[/]: {problem}")
    if problems:
        raise typer.Exit(1)
    out.print("[green]verified[/]")


def _sample_queries(db: Database, counts: dict[str, int]) -> list[str]:
    problems = []
    if counts["instruments"] == 0:
        problems.append("no instruments: run `alexdb seed`")
    first_users = db.users.find_all(limit=1).items
    first_instruments = db.instruments.find_all(limit=1).items
    checks: dict[str, Callable[[], object]] = {
        "users": lambda: db.users.find_by_clerk_id(first_users[0].clerk_user_id) if first_users else None,
        "instruments": lambda: db.instruments.search(first_instruments[0].symbol) if first_instruments else None,
        "price_history": lambda: [db.instruments.get_price_at(i.symbol, utcnow()) for i in first_instruments],
        "accounts": lambda: [db.accounts.find_by_user(u.clerk_user_id, limit=1) for u in first_users],
        "positions": lambda: [db.positions.get_portfolio_value(a.id) for u in first_users
                              for a in db.accounts.find_by_user(u.clerk_user_id, limit=1).items],
        "cash": lambda: [db.cash.movements(a.id, limit=1) for u in first_users
                         for a in db.accounts.find_by_user(u.clerk_user_id, limit=1).items],
        "splits": lambda: db.instruments.get_splits(first_instruments[0].symbol) if first_instruments else None,
        "jobs": lambda: db.jobs.find_by_status("pending", limit=1),
        "chat": lambda: [db.chat.list_sessions(u.clerk_user_id, limit=1) for u in first_users],
    }
    for table, check in checks.items():
        try:
            check()
            out.print(f"query {table}: ok")
        except AlexdbError as exc:
            problems.append(f"query on {table} failed: {exc}")
    return problems


@app.command()
def positions(account: str, user: UserOption = seeding.TEST_USER, url: UrlOption = None) -> None:
    """Current holdings of an account (by id, or by name with --user)."""
    with _open(url) as db:
        found = _account(db, account, user)
        out.print(render.positions_table(f"{found.account_name} holdings", db.positions.find_by_account(found.id)))


@app.command()
def trade(
    account: str, symbol: str, action: str, quantity: str,
    user: UserOption = seeding.TEST_USER, url: UrlOption = None,
    at: Annotated[str | None, typer.Option(help="ISO-8601 instant (default now).")] = None,
    price: Annotated[str | None, typer.Option(help="Trade price, recorded in the history.")] = None,
) -> None:
    """Record a BUY, SELL, TRANSFER_IN or TRANSFER_OUT."""
    with _open(url) as db:
        found = _account(db, account, user)
        change = db.positions.record_trade(found.id, symbol, action, quantity, at=at, price=price)
        out.print(f"{change.action} {abs(change.delta)} {change.symbol}: now hold {change.quantity_after}")


@app.command()
def history(
    account: str, user: UserOption = seeding.TEST_USER, url: UrlOption = None,
    symbol: Annotated[str | None, typer.Option(help="Only this symbol.")] = None,
    start: Annotated[str | None, typer.Option(help="From this instant.")] = None,
    end: Annotated[str | None, typer.Option(help="Up to this instant.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 100,
) -> None:
    """The audit trail of an account's positions, oldest first."""
    with _open(url) as db:
        found = _account(db, account, user)
        page = db.positions.get_position_history(found.id, symbol, start, end, limit=limit)
        out.print(render.history_table(f"{found.account_name} history", page.items))
        if page.next_cursor:
            out.print("[dim]more rows: raise --limit or narrow --start/--end[/]")


@app.command()
def value(
    account: str, user: UserOption = seeding.TEST_USER, url: UrlOption = None,
    at: Annotated[str | None, typer.Option(help="Instant or date (a date means the end of that UTC day).")] = None,
) -> None:
    """What an account is worth now, or was worth --at an instant."""
    with _open(url) as db:
        found = _account(db, account, user)
        valuation = db.positions.get_account_value_at_date(found.id, at or utcnow())
        out.print(render.valuation_table(found.account_name, valuation))


@app.command()
def jobs(
    user: Annotated[str, typer.Argument(help="Clerk user id.")] = seeding.TEST_USER, url: UrlOption = None,
    status: Annotated[str | None, typer.Option(help="Only jobs of this status.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many jobs.")] = 20,
) -> None:
    """A user's analysis jobs, newest first."""
    with _open(url) as db:
        out.print(render.jobs_table(f"jobs of {user}", db.jobs.find_by_user(user, status=status, limit=limit).items))


@app.command()
def demo(
    url: UrlOption = None,
    serve_it: Annotated[bool, typer.Option("--serve", help="Then serve the dashboard of the test user.")] = False,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of --serve.")] = 8000,
) -> None:
    """Reset with test data and show the test portfolio now and at three past dates (--serve: then open it in
    the dashboard)."""
    with _open(url, migrate=False) as db:
        db.drop_all()
        db.migrate()
        _seed(db, with_test_data=True)
        account = _account(db, "401(k)", seeding.TEST_USER)
        out.print(render.positions_table("401(k) holdings now", db.positions.find_by_account(account.id)))
        today = utcnow().date()
        for days in (0, 90, 400, 700):
            moment = utcnow() if days == 0 else to_instant(today - timedelta(days=days))
            out.print(render.valuation_table("401(k)", db.positions.get_account_value_at_date(account.id, moment)))
        user_total = db.positions.get_user_value_at_date(seeding.TEST_USER, utcnow()).total
        out.print(f"[bold]All three accounts of {seeding.TEST_USER} now: {render.money(user_total)}[/]")
        start = to_instant(today - timedelta(days=730))
        out.print(render.cash_table("401(k) cash, last 120 days",
                                    db.cash.history(account.id, start=utcnow() - timedelta(days=120))))
        out.print(render.gains_table("401(k) realized gains (fifo)", db.positions.get_realized_gains(account.id)))
        out.print(render.returns_table("401(k), last two years", db.performance.returns(account.id, start, utcnow())))
        served = db.url
    if serve_it:
        out.print(f"[bold]Dashboard:[/] http://127.0.0.1:{port}/?user={seeding.TEST_USER}")
        serve(port=port, url=served)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    url: UrlOption = None,
) -> None:
    """Run the HTTP service: the whole store under /v1 (docs at /docs), live alerts at /v1/ws/{user_id}."""
    import uvicorn

    from alexdb.api.app import service

    uvicorn.run(service(url), host=host, port=port)


def main() -> None:
    """Entry point: one clear line and a non-zero exit on any error, never a traceback."""
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        err.print("aborted")
        sys.exit(1)
    except typer.TyperException as exc:  # usage errors: bad option, missing argument
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        err.print(f"[red]error[/]: {message}", highlight=False)
        sys.exit(getattr(exc, "exit_code", 2))
    except AlexdbError as exc:
        err.print(f"[red]error[/]: {exc}", highlight=False, markup=True)
        sys.exit(1)
    except Exception as exc:  # anything else (a missing credential, a network failure): still one line
        if os.environ.get("ALEXDB_DEBUG"):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        err.print(f"error: {type(exc).__name__}: {first} (ALEXDB_DEBUG=1 shows the traceback)",
                  highlight=False, markup=False)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
