"""The cash ledger and splits on DynamoDB.

Cash: ACCOUNT#<uuid> / CASH (the head: last seq, balance and instant) and ACCOUNT#<uuid> /
CASH#<instant>#<seq> (one item per movement, with the balance it left). A movement is one transaction:
the head, updated only if its seq is still the one read (so two writers never append from one balance),
the new item, and the live-account check. Movements are appended in time order, so the key order is both
time and seq order, and "balance at an instant" is one Query of one item (newest first, Limit 1).

Splits: <symbol> / SPLITS in the instruments table, one item holding the symbol's few splits (read for
many symbols in one BatchGetItem). A split is refused while some account has a change of the symbol at or
after it: the check reads HoldersIndex, CURRENT items keyed by symbol and last change, which is
eventually consistent: a trade committed in the same second as the split may not be seen yet.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from alexdb.adapters.dynamodb import keys
from alexdb.adapters.dynamodb.client import Dynamo, TransactionCanceledError
from alexdb.adapters.dynamodb.hot import HotInstruments
from alexdb.adapters.dynamodb.paging import query_rows
from alexdb.domain.errors import BackendError, ConflictError, NotFoundError
from alexdb.domain.instants import instant_text, utcnow
from alexdb.domain.ledger import CashMovement, CashPlan, PlannedCash, Split
from alexdb.domain.paging import Bookmark
from alexdb.ports import Rows

ZERO = Decimal(0)
CASH_HEAD = "CASH"
SPLITS = keys.INSTRUMENT_SPLITS


def cash_sk(at_text: str, seq: int) -> str:
    """One movement of an account's ledger."""
    return f"CASH#{at_text}#{seq:012d}"


def _movement(item: dict[str, Any]) -> CashMovement:
    return CashMovement(account_id=item["account_id"], seq=int(item["seq"]), kind=item["kind"], amount=item["amount"],
                        balance_after=item["balance_after"], at=item["at"], symbol=item.get("symbol"),
                        note=item.get("note"))


def movement_actions(table: str, account_id: uuid.UUID | str, planned: PlannedCash, seq: int) -> list[dict[str, Any]]:
    """The head and the movement item of one append, conditioned on the head's seq being seq - 1."""
    pk, at_text = keys.account_pk(account_id), instant_text(planned.at)
    head: dict[str, Any] = {"PK": pk, "SK": CASH_HEAD, "seq": seq, "balance": planned.balance_after, "at": at_text}
    condition = "attribute_not_exists(PK)" if seq == 1 else "#s = :read"
    put: dict[str, Any] = {"TableName": table, "Item": head, "ConditionExpression": condition}
    if seq > 1:
        put |= {"ExpressionAttributeNames": {"#s": "seq"}, "ExpressionAttributeValues": {":read": seq - 1}}
    item = {"PK": pk, "SK": cash_sk(at_text, seq), "account_id": str(account_id), "seq": seq, "kind": planned.kind,
            "amount": planned.amount, "balance_after": planned.balance_after, "at": at_text,
            "symbol": planned.symbol, "note": planned.note}
    new = {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}
    return [{"Put": put}, {"Put": new}]


class DynamoCash:
    """CashRecords on DynamoDB."""

    def __init__(self, dynamo: Dynamo, table: str) -> None:
        self._dynamo, self._table = dynamo, table

    def append_cash(self, account_id: uuid.UUID, plan: CashPlan) -> CashMovement | None:
        """Read the head, plan, write head and movement conditioned on the head unchanged; retry a lost race."""
        pk = keys.account_pk(account_id)
        for attempt in self._dynamo.retry.rounds():
            head = self._dynamo.get(self._table, {"PK": pk, "SK": CASH_HEAD})
            seq = 1 if head is None else int(head["seq"]) + 1
            last = None if head is None else datetime.fromisoformat(head["at"])
            planned = plan(ZERO if head is None else head["balance"], last, utcnow())
            actions = [keys.live_check(self._table, pk, keys.META),
                       *movement_actions(self._table, account_id, planned, seq)]
            try:
                self._dynamo.transact(actions)
            except TransactionCanceledError as exc:
                if exc.codes[0] == "ConditionalCheckFailed":
                    return None
                self._dynamo.retry.sleep(min(attempt, 6))  # another movement won this seq: read again
                continue
            return CashMovement(account_id=account_id, seq=seq, **planned._asdict())
        raise BackendError(f"cash of account {account_id}: too much contention, gave up")

    def cash_page(self, account_id: uuid.UUID, start: datetime | None, end: datetime | None,
                  after: Bookmark | None, size: int) -> Rows:
        """Movements in time order between start and end (one key range)."""
        low = "CASH#" + ("" if start is None else instant_text(start))
        high = "CASH#" + ("9" if end is None else instant_text(end) + keys.HIGH)
        return query_rows(self._dynamo, self._table, _movement, size, after, ConsistentRead=True,
                          KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :high",
                          ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
                          ExpressionAttributeValues={":pk": keys.account_pk(account_id), ":low": low, ":high": high})

    def cash_balance_at(self, account_id: uuid.UUID, at: datetime) -> Decimal:
        """The newest movement at or before at: a Query of one item."""
        items, _ = self._dynamo.query_page(
            self._table, 1, None, KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :high",
            ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"}, ScanIndexForward=False, ConsistentRead=True,
            ProjectionExpression="balance_after",
            ExpressionAttributeValues={":pk": keys.account_pk(account_id), ":low": "CASH#",
                                       ":high": "CASH#" + instant_text(at) + keys.HIGH})
        return items[0]["balance_after"] if items else ZERO


