"""Notifiers: a trigger goes out by webhook, email or SNS; delivery is retried with backoff and never raises."""

from __future__ import annotations

import json
import random
import smtplib
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol

from alexdb.domain.alerts import Trigger


def describe(trigger: Trigger) -> dict[str, Any]:
    """The trigger as a JSON-ready message (Decimals as exact strings)."""
    return {"alert_id": str(trigger.alert_id), "user_id": trigger.user_id, "symbol": trigger.symbol,
            "price": str(trigger.price), "threshold": None if trigger.threshold is None else str(trigger.threshold),
            "price_type": trigger.price_type, "timestamp": trigger.timestamp}


def subject(trigger: Trigger) -> str:
    """A one-line summary."""
    return f"{trigger.symbol} at {trigger.price} (alert {trigger.alert_id})"


class PermanentDeliveryError(Exception):
    """A delivery that retrying cannot help (no open connection, a 4xx answer): failed at once."""


class Notifier(Protocol):
    """Sends one trigger; returns the channel's message id, raises on failure."""

    def send(self, trigger: Trigger) -> str: ...


@dataclass
class WebhookNotifier:
    """POSTs the trigger as JSON to url; the message id is the X-Request-Id answered, else the status line."""

    url: str
    timeout: float = 5.0

    def send(self, trigger: Trigger) -> str:
        """Deliver by HTTP POST; any non-2xx answer is a failure."""
        request = urllib.request.Request(self.url, data=json.dumps(describe(trigger)).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
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

    def send(self, trigger: Trigger) -> str:
        """Deliver one email."""
        message = EmailMessage()
        message["From"], message["To"] = self.sender, self.recipient(trigger.user_id)
        message["Subject"] = f"Price alert: {subject(trigger)}"
        message["Message-ID"] = make_msgid(domain="alexdb")
        message.set_content(json.dumps(describe(trigger), indent=2))
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            smtp.send_message(message)
        return str(message["Message-ID"])


@dataclass
class SnsNotifier:
    """Publishes the trigger to an SNS topic through an injected boto3 client; the message id is SNS's."""

    client: Any
    topic_arn: str

    def send(self, trigger: Trigger) -> str:
        """Publish one message."""
        answer = self.client.publish(TopicArn=self.topic_arn, Subject=f"Price alert {trigger.symbol}",
                                     Message=json.dumps(describe(trigger)))
        return str(answer["MessageId"])


@dataclass
class Delivery:
    """Retries a notifier with exponential backoff and jitter; reports (sent|failed, message id or error)."""

    attempts: int = 3
    base_delay: float = 0.05

    def deliver(self, notifier: Notifier | None, trigger: Trigger) -> tuple[str, str | None]:
        """Never raises: a notifier that keeps failing yields ("failed", the last error)."""
        if notifier is None:
            return "failed", f"no notifier for {trigger.notification_method}"
        error = ""
        for attempt in range(self.attempts):
            try:
                return "sent", notifier.send(trigger)
            except PermanentDeliveryError as exc:
                return "failed", f"{type(exc).__name__}: {exc}"[:255]
            except Exception as exc:  # any channel failure: retry, then record it, never raise into ingestion
                error = f"{type(exc).__name__}: {exc}"[:255]
                if attempt + 1 < self.attempts:
                    time.sleep(random.uniform(0, self.base_delay * 2 ** attempt))
        return "failed", error
