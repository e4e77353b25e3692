"""A thin layer over the boto3 DynamoDB client: typed items, full pagination, one bounded retry policy,
errors translated at this edge, and consumed capacity metered per operation."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from alexdb.domain.errors import BackendError, SchemaError, ValidationError

RETRYABLE = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
             "InternalServerError", "ServiceUnavailable", "TransactionInProgressException"}
_serialize = TypeSerializer().serialize
_deserialize = TypeDeserializer().deserialize


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """A Python dict (Decimal numbers, no None) as a DynamoDB item."""
    return {name: _serialize(value) for name, value in values.items() if value is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as a Python dict (numbers come back as Decimal)."""
    return {name: _deserialize(value) for name, value in item.items()}


# Reads made side by side (a Query per symbol, the second request of a checkpoint read) share one pool per
# process: starting threads per call cost as much as the reads, and its tasks never wait on it, so any
# number of callers share it without deadlock.
READ_POOL = ThreadPoolExecutor(max_workers=16, thread_name_prefix="alexdb-dynamodb-reads")
READS = frozenset({"GetItem", "Query", "BatchGetItem", "Scan", "TransactGetItems"})


def _units(entry: dict[str, Any], reading: bool) -> tuple[float, float]:
    """(read, write) units of one ConsumedCapacity entry (or one of its Table / index parts)."""
    read, write = float(entry.get("ReadCapacityUnits", 0)), float(entry.get("WriteCapacityUnits", 0))
    if read or write:
        return read, write
    units = float(entry.get("CapacityUnits", 0))
    return (units, 0.0) if reading else (0.0, units)


@dataclass
class Meter:
    """Requests and consumed capacity units, per operation name, and per table and index ("table/index")."""

    requests: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    read_units: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    write_units: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    by_resource: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0.0, 0.0]))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, operation: str, consumed: Any) -> None:
        """Add one request and its ConsumedCapacity (a dict or a list of them, with index parts or not)."""
        entries = consumed if isinstance(consumed, list) else [consumed] if consumed else []
        reading = operation in READS
        with self._lock:
            self.requests[operation] += 1
            for entry in entries:
                read, write = _units(entry, reading)
                self.read_units[operation] += read
                self.write_units[operation] += write
                table = entry.get("TableName", "?")
                parts = [(table, entry["Table"])] if "Table" in entry else [(table, entry)]
                for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
                    parts += [(f"{table}/{name}", units) for name, units in entry.get(kind, {}).items()]
                for resource, units in parts:
                    part_read, part_write = _units(units, reading)
                    self.by_resource[resource][0] += part_read
                    self.by_resource[resource][1] += part_write

    def reset(self) -> None:
        """Forget everything recorded."""
        with self._lock:
            self.requests.clear()
            self.read_units.clear()
            self.write_units.clear()
            self.by_resource.clear()


class TransactionCanceledError(Exception):
    """A transaction refused by a condition; codes[i] is the reason of the i-th action ("None" if it passed)."""

    def __init__(self, codes: list[str]) -> None:
        self.codes = codes
        super().__init__(", ".join(codes))


class ConditionFailedError(Exception):
    """A single-item write whose condition did not hold."""


@dataclass(frozen=True)
class RetryPolicy:
    """The one retry policy of alexdb on DynamoDB: how many attempts, and how long, any one call may take.

    Throttling and server errors are retried by botocore itself (standard mode, `attempts` in all, see
    botocore_config); alexdb adds no loop of its own on top. What botocore does not retry, alexdb
    retries under the same bounds: transactions cancelled by a conflict with another transaction, and
    batch items DynamoDB left unprocessed.
    """

    attempts: int = 5
    base_delay: float = 0.02
    max_delay: float = 1.0
    budget_s: float = 20.0  # no call retries past this many seconds
    races: int = 64  # how often a conditional write that lost a race to another writer is read and tried again
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 10.0

    def botocore_config(self, **options: Any) -> Any:
        """The botocore client configuration that applies this policy to every request."""
        from botocore.config import Config

        return Config(retries={"mode": "standard", "total_max_attempts": self.attempts},
                      connect_timeout=self.connect_timeout_s, read_timeout=self.read_timeout_s, **options)

    def sleep(self, attempt: int) -> None:
        """Exponential backoff with full jitter."""
        time.sleep(random.uniform(0, min(self.max_delay, self.base_delay * 2 ** attempt)))

    def tries(self) -> Iterator[int]:
        """Attempt numbers 0, 1, ... while within both the attempts and the time budget."""
        return self._within(self.attempts)

    def rounds(self) -> Iterator[int]:
        """Rounds of read-and-write-if-unchanged (optimistic concurrency), within races and the time budget."""
        return self._within(self.races)

    def _within(self, count: int) -> Iterator[int]:
        deadline = time.monotonic() + self.budget_s
        for attempt in range(count):
            if attempt and time.monotonic() >= deadline:
                return
            yield attempt


