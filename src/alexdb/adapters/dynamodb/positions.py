"""Positions on DynamoDB: ACCOUNT#<uuid> / CURRENT#<symbol> and ACCOUNT#<uuid> / HISTORY#<symbol>#<instant>#<version>.

A change writes HISTORY and CURRENT in one TransactWriteItems conditioned on the CURRENT version read,
so two traders of one position can never both succeed from the same state; the loser re-reads and
retries within a bounded budget.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from alexdb.adapters.dynamodb import keys
from alexdb.adapters.dynamodb.client import READ_POOL, Dynamo, TransactionCanceledError
from alexdb.adapters.dynamodb.hot import HotInstruments
from alexdb.adapters.dynamodb.imports import MARK, Importer, committed, current_item, held_state, marked
from alexdb.adapters.dynamodb.ledger import DynamoSplits
from alexdb.adapters.dynamodb.paging import query_rows
from alexdb.domain.errors import BackendError, ConflictError, NotFoundError, ValidationError
from alexdb.domain.ids import new_id
from alexdb.domain.instants import instant_text, utcnow
from alexdb.domain.models import Position, PositionChange
from alexdb.domain.paging import Bookmark
from alexdb.domain.trading import HeldState, Mutation, Plan, Planned, change_instant
from alexdb.ports import ChangeColumns, Rows

ZERO = Decimal(0)


def _change(item: dict[str, Any]) -> PositionChange:
    return PositionChange(
        account_id=item["account_id"], symbol=item["symbol"], action=item["action"], delta=item["delta"],
        quantity_after=item["quantity_after"], at=item["at"], price=item.get("price"), seq=int(item["version"]),
        fee=item.get("fee"), cash_after=item.get("cash_after", ZERO), cost_after=item.get("cost_after"))


class DynamoPositionStore:
    """The DynamoDB primitives behind db.positions."""

    def __init__(self, dynamo: Dynamo, table: str, instruments_table: str, splits: DynamoSplits,
                 hot: HotInstruments) -> None:
        self._dynamo, self._table, self._instruments, self._splits = dynamo, table, instruments_table, splits
        self._hot = hot
        self.imports = Importer(dynamo, table, self._checks, self._history_item, splits, instruments_table)

    def _history_item(self, account_id: uuid.UUID, change: Planned, version: int) -> dict[str, Any]:
        at_text = instant_text(change.at)
        return {"PK": keys.account_pk(account_id), "SK": keys.history_sk(change.symbol, at_text, version),
                # LSI1 orders the account's history by time across symbols; the time-ordered id keeps
                # two changes at one instant in the order they were made.
                "LSI1SK": f"{at_text}#{new_id()}",
                "account_id": str(account_id), "symbol": change.symbol, "action": change.action,
                "delta": change.delta, "quantity_after": change.after, "price": change.price, "at": at_text,
                "version": version, "fee": change.fee, "cash_after": change.cash_after, "cost_after": change.cost_after}

    def _checks(self, account_id: uuid.UUID, new_symbols: list[str]) -> list[dict[str, Any]]:
        # A live account (one being deleted takes no more trades), and the instruments of new holdings.
        checks = [keys.live_check(self._table, keys.account_pk(account_id), keys.META)]
        checks += [{"ConditionCheck": {"TableName": self._instruments, "ConditionExpression": "attribute_exists(PK)",
                                       "Key": {"PK": symbol, "SK": keys.INSTRUMENT_META}}} for symbol in new_symbols]
        return checks

    def _current_put(self, account_id: uuid.UUID, change: Planned, version: int, expected: int) -> dict[str, Any]:
        # Conditional on the version read: a concurrent change in between cancels this transaction; so
        # does an import that claimed the holding meanwhile.
        condition = "attribute_not_exists(PK)" if expected == 0 else f"#v = :expected AND attribute_not_exists({MARK})"
        put: dict[str, Any] = {"TableName": self._table, "ConditionExpression": condition,
                               "Item": current_item(account_id, change, version)}
        if expected:
            put["ExpressionAttributeNames"] = {"#v": "version"}
            put["ExpressionAttributeValues"] = {":expected": expected}
        return {"Put": put}

    def _current(self, account_id: uuid.UUID, symbol: str) -> dict[str, Any] | None:
        return self._dynamo.get(self._table, {"PK": keys.account_pk(account_id), "SK": keys.current_sk(symbol)})

    def change(self, account_id: uuid.UUID, symbol: str, mutation: Mutation, at: datetime | None) -> PositionChange:
        """Read CURRENT and the symbol's splits, apply mutation, write CURRENT and HISTORY in one conditional
        transaction."""
        deadline, held_by_import = time.monotonic() + self.imports.wait_for, False
        for attempt in self._dynamo.retry.rounds():
            current = self._current(account_id, symbol)
            held_by_import = marked(current)
            if held_by_import:
                assert current is not None
                # An import holds this position: wait for it, or roll it back if it was abandoned.
                if not self.imports.roll_back_stale(account_id, [current]) and time.monotonic() > deadline:
                    raise ConflictError(f"position {symbol} of account {account_id}: an import holds it")
                self._dynamo.retry.sleep(min(attempt, 6))
                continue
            version, state = committed(current), held_state(current)
            instant = change_instant(symbol, at, state.last, utcnow())
            change = mutation(state, instant, self._splits.splits_now([symbol]).get(symbol, []))
            history = self._history_item(account_id, change, version + 1)
            checks = self._checks(account_id, [symbol] if version == 0 else [])
            try:
                self._dynamo.transact([*checks, self._current_put(account_id, change, version + 1, version),
                                       {"Put": {"TableName": self._table, "Item": history,
                                                "ConditionExpression": "attribute_not_exists(PK)"}}])
            except TransactionCanceledError as exc:
                if exc.codes[0] == "ConditionalCheckFailed":
                    raise NotFoundError("account", str(account_id)) from exc
                if len(checks) == 2 and exc.codes[1] == "ConditionalCheckFailed":
                    raise NotFoundError("instrument", symbol) from exc
                self._dynamo.retry.sleep(min(attempt, 6))  # lost the race for this version: re-read
                continue
            return _change(history)
        if held_by_import:
            raise ConflictError(f"position {symbol} of account {account_id}: an import holds it")
        raise BackendError(f"position {symbol} of account {account_id}: too much contention, gave up")

    def change_many(self, account_id: uuid.UUID, symbols: Sequence[str], plan: Plan) -> int:
        """All or nothing for any size (see imports.py): one transaction when it fits, else claim, write, commit."""
        return self.imports.change_many(account_id, symbols, plan)

    def _current_items(self, account_id: uuid.UUID) -> list[dict[str, Any]]:
        # One Query that reads CURRENT items only: its cost does not grow with the history.
        return list(self._dynamo.query(
            self._table, KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
            ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"}, ConsistentRead=True,
            ExpressionAttributeValues={":pk": keys.account_pk(account_id), ":prefix": "CURRENT#"}))

    def states(self, account_id: uuid.UUID) -> dict[str, HeldState]:
        """Every symbol the account has ever held (a CURRENT item outlives its last sale)."""
        return {item["symbol"]: held_state(item) for item in self._current_items(account_id) if committed(item)}

    def current(self, account_id: uuid.UUID) -> list[tuple[Position, HeldState]]:
        """Holdings with a non-zero quantity, joined with their instrument (one Query, cached instrument items)."""
        items = [item for item in self._current_items(account_id) if committed(item) and item["quantity"] != ZERO]
        if not items:
            return []
        found = self._hot.items([item["symbol"] for item in items])
        return sorted(((Position(
            account_id=account_id, symbol=item["symbol"], quantity=item["quantity"], updated_at=item["updated_at"],
            instrument_name=found[item["symbol"], keys.INSTRUMENT_META]["name"],
            instrument_type=found[item["symbol"], keys.INSTRUMENT_META]["instrument_type"],
            current_price=found.get((item["symbol"], "PRICE"), {}).get("current_price"),
        ), held_state(item)) for item in items), key=lambda pair: pair[0].symbol)

    def _committed_versions(self, account_id: uuid.UUID, symbol: str | None) -> dict[str, int]:
        """Up to which version each symbol's history is committed (records above belong to an import under way)."""
        if symbol is not None:
            item = self._current(account_id, symbol)
            return {} if item is None else {symbol: committed(item)}
        return {item["symbol"]: committed(item) for item in self._current_items(account_id)}

    def history_page(self, account_id: uuid.UUID, symbol: str | None, start: datetime | None,
                     end: datetime | None, after: Bookmark | None, size: int) -> Rows:
        """The audit trail in time order: the HISTORY range of one symbol, or LSI1 for all symbols.

        The committed versions are read with the first page and carried in the bookmark, so every page
        of one listing leaves out the same uncommitted records: a listing never shows part of an import
        (a page may be shorter than size).
        """
        if after is None:
            versions, key = self._committed_versions(account_id, symbol), None
        elif isinstance(after, dict) and isinstance(after.get("versions"), dict) and "key" in after:
            versions, key = after["versions"], after["key"]
        else:
            raise ValidationError("cursor", after, "not a position of this list")
        low = "0" if start is None else instant_text(start)
        high = "9" if end is None else instant_text(end) + keys.HIGH
        if symbol is not None:
            prefix = keys.history_prefix(symbol)
            items, key = query_rows(
                self._dynamo, self._table, lambda item: item, size, key, ConsistentRead=True,
                KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :high",
                ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
                ExpressionAttributeValues={":pk": keys.account_pk(account_id), ":low": prefix + low,
                                           ":high": prefix + high})
        else:
            items, key = query_rows(
                self._dynamo, self._table, lambda item: item, size, key, IndexName="LSI1", ConsistentRead=True,
                KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :high",
                ExpressionAttributeNames={"#pk": "PK", "#sk": "LSI1SK"},
                ExpressionAttributeValues={":pk": keys.account_pk(account_id), ":low": low, ":high": high})
        changes = [_change(item) for item in items if int(item["version"]) <= versions.get(item["symbol"], 0)]
        return changes, None if key is None else {"key": key, "versions": versions}

    def _state_at(self, account_id: uuid.UUID, item: dict[str, Any], at_text: str) -> HeldState | None:
        prefix = keys.history_prefix(item["symbol"])
        query = {"KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :low AND :high",
                 "ExpressionAttributeNames": {"#pk": "PK", "#sk": "SK", "#v": "version", "#at": "at"},
                 "ScanIndexForward": False, "ConsistentRead": True,
                 "ProjectionExpression": "quantity_after, #v, #at, cash_after, cost_after",
                 "ExpressionAttributeValues": {":pk": keys.account_pk(account_id), ":low": prefix,
                                               ":high": prefix + at_text + keys.HIGH}}
        if not marked(item):
            found, _ = self._dynamo.query_page(self._table, 1, None, **query)
            return _state_of(found[0]) if found else None
        # An import under way: its records are the newest of the symbol and stay unseen.
        for record in self._dynamo.query(self._table, **query):
            if int(record["version"]) <= committed(item):
                return _state_of(record)
        return None

    def holdings_at(self, account_id: uuid.UUID, at: datetime) -> dict[str, HeldState]:
        """Every symbol's holding as of at: one Query per symbol (limit 1), run concurrently."""
        items = self._current_items(account_id)
        if not items:
            return {}
        at_text = instant_text(at)
        states = READ_POOL.map(lambda item: self._state_at(account_id, item, at_text), items)
        return {item["symbol"]: state for item, state in zip(items, states, strict=True) if state is not None}

    def transfers(self, account_id: uuid.UUID, start: datetime, end: datetime) -> list[PositionChange]:
        """Changes that moved no cash between start and end (LSI1 range, filtered; never with Limit)."""
        versions = self._committed_versions(account_id, None)
        items = self._dynamo.query(
            self._table, IndexName="LSI1", ConsistentRead=True,
            KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :high",
            FilterExpression="(NOT #a IN (:buy, :sell)) OR attribute_not_exists(#p) OR attribute_type(#p, :null)",
            ExpressionAttributeNames={"#pk": "PK", "#sk": "LSI1SK", "#a": "action", "#p": "price"},
            ExpressionAttributeValues={":pk": keys.account_pk(account_id), ":low": instant_text(start),
                                       ":high": instant_text(end) + keys.HIGH, ":buy": "BUY", ":sell": "SELL",
                                       ":null": "NULL"})
        return [_change(item) for item in items if int(item["version"]) <= versions.get(item["symbol"], 0)]

    def changes_of(self, account_id: uuid.UUID, symbols: Sequence[str] | None) -> ChangeColumns:
        """Every change (of these symbols) by symbol, then time: the account's HISTORY range, whose sort key
        (HISTORY#<symbol>#<instant>#<version>) is that order; one Query of it, or one per symbol read side by
        side. An uncommitted import's records are left out."""
        versions = self._committed_versions(account_id, None)
        prefixes = ["HISTORY#"] if symbols is None else [keys.history_prefix(symbol) for symbol in sorted(symbols)]

        def read(prefix: str) -> list[dict[str, Any]]:
            return list(self._dynamo.query(
                self._table, KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)", ConsistentRead=True,
                ExpressionAttributeNames={"#pk": "PK", "#sk": "SK", "#s": "symbol", "#at": "at",
                                          "#q": "quantity_after", "#v": "version", "#c": "cash_after"},
                ProjectionExpression="#s, #at, #q, #v, #c",
                ExpressionAttributeValues={":pk": keys.account_pk(account_id), ":prefix": prefix}))

        items = [item for found in (READ_POOL.map(read, prefixes) if len(prefixes) > 1 else [read(prefixes[0])])
                 for item in found if int(item["version"]) <= versions.get(item["symbol"], 0)]
        return ([i["symbol"] for i in items], [i["at"] for i in items], [i["quantity_after"] for i in items],
                [i.get("cash_after", ZERO) for i in items])


def _state_of(record: dict[str, Any]) -> HeldState:
    return HeldState(record["quantity_after"], datetime.fromisoformat(record["at"]), record.get("cash_after", ZERO),
                     record.get("cost_after"))
