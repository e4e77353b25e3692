"""Positions on DynamoDB: ACCOUNT#<uuid> / CURRENT#<symbol> and ACCOUNT#<uuid> / HISTORY#<symbol>#<instant>#<version>.

A change writes HISTORY and CURRENT in one TransactWriteItems conditioned on the CURRENT version read,
so two traders of one position can never both succeed from the same state; the loser re-reads and
retries within a bounded budget.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal
from typing import Any

from alexdb.adapters.dynamodb import keys
from alexdb.adapters.dynamodb.client import Dynamo, TransactionCanceledError
from alexdb.adapters.dynamodb.paging import query_rows
from alexdb.domain.errors import BackendError, NotFoundError, ValidationError
from alexdb.domain.ids import new_id
from alexdb.domain.instants import instant_text, utcnow
from alexdb.domain.models import Position, PositionChange
from alexdb.domain.paging import Bookmark
from alexdb.domain.trading import apply_trade
from alexdb.ports import Columns, Mutation, Rows, Trade

ZERO = Decimal(0)
PARALLEL = 16
TRANSACTION_LIMIT = 100


def _change(item: dict[str, Any]) -> PositionChange:
    return PositionChange(
        account_id=item["account_id"], symbol=item["symbol"], action=item["action"], delta=item["delta"],
        quantity_after=item["quantity_after"], at=item["at"], price=item.get("price"), seq=int(item["version"]))


class DynamoPositionStore:
    """The DynamoDB primitives behind db.positions."""

    def __init__(self, dynamo: Dynamo, table: str, instruments_table: str) -> None:
        self._dynamo, self._table, self._instruments = dynamo, table, instruments_table

    def _history_item(self, account_id: uuid.UUID, symbol: str, action: str, delta: Decimal, after: Decimal,
                      at: datetime, price: Decimal | None, version: int) -> dict[str, Any]:
        at_text = instant_text(at)
        return {"PK": keys.account_pk(account_id), "SK": keys.history_sk(symbol, at_text, version),
                # LSI1 orders the account's history by time across symbols; the time-ordered id keeps
                # two changes at one instant in the order they were made.
                "LSI1SK": f"{at_text}#{new_id()}",
                "account_id": str(account_id), "symbol": symbol, "action": action, "delta": delta,
                "quantity_after": after, "price": price, "at": at_text, "version": version}

    def _checks(self, account_id: uuid.UUID, symbol: str | None) -> list[dict[str, Any]]:
        # A live account: one being deleted takes no more trades.
        checks = [keys.live_check(self._table, keys.account_pk(account_id), keys.META)]
        if symbol is not None:
            instrument = {"PK": symbol, "SK": keys.INSTRUMENT_META}
            checks.append({"ConditionCheck": {"TableName": self._instruments, "Key": instrument,
                                              "ConditionExpression": "attribute_exists(PK)"}})
        return checks

    def _current_put(self, account_id: uuid.UUID, symbol: str, quantity: Decimal, version: int,
                     last_change: str, expected: int) -> dict[str, Any]:
        # Conditional on the version read: a concurrent change in between cancels this transaction.
        condition = "attribute_not_exists(PK)" if expected == 0 else "#v = :expected"
        put: dict[str, Any] = {"TableName": self._table, "ConditionExpression": condition, "Item": {
            "PK": keys.account_pk(account_id), "SK": keys.current_sk(symbol), "account_id": str(account_id),
            "symbol": symbol, "quantity": quantity, "version": version, "last_change_at": last_change,
            "updated_at": instant_text(utcnow())}}
        if expected:
            put["ExpressionAttributeNames"] = {"#v": "version"}
            put["ExpressionAttributeValues"] = {":expected": expected}
        return {"Put": put}

    def _current(self, account_id: uuid.UUID, symbol: str) -> dict[str, Any] | None:
        return self._dynamo.get(self._table, {"PK": keys.account_pk(account_id), "SK": keys.current_sk(symbol)})

    def change(self, account_id: uuid.UUID, symbol: str, action: str, mutation: Mutation,
               at: datetime | None, price: Decimal | None) -> PositionChange:
        """Read CURRENT, apply mutation, write CURRENT and HISTORY in one conditional transaction."""
        for attempt in range(self._dynamo.retry.attempts * 4):
            current = self._current(account_id, symbol)
            held = ZERO if current is None else current["quantity"]
            version = 0 if current is None else int(current["version"])
            last = None if current is None else datetime.fromisoformat(current["last_change_at"])
            instant = at if at is not None else max(utcnow(), last) if last else utcnow()
            if last is not None and instant < last:
                raise ValidationError("at", instant.isoformat(), f"before the last change of {symbol} "
                                      f"({last.isoformat()}); history is recorded in time order")
            delta, after = mutation(held)
            history = self._history_item(account_id, symbol, action, delta, after, instant, price, version + 1)
            checks = self._checks(account_id, symbol if version == 0 else None)
            try:
                self._dynamo.transact([*checks, self._current_put(
                    account_id, symbol, after, version + 1, instant_text(instant), version),
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
        raise BackendError(f"position {symbol} of account {account_id}: too much contention, gave up")

    def change_many(self, account_id: uuid.UUID, trades: Sequence[Trade]) -> int:
        """Apply trades in order. Up to 100 items this is one transaction; a larger import first commits
        the final holdings (claiming the history versions), then writes the history in retried batches."""
        symbols = sorted({trade[0] for trade in trades})
        for attempt in range(self._dynamo.retry.attempts):
            current = {item["symbol"]: item for item in self._current_items(account_id)}
            held = {s: current[s]["quantity"] if s in current else ZERO for s in symbols}
            version = {s: int(current[s]["version"]) if s in current else 0 for s in symbols}
            last = {s: current[s]["last_change_at"] for s in symbols if s in current}
            start = dict(version)
            history = []
            for symbol, action, quantity, at, price in trades:
                at_text = instant_text(at)
                if symbol in last and at_text < last[symbol]:
                    raise ValidationError("at", at.isoformat(), f"before the last change of {symbol}; "
                                          "history is recorded in time order")
                delta, after = apply_trade(symbol, held[symbol], action, quantity)
                held[symbol], last[symbol] = after, at_text
                version[symbol] += 1
                history.append(self._history_item(account_id, symbol, action, delta, after, at, price, version[symbol]))
            checks = self._checks(account_id, None)
            new_symbols = [s for s in symbols if start[s] == 0]
            checks += [c for s in new_symbols for c in self._checks(account_id, s)[1:]]
            puts = [self._current_put(account_id, s, held[s], version[s], last[s], start[s]) for s in symbols]
            small = len(checks) + len(puts) + len(history) <= TRANSACTION_LIMIT
            writes = [{"Put": {"TableName": self._table, "Item": h}} for h in history] if small else []
            actions = [*checks, *puts, *writes]
            if len(actions) > TRANSACTION_LIMIT:
                raise ValidationError("trades", len(symbols), "more than 90 symbols in one import")
            try:
                self._dynamo.transact(actions)
            except TransactionCanceledError as exc:
                failed = [i for i, code in enumerate(exc.codes) if code == "ConditionalCheckFailed"]
                if failed and failed[0] < len(checks):
                    if failed[0] == 0:
                        raise NotFoundError("account", str(account_id)) from exc
                    raise NotFoundError("instrument", new_symbols[failed[0] - 1]) from exc
                self._dynamo.retry.sleep(attempt)
                continue
            if not small:
                self._dynamo.batch_write(self._table, puts=history)
            return len(history)
        raise BackendError(f"account {account_id}: too much contention importing trades, gave up")

    def _current_items(self, account_id: uuid.UUID) -> list[dict[str, Any]]:
        # One Query that reads CURRENT items only: its cost does not grow with the history.
        return list(self._dynamo.query(
            self._table, KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
            ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"}, ConsistentRead=True,
            ExpressionAttributeValues={":pk": keys.account_pk(account_id), ":prefix": "CURRENT#"}))

    def symbols(self, account_id: uuid.UUID) -> list[str]:
        """Every symbol the account has ever held (a CURRENT item outlives its last sale)."""
        return sorted(item["symbol"] for item in self._current_items(account_id))

    def current(self, account_id: uuid.UUID) -> list[Position]:
        """Holdings with a non-zero quantity, joined with their instrument (one Query, one BatchGetItem)."""
        items = [item for item in self._current_items(account_id) if item["quantity"] != ZERO]
        if not items:
            return []
        wanted = [{"PK": item["symbol"], "SK": sk} for item in items for sk in (keys.INSTRUMENT_META, "PRICE")]
        found = {(i["PK"], i["SK"]): i for i in self._dynamo.batch_get(self._instruments, wanted)}
        return sorted((Position(
            account_id=account_id, symbol=item["symbol"], quantity=item["quantity"], updated_at=item["updated_at"],
            instrument_name=found[item["symbol"], keys.INSTRUMENT_META]["name"],
            instrument_type=found[item["symbol"], keys.INSTRUMENT_META]["instrument_type"],
            current_price=found.get((item["symbol"], "PRICE"), {}).get("current_price"),
        ) for item in items), key=lambda p: p.symbol)

    def history_page(self, account_id: uuid.UUID, symbol: str | None, start: datetime | None,
                     end: datetime | None, after: Bookmark | None, size: int) -> Rows:
        """The audit trail in time order: the HISTORY range of one symbol, or LSI1 for all symbols."""
        low = "0" if start is None else instant_text(start)
        high = "9" if end is None else instant_text(end) + keys.HIGH
        if symbol is not None:
            prefix = keys.history_prefix(symbol)
            return query_rows(self._dynamo, self._table, _change, size, after, ConsistentRead=True,
                              KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :high",
                              ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
                              ExpressionAttributeValues={":pk": keys.account_pk(account_id),
                                                         ":low": prefix + low, ":high": prefix + high})
        return query_rows(self._dynamo, self._table, _change, size, after, IndexName="LSI1", ConsistentRead=True,
                          KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :high",
                          ExpressionAttributeNames={"#pk": "PK", "#sk": "LSI1SK"},
                          ExpressionAttributeValues={":pk": keys.account_pk(account_id), ":low": low, ":high": high})

    def _quantity_at(self, account_id: uuid.UUID, symbol: str, at_text: str) -> Decimal:
        prefix = keys.history_prefix(symbol)
        items, _ = self._dynamo.query_page(
            self._table, 1, None, KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :high",
            ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"}, ScanIndexForward=False, ConsistentRead=True,
            ProjectionExpression="quantity_after",
            ExpressionAttributeValues={":pk": keys.account_pk(account_id), ":low": prefix,
                                       ":high": prefix + at_text + keys.HIGH})
        return items[0]["quantity_after"] if items else ZERO

    def holdings_at(self, account_id: uuid.UUID, at: datetime) -> dict[str, Decimal]:
        """Quantity of every symbol ever held as of at: one Query per symbol (limit 1), run concurrently."""
        symbols = self.symbols(account_id)
        if not symbols:
            return {}
        at_text = instant_text(at)
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(symbols))) as pool:
            quantities = pool.map(lambda symbol: self._quantity_at(account_id, symbol, at_text), symbols)
            return {symbol: quantity for symbol, quantity in zip(symbols, quantities, strict=True) if quantity}

    def changes_until(self, account_id: uuid.UUID, end: datetime) -> Columns:
        """Every change up to end in time order (LSI1), as columns."""
        items = list(self._dynamo.query(
            self._table, IndexName="LSI1", KeyConditionExpression="#pk = :pk AND #sk <= :high",
            ExpressionAttributeNames={"#pk": "PK", "#sk": "LSI1SK", "#s": "symbol", "#q": "quantity_after"},
            ProjectionExpression="#s, #sk, #q", ConsistentRead=True,
            ExpressionAttributeValues={":pk": keys.account_pk(account_id), ":high": instant_text(end) + keys.HIGH}))
        return ([i["symbol"] for i in items], [i["LSI1SK"][:27] for i in items], [i["quantity_after"] for i in items])
