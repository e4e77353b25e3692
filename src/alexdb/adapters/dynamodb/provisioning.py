"""Create, describe and delete the tables: idempotent, waits until ACTIVE, TTL and PITR where supported."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from alexdb.adapters.dynamodb.tables import TABLES, TTL_ATTRIBUTE, TableSpec
from alexdb.domain.errors import BackendError


def _names(names: dict[str, str]) -> list[tuple[TableSpec, str]]:
    """Each table spec with its name, from a role -> name map."""
    return [(spec, names[spec.role]) for spec in TABLES]


def create_tables(client: Any, names: dict[str, str], pitr: bool = True) -> list[str]:
    """Create what is missing, wait until ACTIVE, enable TTL and (where the engine has it) PITR.

    Returns what was done, one line each; running it twice changes nothing the second time.
    """
    done: list[str] = []
    for spec, name in _names(names):
        try:
            client.describe_table(TableName=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise BackendError(f"describe {name}: {exc}") from exc
            client.create_table(**spec.create_request(name))
            done.append(f"created {name}")
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            client.update_time_to_live(TableName=name, TimeToLiveSpecification={
                "Enabled": True, "AttributeName": TTL_ATTRIBUTE})
            done.append(f"enabled TTL ({TTL_ATTRIBUTE}) on {name}")
        if pitr:
            done += _enable_pitr(client, name)
    return done


def _enable_pitr(client: Any, name: str) -> list[str]:
    try:
        backups = client.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        status = backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
        if status == "ENABLED":
            return []
        client.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True})
        return [f"enabled point-in-time recovery on {name}"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("UnknownOperationException", "UnrecognizedClientException"):
            return [f"point-in-time recovery not supported by this engine ({name})"]
        raise BackendError(f"point-in-time recovery on {name}: {exc}") from exc


def describe_tables(client: Any, names: dict[str, str]) -> list[dict[str, Any]]:
    """Status, item count, indexes and TTL of each table (or that it does not exist)."""
    found: list[dict[str, Any]] = []
    for _, name in _names(names):
        try:
            table = client.describe_table(TableName=name)["Table"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                found.append({"name": name, "status": "MISSING"})
                continue
            raise BackendError(f"describe {name}: {exc}") from exc
        ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        found.append({
            "name": name, "status": table["TableStatus"], "items": table.get("ItemCount", 0),
            "billing": table.get("BillingModeSummary", {}).get("BillingMode", "PAY_PER_REQUEST"),
            "indexes": sorted(i["IndexName"] for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes")
                              for i in table.get(kind, [])),
            "ttl": f"{ttl.get('AttributeName', '-')} {ttl.get('TimeToLiveStatus', 'DISABLED')}",
        })
    return found


def delete_tables(client: Any, names: dict[str, str]) -> list[str]:
    """Delete every table that exists and wait until they are gone."""
    done = []
    for _, name in _names(names):
        try:
            client.delete_table(TableName=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                continue
            raise BackendError(f"delete {name}: {exc}") from exc
        client.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        done.append(f"deleted {name}")
    return done
