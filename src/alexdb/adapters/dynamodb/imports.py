"""All-or-nothing imports of any size on DynamoDB, whose transactions hold at most 100 items.

A history record is visible only when its version is at most its CURRENT item's version. An import too
large for one transaction therefore runs in three steps:

1. claim: one transaction marks each touched CURRENT item with the import's id (conditioned on the
   version read), so no other writer changes those holdings meanwhile;
2. write the history records in batches: their versions are above the committed ones, so no reader
   sees them yet;
3. commit: one transaction writes every CURRENT item's new quantity and version and drops the mark.
   That is the instant the whole import becomes visible.

The import's id is a digest of the account and the planned changes, so running the same import again
after a crash resumes it (the same records are rewritten, then committed). A writer that finds another
import's mark older than `stale_after` seconds rolls it back: it deletes that import's records (those
above the committed version) and drops the mark, so nothing of it ever becomes visible; a writer that
finds a fresh mark waits for it, up to `wait_for` seconds, then raises ConflictError.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from alexdb.adapters.dynamodb import keys
from alexdb.adapters.dynamodb.client import Dynamo, TransactionCanceledError
from alexdb.adapters.dynamodb.ledger import DynamoSplits
from alexdb.domain.errors import BackendError, ConflictError, NotFoundError, ValidationError
from alexdb.domain.instants import instant_text, utcnow
from alexdb.domain.trading import NEVER_HELD, HeldState, Plan, Planned, final_holdings

TRANSACTION_LIMIT = 100
MARK, MARKED_AT = "import_id", "import_at"
ZERO = Decimal(0)
HistoryItem = Callable[[uuid.UUID, Planned, int], dict[str, Any]]


def committed(item: dict[str, Any] | None) -> int:
    """The version up to which a symbol's history is visible (0: none)."""
    return 0 if item is None else int(item["version"])


def marked(item: dict[str, Any] | None) -> bool:
    """Whether an import holds this CURRENT item."""
    return item is not None and MARK in item


def held_state(item: dict[str, Any] | None) -> HeldState:
    """The committed holding a CURRENT item records (never held: no item, or an import's placeholder)."""
    if item is None or not committed(item):
        return NEVER_HELD
    return HeldState(item["quantity"], datetime.fromisoformat(item["last_change_at"]), item.get("cash", ZERO),
                     item.get("cost"))


def current_item(account_id: uuid.UUID, change: Planned, version: int) -> dict[str, Any]:
    """The CURRENT item a change leaves (HoldersIndex keys included)."""
    last = instant_text(change.at)
    return {"PK": keys.account_pk(account_id), "SK": keys.current_sk(change.symbol), "account_id": str(account_id),
            "symbol": change.symbol, "quantity": change.after, "version": version, "last_change_at": last,
            "updated_at": instant_text(utcnow()), "cash": change.cash_after, "cost": change.cost_after,
            "GSI3PK": keys.holders_pk(change.symbol), "GSI3SK": last}


