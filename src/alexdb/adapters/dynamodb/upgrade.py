"""Bring existing DynamoDB tables to the current design (administration only: it scans).

Three steps, each safe to run again:
1. indexes: every index the table specs declare and a table lacks is added (UpdateTable), then waited for;
2. data, once (a SCHEMA item records it): each account's cash_balance becomes its opening ADJUSTMENT,
   dated when the account was created; each CURRENT item gets its HoldersIndex keys, and each holding's
   average cost is replayed from its history's recorded prices (trades recorded before the ledger moved
   no cash, so their trade cash stays 0);
3. alerts, once (a second SCHEMA item records it): each alert gets armed_at = updated_at, so restarted
   ingestors do not fire a level alert that already held when it was loaded before the upgrade;
4. daily closes, once (a third SCHEMA item): each symbol's day gets its close item from its price points;
5. sharded keys, once (a fourth SCHEMA item): each user gets its Directory keys and each job its UserJobs
   and JobQueue keys, and then the indexes they replace (RETIRED_INDEXES) are deleted;
6. the delivery outbox, once (a fifth SCHEMA item): each outbox item of the earlier design (OUTBOX#<nn> in
   the users table) moves onto its history item (outbox_shard, listed by the Outbox index) and is deleted.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from alexdb.adapters.dynamodb import keys
from alexdb.adapters.dynamodb.client import Dynamo
from alexdb.adapters.dynamodb.closes import DailyCloses
from alexdb.adapters.dynamodb.deliveries import outbox_shard
from alexdb.adapters.dynamodb.jobs import RESULTS, index_keys
from alexdb.adapters.dynamodb.ledger import CASH_HEAD, movement_actions
from alexdb.adapters.dynamodb.tables import TableSpec
from alexdb.domain.errors import BackendError
from alexdb.domain.ledger import PlannedCash
from alexdb.domain.models import PricePoint
from alexdb.domain.trading import moved_cost

VERSION = "dynamodb-5"
SCHEMA_KEY = {"PK": "SCHEMA", "SK": "VERSION"}
SPEED_KEY = {"PK": "SCHEMA", "SK": "SPEED"}  # the speed layer's step, done once
CLOSES_KEY = {"PK": "SCHEMA", "SK": "MONTHLY_CLOSES"}  # the daily closes' step, done once
SHARDS_KEY = {"PK": "SCHEMA", "SK": "SHARDS"}  # the sharded index keys' step, done once
OUTBOX_KEY = {"PK": "SCHEMA", "SK": "OUTBOX"}  # the outbox's step, done once
EARLIER_OUTBOX_SHARDS = 128
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


def upgrade_closes(dynamo: Dynamo, table: str, instruments: str) -> list[str]:
    """Give every day of every symbol's price history its close item, unless this was done already."""
    if dynamo.get(table, CLOSES_KEY) is not None:
        return []
    read = [0]

    def points() -> Iterator[PricePoint]:  # streamed: only the newest point of each symbol and day is kept
        for item in dynamo.scan(instruments, ProjectionExpression="PK, SK, price"):
            if "#" not in item["PK"] and item["SK"][:1].isdigit():
                read[0] += 1
                yield PricePoint.model_construct(symbol=item["PK"], price=item["price"],
                                                 at=datetime.fromisoformat(item["SK"]))

    DailyCloses(dynamo, instruments).advance(points())
    dynamo.put(table, {**CLOSES_KEY, "version": VERSION})
    return [f"recorded the daily closes of {read[0]} price points in {instruments}"]


def upgrade_index_keys(dynamo: Dynamo, table: str) -> list[str]:
    """Give users and jobs the keys of the sharded indexes (and drop the old ones), unless done already."""
    if dynamo.get(table, SHARDS_KEY) is not None:
        return []
    moved = 0
    for item in dynamo.scan(table, FilterExpression="attribute_exists(GSI2PK) OR attribute_exists(GSI1PK)"):
        values: dict[str, Any]
        if item["SK"] == keys.META and item["PK"].startswith("USER#"):
            values = keys.directory_keys(item["PK"].removeprefix("USER#"))
        elif item["SK"].startswith("JOB#"):
            values = {**index_keys(item["clerk_user_id"], item["status"], item["created_at"], item["id"]),
                      "has_results": any(item.get(name) for name in RESULTS)}
        else:
            continue
        # Conditional on the old keys: an item changed since it was scanned keeps what its writer gave it.
        moved += dynamo.update_if(
            table, {"PK": item["PK"], "SK": item["SK"]},
            "SET " + ", ".join(f"#{n} = :{n}" for n in values) + " REMOVE GSI1PK, GSI1SK, GSI2PK, GSI2SK",
            {f"#{n}": n for n in values}, {f":{n}": v for n, v in values.items()},
            "attribute_exists(PK)") is not None
    dynamo.put(table, {**SHARDS_KEY, "version": VERSION})
    return [f"gave {moved} users and jobs their sharded index keys in {table}"]


def upgrade_outbox(dynamo: Dynamo, table: str, history: str) -> list[str]:
    """Move the earlier design's outbox items onto their history items, unless done already. A history
    item settled since keeps its outcome: it is listed again only while it still has a next attempt."""
    if dynamo.get(table, OUTBOX_KEY) is not None:
        return []
    moved = 0
    for number in range(EARLIER_OUTBOX_SHARDS):
        items = list(dynamo.query(table, KeyConditionExpression="PK = :pk",
                                  ExpressionAttributeValues={":pk": f"OUTBOX#{number:02d}"}))
        for item in items:  # one UpdateItem each: DynamoDB has no batch update
            key = {"user_id": item["user_id"], "triggered_at_id": item["triggered_at_id"]}
            moved += dynamo.update_if(history, key, "SET outbox_shard = :s", {},
                                      {":s": outbox_shard(uuid.UUID(item["SK"]))},
                                      "attribute_exists(next_attempt_at)") is not None
        dynamo.batch_write(table, deletes=[{"PK": item["PK"], "SK": item["SK"]} for item in items])
    dynamo.put(table, {**OUTBOX_KEY, "version": VERSION})
    return [f"moved {moved} pending deliveries from the outbox items of {table} to {history}"]


def retire_indexes(dynamo: Dynamo, name: str, retired: Sequence[str]) -> list[str]:
    """Delete the indexes an earlier design had and this one replaced (after their data has moved)."""
    present = {index["IndexName"] for index in (dynamo.describe(name) or {}).get("GlobalSecondaryIndexes", [])}
    done = []
    for index_name in retired:
        if index_name in present:
            _wait_for_table(dynamo, name)
            dynamo.client.update_table(TableName=name,
                                       GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": index_name}}])
            _wait_for_table(dynamo, name)
            done.append(f"deleted index {index_name} of {name}")
    return done


def _wait_for_table(dynamo: Dynamo, name: str, patience_s: float = 600.0) -> None:
    deadline = time.monotonic() + patience_s
    while time.monotonic() < deadline:
        table = dynamo.describe(name) or {}
        busy = [i["IndexName"] for i in table.get("GlobalSecondaryIndexes", []) if i.get("IndexStatus") != "ACTIVE"]
        if table.get("TableStatus") == "ACTIVE" and not busy:
            return
        time.sleep(1.0)
    raise BackendError(f"{name} is still being changed after {patience_s:.0f} s: run `alexdb migrate` again later")


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