def _split(symbol: str, entry: dict[str, Any]) -> Split:
    return Split(symbol=symbol, at=entry["at"], numerator=entry["numerator"], denominator=entry["denominator"],
                 name=entry.get("name"))


class DynamoSplits:
    """SplitRecords on DynamoDB."""

    def __init__(self, dynamo: Dynamo, instruments_table: str, users_table: str, hot: HotInstruments) -> None:
        self._dynamo, self._instruments, self._users, self._hot = dynamo, instruments_table, users_table, hot

    def insert_split(self, split: Split) -> tuple[uuid.UUID, datetime] | None:
        """Check the holders index, then add the split to the symbol's SPLITS item (conditioned on its version)."""
        later, _ = self._dynamo.query_page(
            self._users, 1, None, IndexName="HoldersIndex",
            KeyConditionExpression="#pk = :pk AND #sk >= :at",
            ExpressionAttributeNames={"#pk": "GSI3PK", "#sk": "GSI3SK"},
            ExpressionAttributeValues={":pk": keys.holders_pk(split.symbol), ":at": instant_text(split.at)})
        if later:
            return uuid.UUID(later[0]["account_id"]), datetime.fromisoformat(later[0]["GSI3SK"])
        entry = {"at": instant_text(split.at), "numerator": split.numerator, "denominator": split.denominator,
                 "name": split.name}
        entry = {name: value for name, value in entry.items() if value is not None}
        for attempt in self._dynamo.retry.rounds():
            current = self._dynamo.get(self._instruments, {"PK": split.symbol, "SK": SPLITS})
            version = 0 if current is None else int(current["version"])
            known = [] if current is None else current["splits"]
            if any(e["at"] == entry["at"] for e in known):  # as the (symbol, at) key refuses it on SQL
                raise ConflictError(f"{split.symbol} already has a split at {split.at.isoformat()}")
            entries = sorted([*known, entry], key=lambda e: e["at"])
            actions: list[dict[str, Any]] = [
                {"ConditionCheck": {"TableName": self._instruments, "ConditionExpression": "attribute_exists(PK)",
                                    "Key": {"PK": split.symbol, "SK": keys.INSTRUMENT_META}}},
                {"Put": {"TableName": self._instruments,
                         "Item": {"PK": split.symbol, "SK": SPLITS, "splits": entries, "version": version + 1},
                         "ConditionExpression": "attribute_not_exists(PK)" if not version else "#v = :v",
                         **({"ExpressionAttributeNames": {"#v": "version"},
                             "ExpressionAttributeValues": {":v": version}} if version else {})}}]
            try:
                self._dynamo.transact(actions)
                self._hot.forget([split.symbol])
            except TransactionCanceledError as exc:
                if exc.codes[0] == "ConditionalCheckFailed":
                    raise NotFoundError("instrument", split.symbol) from exc
                self._dynamo.retry.sleep(min(attempt, 6))
                continue
            return None
        raise BackendError(f"splits of {split.symbol}: too much contention, gave up")

    def splits_of(self, symbols: Sequence[str]) -> dict[str, list[Split]]:
        """Each symbol's splits for a view, oldest first, from the hot-item cache (hot.py: its bound)."""
        found = self._hot.items(symbols, (SPLITS,)).values()
        return {item["PK"]: [_split(item["PK"], entry) for entry in item["splits"]] for item in found}

    def splits_now(self, symbols: Sequence[str]) -> dict[str, list[Split]]:
        """Each symbol's splits as stored now, for a trade: one strongly consistent BatchGetItem per 100."""
        found = self._dynamo.batch_get(self._instruments, [{"PK": symbol, "SK": SPLITS} for symbol in symbols])
        return {item["PK"]: [_split(item["PK"], entry) for entry in item["splits"]] for item in found}
