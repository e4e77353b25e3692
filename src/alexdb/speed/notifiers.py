"""Notifiers: a trigger goes out by webhook, email or SNS; delivery is retried with backoff and never raises."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

from alexdb.domain.alerts import Trigger


def describe(trigger: Trigger, key: str) -> dict[str, Any]:
    """The trigger as a JSON-ready message (Decimals as exact strings); key is its notification id, the
    same on every resend, so a receiver can drop a duplicate."""
    return {"notification_id": key, "alert_id": str(trigger.alert_id), "user_id": trigger.user_id,
            "symbol": trigger.symbol,
            "price": str(trigger.price), "threshold": None if trigger.threshold is None else str(trigger.threshold),
            "price_type": trigger.price_type, "timestamp": trigger.timestamp}


def subject(trigger: Trigger) -> str:
    """A one-line summary."""
    return f"{trigger.symbol} at {trigger.price} (alert {trigger.alert_id})"


class PermanentDeliveryError(Exception):
    """A delivery that retrying cannot help (no open connection, a 4xx answer): failed at once."""


class Notifier(Protocol):
    """Sends one trigger under its idempotency key; returns the channel's message id, raises on failure."""

    def send(self, trigger: Trigger, key: str) -> str: ...


SIGNATURE_HEADER = "X-Alexdb-Signature"
TIMESTAMP_HEADER = "X-Alexdb-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The webhook signature: "sha256=" and the hex HMAC-SHA256, under the endpoint's secret, of
    "<timestamp>.<body>" (the timestamp binds the signature to its sending, so an old one cannot be replayed
    later than the receiver's tolerance)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, headers: Mapping[str, str], body: bytes, tolerance_s: float = 300.0,
           now: float | None = None) -> bool:
    """What a receiver runs: the signature matches and its timestamp is within tolerance_s of now."""
    stamp, given = headers.get(TIMESTAMP_HEADER, ""), headers.get(SIGNATURE_HEADER, "")
    if not stamp.isdigit() or abs((time.time() if now is None else now) - int(stamp)) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, stamp, body), given)


@dataclass
class WebhookNotifier:
    """POSTs the trigger as JSON to url, with the Idempotency-Key header and, given the endpoint's secret,
    the HMAC signature headers; the message id is the X-Request-Id answered, else the status line."""

    url: str
    timeout: float = 5.0
    secret: str | None = None

    def send(self, trigger: Trigger, key: str) -> str:
        """Deliver by HTTP POST; any non-2xx answer is a failure."""
        body = json.dumps(describe(trigger, key)).encode()
        headers = {"Content-Type": "application/json", IDEMPOTENCY_HEADER: key}
        if self.secret:
            stamp = str(int(time.time()))
            headers |= {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature(self.secret, stamp, body)}
        request = urllib.request.Request(self.url, data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.headers.get("X-Request-Id") or f"http-{response.status}"
        except urllib.error.HTTPError as exc:
            # A 4xx says the request itself is wrong (bar timeouts and rate limits): sending it again won't help.
            if 400 <= exc.code < 500 and exc.code not in (408, 429):
                raise PermanentDeliveryError(f"HTTP {exc.code} {exc.reason}") from exc
            raise


@dataclass
class EmailNotifier:
    """Sends the trigger by SMTP to `recipient(user_id)`; the message id is the Message-ID header."""

    host: str
    port: int
    sender: str
    recipient: Any  # Callable[[str], str]: a user id to an address

    def send(self, trigger: Trigger, key: str) -> str:
        """Deliver one email; its Message-ID derives from the key, so a resend is recognisably the same."""
        message = EmailMessage()
        message["From"], message["To"] = self.sender, self.recipient(trigger.user_id)
        message["Subject"] = f"Price alert: {subject(trigger)}"
        message["Message-ID"] = f"<{key}@alexdb>"
        message.set_content(json.dumps(describe(trigger, key), indent=2))
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            smtp.send_message(message)
        return str(message["Message-ID"])


@dataclass
class SnsNotifier:
    """Publishes the trigger to an SNS topic through an injected boto3 client; the message id is SNS's."""

    client: Any
    topic_arn: str

    def send(self, trigger: Trigger, key: str) -> str:
        """Publish one message, with the key as its idempotency_key message attribute."""
        answer = self.client.publish(
            TopicArn=self.topic_arn, Subject=f"Price alert {trigger.symbol}",
            Message=json.dumps(describe(trigger, key)),
            MessageAttributes={"idempotency_key": {"DataType": "String", "StringValue": key}})
        return str(answer["MessageId"])


@dataclass
class Delivery:
    """Retries a notifier with exponential backoff and jitter; reports (sent|failed, message id or error)."""

    attempts: int = 3
    base_delay: float = 0.05

    def deliver(self, notifier: Notifier | None, trigger: Trigger, key: str) -> tuple[str, str | None]:
        """Never raises: a notifier that keeps failing yields ("failed", the last error)."""
        if notifier is None:
            return "failed", f"no notifier for {trigger.notification_method}"
        error = ""
        for attempt in range(self.attempts):
            try:
                return "sent", notifier.send(trigger, key)
            except PermanentDeliveryError as exc:
                return "failed", f"{type(exc).__name__}: {exc}"[:255]
            except Exception as exc:  # any channel failure: retry, then record it, never raise into ingestion
                error = f"{type(exc).__name__}: {exc}"[:255]
                if attempt + 1 < self.attempts:
                    time.sleep(random.uniform(0, self.base_delay * 2 ** attempt))
        return "failed", error
