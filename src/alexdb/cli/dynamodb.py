"""`alexdb dynamodb ...`: create, describe and delete the DynamoDB tables."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from alexdb.adapters.dynamodb import provisioning
from alexdb.adapters.dynamodb.config import DynamoConfig

app = typer.Typer(help="Provision alexdb's six DynamoDB tables: alex-users-data, alex-instruments, chat_sessions, "
                  "alert_configurations, realtime_ticks, alert_notifications_history.",
                  no_args_is_help=True)
out = Console()

Prefix = Annotated[str, typer.Option(help="Put this in front of every table name (e.g. 'dev-').")]
Region = Annotated[str | None, typer.Option(help="AWS region (default $AWS_REGION or $DYNAMODB_REGION).")]
Endpoint = Annotated[str | None, typer.Option("--endpoint-url", help="e.g. http://127.0.0.1:8000 for DynamoDB Local.")]


def _config(prefix: str, region: str | None, endpoint_url: str | None) -> DynamoConfig:
    base = DynamoConfig.from_url("dynamodb://")
    return DynamoConfig(prefix + base.users_table, prefix + base.instruments_table,
                        region or base.region, endpoint_url or base.endpoint_url, prefix + base.chat_table, prefix)


@app.command("create-tables")
def create_tables(
    prefix: Prefix = "", region: Region = None, endpoint_url: Endpoint = None,
    pitr: Annotated[bool, typer.Option(help="Enable point-in-time recovery where the engine supports it.")] = True,
) -> None:
    """Create every table (on-demand, with its indexes), wait until ACTIVE, enable TTL and PITR. Idempotent."""
    config = _config(prefix, region, endpoint_url)
    with out.status(f"creating {', '.join(config.table_names().values())}"):
        done = provisioning.create_tables(config.client(), config.table_names(), pitr=pitr)
    for line in done or ["nothing to do: every table exists as specified"]:
        out.print(line)


@app.command("describe")
def describe(prefix: Prefix = "", region: Region = None, endpoint_url: Endpoint = None) -> None:
    """Status, items, indexes and TTL of every table."""
    config = _config(prefix, region, endpoint_url)
    table = Table(title=f"DynamoDB tables ({config.region})")
    for column in ("Table", "Status", "Items", "Billing", "Indexes", "TTL"):
        table.add_column(column)
    for found in provisioning.describe_tables(config.client(), config.table_names()):
        table.add_row(found["name"], found["status"], str(found.get("items", "-")), found.get("billing", "-"),
                      ", ".join(found.get("indexes", [])), found.get("ttl", "-"))
    out.print(table)


@app.command("delete-tables")
def delete_tables(
    prefix: Prefix = "", region: Region = None, endpoint_url: Endpoint = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete every table and every item in them."""
    config = _config(prefix, region, endpoint_url)
    if not yes:
        typer.confirm(f"Delete {', '.join(config.table_names().values())} with all their data?", abort=True)
    for line in provisioning.delete_tables(config.client(), config.table_names()) or [
            "nothing to do: no such tables"]:
        out.print(line)