class Dynamo:
    """DynamoDB calls as alexdb needs them."""

    def __init__(self, client: Any, retry: RetryPolicy | None = None, meter: Meter | None = None) -> None:
        self.client = client
        self.retry = retry or RetryPolicy()
        self.meter = meter or Meter()

    def call(self, operation: str, **request: Any) -> dict[str, Any]:
        """One request (botocore retries throttling and server errors under the policy); failures translated."""
        method = getattr(self.client, _snake(operation))
        try:
            # INDEXES: the units come back per table and per index, which the capacity model is built from.
            response: dict[str, Any] = method(ReturnConsumedCapacity="INDEXES", **request)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in RETRYABLE:
                attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) + 1
                raise BackendError(f"DynamoDB {operation}: still throttled after {attempts} attempts ({code})") from exc
            raise _translate(operation, exc) from exc
        except BotoCoreError as exc:
            raise BackendError(f"DynamoDB {operation} failed: {exc}") from exc
        self.meter.record(operation, response.get("ConsumedCapacity"))
        return response

    def describe(self, table: str) -> dict[str, Any] | None:
        """DescribeTable's Table, or None when the table does not exist."""
        try:
            return self.client.describe_table(TableName=table)["Table"]  # type: ignore[no-any-return]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise _translate("DescribeTable", exc) from exc
        except BotoCoreError as exc:
            raise BackendError(f"DynamoDB DescribeTable failed: {exc}") from exc

    def get(self, table: str, key: dict[str, str]) -> dict[str, Any] | None:
        """One item by key, strongly consistent."""
        item = self.call("GetItem", TableName=table, Key=to_item(key), ConsistentRead=True).get("Item")
        return None if item is None else from_item(item)

    def put(self, table: str, item: dict[str, Any], condition: str | None = None,
            names: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> None:
        """Put an item; ConditionFailedError if condition does not hold."""
        request: dict[str, Any] = {"TableName": table, "Item": to_item(item)}
        _add_condition(request, condition, names, values)
        self.call("PutItem", **request)

    def update(self, table: str, key: dict[str, str], expression: str, names: dict[str, str],
               values: dict[str, Any], condition: str | None = None) -> dict[str, Any]:
        """Update an item, returning its new image; ConditionFailedError if condition does not hold."""
        request: dict[str, Any] = {"TableName": table, "Key": to_item(key), "UpdateExpression": expression,
                                   "ReturnValues": "ALL_NEW"}
        _add_condition(request, condition, names, values)
        return from_item(self.call("UpdateItem", **request)["Attributes"])

    def put_if(self, table: str, item: dict[str, Any], condition: str, names: dict[str, str] | None = None,
               values: dict[str, Any] | None = None) -> bool:
        """Put an item if condition holds; False (nothing written) when it does not."""
        try:
            self.put(table, item, condition, names, values)
        except ConditionFailedError:
            return False
        return True

    def update_if(self, table: str, key: dict[str, str], expression: str, names: dict[str, str],
                  values: dict[str, Any], condition: str) -> dict[str, Any] | None:
        """Update an item if condition holds: its new image, or None (nothing written) when it does not."""
        try:
            return self.update(table, key, expression, names, values, condition)
        except ConditionFailedError:
            return None

    def transact_if(self, actions: Sequence[dict[str, Any]]) -> bool:
        """transact; False (nothing written) when a condition refused it."""
        try:
            self.transact(actions)
        except TransactionCanceledError:
            return False
        return True

    def query_page(self, table: str, limit: int | None, start: dict[str, Any] | None,
                   **request: Any) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of a Query: items and the LastEvaluatedKey (None at the end)."""
        request = {"TableName": table, **request}
        if limit is not None:
            request["Limit"] = limit
        if start:
            request["ExclusiveStartKey"] = to_item(start)
        _serialize_values(request)
        response = self.call("Query", **request)
        last = response.get("LastEvaluatedKey")
        return [from_item(i) for i in response.get("Items", [])], None if last is None else from_item(last)

    def query(self, table: str, **request: Any) -> Iterator[dict[str, Any]]:
        """Every item a Query matches, following LastEvaluatedKey past each 1 MB page."""
        start: dict[str, Any] | None = None
        while True:
            items, start = self.query_page(table, None, start, **request)
            yield from items
            if start is None:
                return

    def scan(self, table: str, **request: Any) -> Iterator[dict[str, Any]]:
        """Every item of a table (administration only: never on a request path)."""
        start = None
        while True:
            page = {"TableName": table, **request}
            if start:
                page["ExclusiveStartKey"] = start
            response = self.call("Scan", **page)
            yield from (from_item(i) for i in response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if start is None:
                return

    def count(self, table: str) -> int:
        """How many items a table holds, by a counting Scan (administration only: never on a request path)."""
        total, start = 0, None
        while True:
            page = self.call("Scan", TableName=table, Select="COUNT", **({"ExclusiveStartKey": start} if start else {}))
            total += int(page["Count"])
            start = page.get("LastEvaluatedKey")
            if start is None:
                return total

    def transact(self, actions: Sequence[dict[str, Any]]) -> None:
        """TransactWriteItems (items given as Python dicts), retried on conflicts within the budget.

        TransactionCanceledError carries each action's reason when a condition refused the transaction.
        """
        request = [_serialize_action(action) for action in actions]
        codes: list[str] = []
        for attempt in self.retry.tries():
            if attempt:
                self.retry.sleep(attempt)  # a conflict with another transaction: try again
            try:
                self.call("TransactWriteItems", TransactItems=request)
                return
            except _CanceledError as exc:
                codes = exc.codes
                if "ConditionalCheckFailed" in codes:
                    raise TransactionCanceledError(codes) from exc
        raise TransactionCanceledError(codes)

    def batch_write(self, table: str, puts: Sequence[dict[str, Any]] = (),
                    deletes: Sequence[dict[str, str]] = ()) -> None:
        """BatchWriteItem in chunks of 25, resending UnprocessedItems with backoff; raises with what failed."""
        requests = [{"PutRequest": {"Item": to_item(p)}} for p in puts]
        requests += [{"DeleteRequest": {"Key": to_item(k)}} for k in deletes]
        for offset in range(0, len(requests), 25):
            pending = requests[offset:offset + 25]
            for attempt in self.retry.tries():
                if attempt:
                    self.retry.sleep(attempt)
                response = self.call("BatchWriteItem", RequestItems={table: pending})
                pending = response.get("UnprocessedItems", {}).get(table, [])
                if not pending:
                    break
            if pending:
                raise BackendError(f"BatchWriteItem left {len(pending)} items unprocessed: {pending}")

    def batch_get(self, table: str, keys: Sequence[dict[str, str]], consistent: bool = True,
                  projection: str | None = None) -> list[dict[str, Any]]:
        """BatchGetItem in chunks of 100, resending UnprocessedKeys with backoff; raises with what failed."""
        found: list[dict[str, Any]] = []
        for offset in range(0, len(keys), 100):
            pending: dict[str, Any] = {"Keys": [to_item(k) for k in keys[offset:offset + 100]],
                                       "ConsistentRead": consistent}
            if projection is not None:
                pending["ProjectionExpression"] = projection
            for attempt in self.retry.tries():
                if attempt:
                    self.retry.sleep(attempt)
                response = self.call("BatchGetItem", RequestItems={table: pending})
                found += [from_item(i) for i in response.get("Responses", {}).get(table, [])]
                pending = response.get("UnprocessedKeys", {}).get(table, {})
                if not pending:
                    break
            if pending:
                raise BackendError(f"BatchGetItem left keys unprocessed: {pending.get('Keys')}")
        return found


class _CanceledError(Exception):
    def __init__(self, codes: list[str]) -> None:
        self.codes = codes


def _snake(operation: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")


def _add_condition(request: dict[str, Any], condition: str | None, names: dict[str, str] | None,
                   values: dict[str, Any] | None) -> None:
    if condition:
        request["ConditionExpression"] = condition
    if names:
        request["ExpressionAttributeNames"] = names
    if values:
        request["ExpressionAttributeValues"] = to_item(values)


def _serialize_values(request: dict[str, Any]) -> None:
    if "ExpressionAttributeValues" in request:
        request["ExpressionAttributeValues"] = to_item(request["ExpressionAttributeValues"])


def _serialize_action(action: dict[str, Any]) -> dict[str, Any]:
    (kind, body), = action.items()
    body = dict(body)
    if "Item" in body:
        body["Item"] = to_item(body["Item"])
    if "Key" in body:
        body["Key"] = to_item(body["Key"])
    _serialize_values(body)
    return {kind: body}


def _translate(operation: str, exc: ClientError) -> Exception:
    error = exc.response.get("Error", {})
    code, message = error.get("Code", ""), error.get("Message", "")
    if code == "ConditionalCheckFailedException":
        return ConditionFailedError(message)
    if code == "TransactionCanceledException":
        reasons = exc.response.get("CancellationReasons") or []
        return _CanceledError([reason.get("Code", "None") for reason in reasons])
    if code == "ResourceNotFoundException":
        return SchemaError(f"DynamoDB {operation}: {message}: run `alexdb dynamodb create-tables` "
                           "(or connect with migrate=True)")
    if code == "ValidationException" and "size" in message.lower():
        return ValidationError("item", operation, f"too large for one DynamoDB item: {message}")
    return BackendError(f"DynamoDB {operation} failed: {code}: {message}")
