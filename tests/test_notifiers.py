"""Notifiers against real local peers: an HTTP server, an SMTP server (aiosmtpd); SNS through moto."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import boto3
import pytest
from aiosmtpd.controller import Controller
from moto import mock_aws

from alexdb.domain.alerts import Trigger
from alexdb.speed.notifiers import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Delivery,
    EmailNotifier,
    SnsNotifier,
    WebhookNotifier,
    verify,
)
from tests.dynamodb_local import free_port

TRIGGER = Trigger(uuid.uuid4(), "alice", "SPY", Decimal("500.10"), Decimal("500"), "close", "webhook", 1_700_000_000_000)
KEY = "0191f0c2-notification"
SECRET = "endpoint-secret"


class Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []
    headers_seen: ClassVar[list[dict[str, str]]] = []
    raw: ClassVar[list[bytes]] = []
    fail_first = 0
    calls = 0

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        body = json.loads(raw)
        Hook.calls += 1
        Hook.headers_seen.append(dict(self.headers.items()))
        Hook.raw.append(raw)
        if self.path.endswith("/gone"):
            self.send_response(410)
            self.end_headers()
            return
        if Hook.fail_first > 0:
            Hook.fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        Hook.received.append(body)
        self.send_response(200)
        self.send_header("X-Request-Id", f"req-{len(Hook.received)}")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def webhook_url() -> Iterator[Any]:
    Hook.received, Hook.fail_first, Hook.calls, Hook.headers_seen, Hook.raw = [], 0, 0, [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alerts"
    server.shutdown()


def test_webhook_delivers_exact_json_and_retries(webhook_url: str) -> None:
    Hook.fail_first = 2
    status, message_id = Delivery(attempts=3, base_delay=0).deliver(WebhookNotifier(webhook_url), TRIGGER, KEY)
    assert (status, message_id) == ("sent", "req-1")
    assert Hook.received == [{"notification_id": KEY, "alert_id": str(TRIGGER.alert_id), "user_id": "alice",
                              "symbol": "SPY", "price": "500.10", "threshold": "500", "price_type": "close",
                              "timestamp": 1_700_000_000_000}]
    # Every attempt carries the same idempotency key, so the receiver can drop a resend.
    assert [headers["Idempotency-Key"] for headers in Hook.headers_seen] == [KEY] * 3
    assert all(SIGNATURE_HEADER not in headers for headers in Hook.headers_seen)  # no secret, no signature


def test_a_webhook_with_a_secret_is_signed_and_the_receiver_can_check_it(webhook_url: str) -> None:
    assert Delivery(base_delay=0).deliver(WebhookNotifier(webhook_url, secret=SECRET), TRIGGER, KEY)[0] == "sent"
    [headers], [raw] = Hook.headers_seen, Hook.raw
    assert headers[SIGNATURE_HEADER].startswith("sha256=") and headers["Idempotency-Key"] == KEY
    assert verify(SECRET, headers, raw)
    assert not verify("another-secret", headers, raw)
    assert not verify(SECRET, headers, raw.replace(b"500.10", b"600.10"))  # a changed body fails
    assert not verify(SECRET, headers, raw, now=int(headers[TIMESTAMP_HEADER]) + 3600)  # an old signature fails
    assert not verify(SECRET, {**headers, TIMESTAMP_HEADER: "soon"}, raw)


def test_a_refusal_is_not_retried(webhook_url: str) -> None:
    status, detail = Delivery(attempts=3, base_delay=0).deliver(WebhookNotifier(webhook_url + "/gone"), TRIGGER, KEY)
    assert status == "failed" and "HTTP 410" in (detail or "") and Hook.calls == 1
    Hook.fail_first = 1
    assert Delivery(attempts=3, base_delay=0).deliver(WebhookNotifier(webhook_url), TRIGGER, KEY)[0] == "sent"
    assert Hook.calls == 3  # a 503 is worth another try


def test_failures_are_reported_never_raised() -> None:
    dead = WebhookNotifier(f"http://127.0.0.1:{free_port()}/nobody", timeout=0.5)
    status, detail = Delivery(attempts=2, base_delay=0).deliver(dead, TRIGGER, KEY)
    assert status == "failed" and "URLError" in (detail or "")
    assert Delivery().deliver(None, TRIGGER, KEY) == ("failed", "no notifier for webhook")


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope)
        return "250 OK"


def test_email_goes_through_smtp() -> None:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        notifier = EmailNotifier("127.0.0.1", controller.port, "alerts@alex.local", lambda user: f"{user}@example.com")
        status, message_id = Delivery(base_delay=0).deliver(notifier, TRIGGER, KEY)
    finally:
        controller.stop()
    assert status == "sent" and message_id == f"<{KEY}@alexdb>"  # the same on a resend
    [envelope] = box.messages
    assert envelope.rcpt_tos == ["alice@example.com"] and b"500.10" in envelope.content


def test_sns_publishes() -> None:
    with mock_aws():
        client = boto3.client("sns", region_name="us-east-1")
        topic = client.create_topic(Name="alerts")["TopicArn"]
        status, message_id = Delivery(base_delay=0).deliver(SnsNotifier(client, topic), TRIGGER, KEY)
    assert status == "sent" and message_id


def test_a_user_without_a_websocket_fails_at_once() -> None:
    from alexdb.speed.broadcast import WebSocketBroadcaster

    status, detail = Delivery(attempts=5, base_delay=10).deliver(WebSocketBroadcaster(), TRIGGER, KEY)  # no 10 s waits
    assert status == "failed" and "no open WebSocket connection" in (detail or "")


def test_the_environment_chooses_the_notifiers() -> None:
    from alexdb.speed.wiring import notifiers_from_env

    assert notifiers_from_env({}) == {}
    with mock_aws():
        chosen = notifiers_from_env({"ALEXDB_WEBHOOK_URL": "http://hooks.test/a", "ALEXDB_SMTP_HOST": "smtp.test",
                                     "ALEXDB_SMTP_PORT": "2525", "ALEXDB_EMAIL_TO": "alerts+{user_id}@alex.test",
                                     "ALEXDB_SNS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
                                     "AWS_DEFAULT_REGION": "us-east-1"}, websocket=WebhookNotifier("http://ws.test"))
    assert set(chosen) == {"websocket", "webhook", "email", "sns"}
    webhook, email, sns = chosen["webhook"], chosen["email"], chosen["sns"]
    assert isinstance(webhook, WebhookNotifier) and isinstance(email, EmailNotifier) and isinstance(sns, SnsNotifier)
    assert webhook.url == "http://hooks.test/a" and email.port == 2525
    assert email.recipient("alice") == "alerts+alice@alex.test"
    assert sns.topic_arn.endswith(":alerts")


def test_a_slow_websocket_client_loses_its_oldest_messages_not_the_newest() -> None:
    import asyncio

    from alexdb.speed import broadcast

    async def fill() -> list[int]:
        subscription = broadcast.Subscription("alice", asyncio.get_running_loop())
        for n in range(broadcast.QUEUE_LIMIT + 5):
            subscription.offer({"n": n})
        return [subscription.queue.get_nowait()["n"] for _ in range(subscription.queue.qsize())]

    kept = asyncio.run(fill())
    assert len(kept) == broadcast.QUEUE_LIMIT and kept[0] == 5 and kept[-1] == broadcast.QUEUE_LIMIT + 4
