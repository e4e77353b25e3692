"""Bring existing DynamoDB tables to the current design (administration only: it scans).

Three steps, each safe to run again:
1. indexes: every index the table specs declare and a table lacks is added (UpdateTable), then waited for;
2. data, once (a SCHEMA item records it): each account's cash_balance becomes its opening ADJUSTMENT,
   dated when the account was created; each CURRENT item gets its HoldersIndex keys, and each holding's
   average cost is replayed from its history's recorded prices (trades recorded before the ledger moved
   no cash, so their trade cash stays 0);
3. alerts, once (a second SCHEMA item records it): each alert gets armed_at = updated_at, so restarted
   ingestors do not fire a level alert that already held when it was loaded before the upgrade.
"""

from __future__ import annotations

import time
from datetime import datetime
from decimal import Decimal
from typing import Any

from alexdb.adapters.dynamodb import keys
from alexdb.adapters.dynamodb.client import Dynamo
from alexdb.adapters.dynamodb.ledger import CASH_HEAD, movement_actions
from alexdb.adapters.dynamodb.tables import TableSpec
from alexdb.domain.errors import BackendError
from alexdb.domain.ledger import PlannedCash
from alexdb.domain.trading import moved_cost

VERSION = "dynamodb-3"
SCHEMA_KEY = {"PK": "SCHEMA", "SK": "VERSION"}
SPEED_KEY = {"PK": "SCHEMA", "SK": "SPEED"}  # the speed layer's step, done once
ZERO = Decimal(0)


def missing_indexes(dynamo: Dynamo, spec: TableSpec, name: str) -> list[str]:
    """The global indexes spec declares that the table lacks."""
    table = dynamo.describe(name) or {}
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    return [index.name for index in spec.indexes if not index.local and index.name not in present]


def add_indexes(dynamo: Dynamo, spec: TableSpec, name: str) -> list[str]:
    """Create each missing global index (one UpdateTable at a time, as DynamoDB requires) and wait for it."""
    done = []
    request = spec.create_request(name)
    for index_name in missing_indexes(dynamo, spec, name):
        index = next(i for i in request["GlobalSecondaryIndexes"] if i["IndexName"] == index_name)
        attributes = {a for k in index["KeySchema"] for a in [k["AttributeName"]]}
        dynamo.client.update_table(
            TableName=name,
            AttributeDefinitions=[d for d in request["AttributeDefinitions"] if d["AttributeName"] in attributes],
            GlobalSecondaryIndexUpdates=[{"Create": index}])
        _wait_for_index(dynamo, name, index_name)
        done.append(f"added index {index_name} to {name}")
    return done


def _wait_for_index(dynamo: Dynamo, name: str, index_name: str, patience_s: float = 600.0) -> None:
    # DynamoDB builds a new index from the table's items first: minutes for a large table.
    deadline, status = time.monotonic() + patience_s, {}
    while time.monotonic() < deadline:
        table = dynamo.describe(name) or {}
        status = {i["IndexName"]: i.get("IndexStatus") for i in table.get("GlobalSecondaryIndexes", [])}
        status["(table)"] = table.get("TableStatus")
        if status.get(index_name) == "ACTIVE" and status["(table)"] == "ACTIVE":
            return
        time.sleep(1.0)
    raise BackendError(f"index {index_name} of {name} is not ACTIVE after {patience_s:.0f} s ({status}): "
                       "run `alexdb migrate` again later")


def upgrade_data(dynamo: Dynamo, table: str) -> list[str]:
    """Open each account's ledger and index and cost each holding, unless this was done already."""
    if dynamo.get(table, SCHEMA_KEY) is not None:
        return []
    opened = holdings = 0
    for item in dynamo.scan(table, FilterExpression="SK = :meta AND begins_with(PK, :account)",
                            ExpressionAttributeValues={":meta": {"S": keys.META}, ":account": {"S": "ACCOUNT#"}}):
        opened += _open_ledger(dynamo, table, item)
    for item in dynamo.scan(table, FilterExpression="begins_with(SK, :current)",
                            ExpressionAttributeValues={":current": {"S": "CURRENT#"}}):
        if "GSI3PK" not in item and int(item["version"]):
            _cost_holding(dynamo, table, item)
            holdings += 1
    dynamo.put(table, {**SCHEMA_KEY, "version": VERSION})
    return [f"opened {opened} cash ledgers and indexed {holdings} holdings in {table}"]


def upgrade_alerts(dynamo: Dynamo, table: str, alerts: str) -> list[str]:
    """Mark each existing alert's settings as checked on arrival (armed_at = updated_at), unless this was
    done already: the ingestors that loaded them fired what held then, so none fires again for it."""
    if dynamo.get(table, SPEED_KEY) is not None:
        return []
    marked = 0
    for item in dynamo.scan(alerts, FilterExpression="attribute_not_exists(armed_at)"):
        marked += dynamo.update_if(alerts, {"alert_id": item["alert_id"]}, "SET armed_at = updated_at", {},
                                   {":v": item["updated_at"]}, "updated_at = :v") is not None
    dynamo.put(table, {**SPEED_KEY, "version": VERSION})
    return [f"marked {marked} alerts as checked on arrival in {alerts}"]


def _open_ledger(dynamo: Dynamo, table: str, account: dict[str, Any]) -> int:
    balance = Decimal(account.get("cash_balance", ZERO))
    pk = account["PK"]
    if not balance or dynamo.get(table, {"PK": pk, "SK": CASH_HEAD}) is not None:
        return 0
    opening = PlannedCash("ADJUSTMENT", balance, balance, datetime.fromisoformat(account["created_at"]), None,
                          "cash balance before the ledger")
    account_id = pk.removeprefix("ACCOUNT#")
    return 1 if dynamo.transact_if(movement_actions(table, account_id, opening, 1)) else 0


def _cost_holding(dynamo: Dynamo, table: str, current: dict[str, Any]) -> None:
    prefix = keys.history_prefix(current["symbol"])
    held: Decimal = ZERO
    cost: Decimal | None = ZERO
    costed: list[dict[str, Any]] = []
    for record in dynamo.query(table, KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
                               ExpressionAttributeValues={":pk": current["PK"], ":prefix": prefix}):
        if int(record["version"]) > int(current["version"]):
            break  # an import under way: not committed, not costed
        cost = moved_cost(cost, held, record["delta"], record["quantity_after"], record.get("price"), None)
        held = record["quantity_after"]
        if cost is not None:
            costed.append({**record, "cost_after": cost})
    # History records never change once written: putting them back whole, 25 to a request, is safe.
    dynamo.batch_write(table, puts=costed)
    expression = "SET GSI3PK = :h, GSI3SK = :at" + (", cost = :c" if cost is not None else "")
    values: dict[str, Any] = {":h": keys.holders_pk(current["symbol"]), ":at": current["last_change_at"]}
    if cost is not None:
        values[":c"] = cost
    dynamo.update(table, {"PK": current["PK"], "SK": current["SK"]}, expression, {}, values)