def _digest(account_id: uuid.UUID, planned: Sequence[Planned]) -> str:
    text = repr((str(account_id), [tuple(map(str, change)) for change in planned]))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Importer:
    """change_many for the DynamoDB position store: one transaction when it fits, else claim/write/commit."""

    def __init__(self, dynamo: Dynamo, table: str, checks: Callable[[uuid.UUID, list[str]], list[dict[str, Any]]],
                 history_item: HistoryItem, splits: DynamoSplits, instruments: str, stale_after: float = 300.0,
                 wait_for: float = 30.0) -> None:
        self._dynamo, self._table, self._checks, self._history_item = dynamo, table, checks, history_item
        self._splits, self._instruments = splits, instruments
        self.stale_after = stale_after  # a mark older than this is an abandoned import: the next writer undoes it
        self.wait_for = wait_for  # how long a writer waits for a live import before ConflictError

    def _key(self, account_id: uuid.UUID, symbol: str) -> dict[str, str]:
        return {"PK": keys.account_pk(account_id), "SK": keys.current_sk(symbol)}

    def _current(self, account_id: uuid.UUID) -> dict[str, dict[str, Any]]:
        return {item["symbol"]: item for item in self._dynamo.query(
            self._table, KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
            ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"}, ConsistentRead=True,
            ExpressionAttributeValues={":pk": keys.account_pk(account_id), ":prefix": "CURRENT#"})}

    def change_many(self, account_id: uuid.UUID, symbols: Sequence[str], plan: Plan) -> int:
        """Plan from the committed holdings and write it all or nothing, retrying lost races."""
        deadline, foreign = time.monotonic() + self.wait_for, []
        for attempt in self._dynamo.retry.rounds():
            current = self._current(account_id)
            planned = plan({s: held_state(current.get(s)) for s in symbols}, self._splits.splits_now(symbols))
            import_id = _digest(account_id, planned)
            foreign = [s for s in symbols if marked(current.get(s)) and current[s][MARK] != import_id]
            if foreign:
                if not self.roll_back_stale(account_id, [current[s] for s in foreign]):
                    if time.monotonic() > deadline:
                        raise ConflictError(f"account {account_id}: another import holds {foreign[0]}")
                    self._dynamo.retry.sleep(min(attempt, 8))
                continue
            start = {s: committed(current.get(s)) for s in symbols}
            new = [s for s in symbols if not start[s]]
            checks = self._checks(account_id, new)
            history, version = self._history(account_id, planned, start)
            finals = [(change, version[symbol]) for symbol, change in final_holdings(planned).items()]
            fits = len(checks) + len(symbols) + len(history) <= TRANSACTION_LIMIT
            if fits and not any(marked(current.get(s)) for s in symbols):
                if self._at_once(account_id, checks, new, finals, start, history):
                    return len(planned)
            elif self._claimed(account_id, import_id, checks, new, current, symbols):
                self._dynamo.batch_write(self._table, puts=history)
                if self._commit(account_id, import_id, finals):
                    return len(planned)
            self._dynamo.retry.sleep(min(attempt, 6))  # lost a race: read and plan again
        if foreign:
            raise ConflictError(f"account {account_id}: another import holds {foreign[0]}")
        raise BackendError(f"account {account_id}: too much contention importing trades, gave up")

    def _history(self, account_id: uuid.UUID, planned: Sequence[Planned],
                 start: dict[str, int]) -> tuple[list[Any], dict[str, int]]:
        """The history records of the plan, and the version each symbol ends at."""
        version = dict(start)
        items = []
        for change in planned:
            version[change.symbol] += 1
            items.append(self._history_item(account_id, change, version[change.symbol]))
        return items, version

    def _current_put(self, account_id: uuid.UUID, change: Planned, version: int, condition: str,
                     values: dict[str, Any]) -> dict[str, Any]:
        return {"Put": {"TableName": self._table, "ConditionExpression": condition,
                        "Item": current_item(account_id, change, version),
                        **({"ExpressionAttributeValues": values} if values else {}),
            **({"ExpressionAttributeNames": {"#v": "version"}} if "#v" in condition else {})}}

    def _refused(self, exc: TransactionCanceledError, checks: list[dict[str, Any]], account_id: uuid.UUID,
                 new: list[str]) -> None:
        failed = [i for i, code in enumerate(exc.codes) if code == "ConditionalCheckFailed"]
        if failed and failed[0] < len(checks):
            if failed[0] == 0:
                raise NotFoundError("account", str(account_id)) from exc
            raise NotFoundError("instrument", new[failed[0] - 1]) from exc

    def _at_once(self, account_id: uuid.UUID, checks: list[dict[str, Any]], new: list[str],
                 finals: list[tuple[Planned, int]], start: dict[str, int], history: list[Any]) -> bool:
        puts = []
        for change, version in finals:
            read = start[change.symbol]  # the version planned from: a concurrent change cancels the transaction
            puts.append(self._current_put(
                account_id, change, version,
                f"attribute_not_exists({MARK}) AND " + ("#v = :v" if read else "attribute_not_exists(PK)"),
                {":v": read} if read else {}))
        try:
            self._dynamo.transact([*checks, *puts, *({"Put": {"TableName": self._table, "Item": h}} for h in history)])
        except TransactionCanceledError as exc:
            self._refused(exc, checks, account_id, new)
            return False
        return True

    def _claimed(self, account_id: uuid.UUID, import_id: str, checks: list[dict[str, Any]], new: list[str],
                 current: dict[str, dict[str, Any]], symbols: Sequence[str]) -> bool:
        if all(marked(current.get(s)) for s in symbols):
            return True  # this import claimed them before it was cut short: resume it
        if len(checks) + len(symbols) > TRANSACTION_LIMIT and new:
            # Instruments are never deleted, so reading them before the claim proves what a check inside it
            # would, and leaves the transaction room for every holding (the live-account check stays in it).
            found = {item["PK"] for item in self._dynamo.batch_get(
                self._instruments, [{"PK": symbol, "SK": keys.INSTRUMENT_META} for symbol in new])}
            missing = [symbol for symbol in new if symbol not in found]
            if missing:
                raise NotFoundError("instrument", missing[0])
            checks, new = checks[:1], []
        if len(checks) + len(symbols) > TRANSACTION_LIMIT:
            raise ValidationError("trades", len(symbols),
                                  f"more than {TRANSACTION_LIMIT - len(checks)} symbols in one import")
        now = {":id": import_id, ":at": int(time.time())}
        actions = list(checks)
        for symbol in symbols:
            item = current.get(symbol)
            if item is None:  # a placeholder: no holding (version 0) until the commit
                actions.append({"Put": {"TableName": self._table, "ConditionExpression": "attribute_not_exists(PK)",
                                        "Item": {**self._key(account_id, symbol), "account_id": str(account_id),
                                                 "symbol": symbol, "quantity": ZERO, "version": 0,
                                                 "updated_at": instant_text(utcnow()), MARK: import_id,
                                                 MARKED_AT: now[":at"]}}})
            elif not marked(item):
                actions.append({"Update": {
                    "TableName": self._table, "Key": self._key(account_id, symbol),
                    "UpdateExpression": f"SET {MARK} = :id, {MARKED_AT} = :at",
                    "ConditionExpression": f"attribute_not_exists({MARK}) AND #v = :v",
                    "ExpressionAttributeNames": {"#v": "version"},
                    "ExpressionAttributeValues": {**now, ":v": committed(item)}}})
        try:
            self._dynamo.transact(actions)
        except TransactionCanceledError as exc:
            self._refused(exc, checks, account_id, new)
            return False
        return True

    def _commit(self, account_id: uuid.UUID, import_id: str, finals: list[tuple[Planned, int]]) -> bool:
        # Refused when another writer rolled this import back meanwhile: it is then planned and run again.
        return self._dynamo.transact_if([self._current_put(account_id, change, version, f"{MARK} = :id",
                                                           {":id": import_id}) for change, version in finals])

    def roll_back_stale(self, account_id: uuid.UUID, items: Sequence[dict[str, Any]]) -> bool:
        """Undo the imports marking these CURRENT items, on every holding they marked, if their marks are
        stale; False if one is still fresh."""
        if any(int(time.time()) - int(item[MARKED_AT]) < self.stale_after for item in items):
            return False
        abandoned = {item[MARK] for item in items}
        for item in self._current(account_id).values():
            if item.get(MARK) in abandoned:
                self._roll_back(account_id, item)
        return True

    def _roll_back(self, account_id: uuid.UUID, item: dict[str, Any]) -> None:
        prefix = keys.history_prefix(item["symbol"])
        strays = []
        for record in self._dynamo.query(
                self._table, KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
                ExpressionAttributeNames={"#pk": "PK", "#sk": "SK", "#v": "version"}, ScanIndexForward=False,
                ConsistentRead=True, ProjectionExpression="#pk, #sk, #v",
                ExpressionAttributeValues={":pk": keys.account_pk(account_id), ":prefix": prefix}):
            if int(record["version"]) <= committed(item):
                break  # an import's records are the newest of their symbol
            strays.append({"PK": record["PK"], "SK": record["SK"]})
        self._dynamo.batch_write(self._table, deletes=strays)
        key = self._key(account_id, item["symbol"])
        release: dict[str, Any] = (
            {"Delete": {"TableName": self._table, "Key": key}} if not committed(item) else
            {"Update": {"TableName": self._table, "Key": key, "UpdateExpression": f"REMOVE {MARK}, {MARKED_AT}"}})
        release[next(iter(release))].update(ConditionExpression=f"{MARK} = :id",
                                            ExpressionAttributeValues={":id": item[MARK]})
        self._dynamo.transact_if([release])  # refused when another writer released it meanwhile
