"""Faults AWS produces and DynamoDB Local does not: injected with botocore's Stubber on a real client."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from alexdb.adapters.dynamodb.client import Dynamo, RetryPolicy, TransactionCanceledError, to_item
from alexdb.adapters.dynamodb.config import DynamoConfig
from alexdb.domain.errors import BackendError, SchemaError

FAST = RetryPolicy(attempts=4, base_delay=0.0, max_delay=0.0)


@pytest.fixture
def stubbed() -> Iterator[Any]:
    client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield Dynamo(client, FAST), stubber
        stubber.assert_no_pending_responses()


def _put(n: int) -> dict[str, Any]:
    return {"PutRequest": {"Item": to_item({"PK": f"P{n}", "SK": "S"})}}


def test_unprocessed_items_are_resent_until_written(stubbed: Any) -> None:
    dynamo, stub = stubbed
    items = [{"PK": f"P{n}", "SK": "S"} for n in range(3)]
    stub.add_response("batch_write_item", {"UnprocessedItems": {"t": [_put(1), _put(2)]}},
                      {"RequestItems": {"t": [_put(0), _put(1), _put(2)]}, "ReturnConsumedCapacity": "INDEXES"})
    stub.add_response("batch_write_item", {"UnprocessedItems": {"t": [_put(2)]}},
                      {"RequestItems": {"t": [_put(1), _put(2)]}, "ReturnConsumedCapacity": "INDEXES"})
    stub.add_response("batch_write_item", {"UnprocessedItems": {}},
                      {"RequestItems": {"t": [_put(2)]}, "ReturnConsumedCapacity": "INDEXES"})
    dynamo.batch_write("t", puts=items)
    assert dynamo.meter.requests["BatchWriteItem"] == 3


def test_items_still_unprocessed_after_the_budget_are_reported(stubbed: Any) -> None:
    dynamo, stub = stubbed
    for _ in range(FAST.attempts):
        stub.add_response("batch_write_item", {"UnprocessedItems": {"t": [_put(7)]}})
    with pytest.raises(BackendError, match="unprocessed") as info:
        dynamo.batch_write("t", puts=[{"PK": "P7", "SK": "S"}])
    assert "P7" in str(info.value)


def test_unprocessed_keys_are_resent(stubbed: Any) -> None:
    dynamo, stub = stubbed
    key = {"PK": {"S": "A"}, "SK": {"S": "M"}}
    stub.add_response("batch_get_item", {"Responses": {"t": []},
                                         "UnprocessedKeys": {"t": {"Keys": [key], "ConsistentRead": True}}})
    stub.add_response("batch_get_item", {"Responses": {"t": [{"PK": {"S": "A"}, "SK": {"S": "M"}, "v": {"N": "1.10"}}]}})
    found = dynamo.batch_get("t", [{"PK": "A", "SK": "M"}])
    assert found == [{"PK": "A", "SK": "M", "v": __import__("decimal").Decimal("1.10")}]


def test_throttling_left_unresolved_by_botocore_is_reported_without_more_attempts(stubbed: Any) -> None:
    dynamo, stub = stubbed
    stub.add_client_error("get_item", "ThrottlingException")  # the Stubber answers once: no loop of alexdb's own
    with pytest.raises(BackendError, match="throttled"):
        dynamo.get("t", {"PK": "A", "SK": "M"})


class _Throttling(BaseHTTPRequestHandler):
    """A DynamoDB endpoint that throttles every request, counting them."""

    requests = 0

    def do_POST(self) -> None:
        type(self).requests += 1
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                           "message": "slow down"}).encode()
        self.send_response(400)
        self.send_header("content-type", "application/x-amz-json-1.0")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_one_throttled_call_makes_exactly_the_policys_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Throttling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        policy = RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0)
        config = DynamoConfig("u", "i", "us-east-1", f"http://127.0.0.1:{server.server_port}")
        client = config.client(policy)
        dynamo = Dynamo(client, policy)
        with pytest.raises(BackendError, match="throttled after 3 attempts"):
            dynamo.get("t", {"PK": "A", "SK": "M"})
        assert _Throttling.requests == 3  # botocore's retries only: not 3 x alexdb's own loop
    finally:
        server.shutdown()


def test_transaction_conflicts_are_retried_and_conditions_are_not(stubbed: Any) -> None:
    dynamo, stub = stubbed
    action = {"Put": {"TableName": "t", "Item": {"PK": "A", "SK": "B"}}}
    stub.add_client_error("transact_write_items", "TransactionCanceledException",
                          response_meta={}, modeled_fields={"CancellationReasons": [{"Code": "TransactionConflict"}]})
    stub.add_response("transact_write_items", {})
    dynamo.transact([action])
    stub.add_client_error("transact_write_items", "TransactionCanceledException",
                          modeled_fields={"CancellationReasons": [{"Code": "ConditionalCheckFailed"}]})
    with pytest.raises(TransactionCanceledError) as info:
        dynamo.transact([action])
    assert info.value.codes == ["ConditionalCheckFailed"]


def test_other_errors_are_translated_with_their_cause(stubbed: Any) -> None:
    dynamo, stub = stubbed
    stub.add_client_error("get_item", "InternalFailure", "something broke")
    with pytest.raises(BackendError, match="InternalFailure") as info:
        dynamo.get("t", {"PK": "A", "SK": "M"})
    assert info.value.__cause__ is not None


def test_a_missing_table_is_a_schema_error_naming_the_fix(stubbed: Any) -> None:
    dynamo, stub = stubbed
    stub.add_client_error("get_item", "ResourceNotFoundException", "Requested resource not found")
    with pytest.raises(SchemaError, match="alexdb dynamodb create-tables"):
        dynamo.get("t", {"PK": "A", "SK": "M"})


def _pending(n: int) -> Any:
    import uuid
    from datetime import UTC, datetime
    from decimal import Decimal

    from alexdb.domain.alerts import Trigger
    from alexdb.domain.speed_state import crossing_id, pending

    alert_id = uuid.UUID(int=n + 1)
    trigger = Trigger(alert_id, "amy", "SPY", Decimal(2), Decimal(1), "close", "websocket", 1_800_000_000_000 + n)
    return pending(trigger, crossing_id(alert_id, "tick", trigger.timestamp), 0, datetime.now(UTC))


def test_a_refused_notification_is_left_out_and_the_rest_recorded(stubbed: Any) -> None:
    from alexdb.adapters.dynamodb.deliveries import DynamoRecorder

    dynamo, stub = stubbed
    recorder = DynamoRecorder(dynamo, "alerts", "history")
    first, second = _pending(0), _pending(1)
    # The first alert is gone (its update's condition fails); the second's two actions are fine.
    stub.add_client_error("transact_write_items", "TransactionCanceledException", modeled_fields={
        "CancellationReasons": [{"Code": "ConditionalCheckFailed"}] + [{"Code": "None"}] * 3})
    stub.add_response("transact_write_items", {})
    assert recorder.record([first, second]) == [second.notification]


def test_a_throttled_notification_write_is_reported_never_taken_for_a_deleted_alert(stubbed: Any) -> None:
    from alexdb.adapters.dynamodb.deliveries import DynamoRecorder

    dynamo, stub = stubbed
    recorder = DynamoRecorder(dynamo, "alerts", "history")
    stub.add_client_error("transact_write_items", "ThrottlingException")
    with pytest.raises(BackendError, match="throttled"):
        recorder.record([_pending(0)])
