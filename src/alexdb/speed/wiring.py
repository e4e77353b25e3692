"""The notifiers a process runs with, from its environment (CLI, HTTP service and Lambda alike)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alexdb.speed.notifiers import EmailNotifier, Notifier, SnsNotifier, WebhookNotifier


def notifiers_from_env(env: Mapping[str, str], websocket: Notifier | None = None) -> dict[str, Notifier]:
    """Notifiers for the channels the environment configures; a trigger on another channel is recorded
    as failed ("no notifier for ...").

    ALEXDB_WEBHOOK_URL (and ALEXDB_WEBHOOK_SECRET, which signs each delivery);
    ALEXDB_SMTP_HOST, ALEXDB_SMTP_PORT (25), ALEXDB_SMTP_FROM and ALEXDB_EMAIL_TO (an
    address template with {user_id}); ALEXDB_SNS_TOPIC_ARN (with the usual AWS settings).
    """
    notifiers: dict[str, Notifier] = {}
    if websocket is not None:
        notifiers["websocket"] = websocket
    if env.get("ALEXDB_WEBHOOK_URL"):
        notifiers["webhook"] = WebhookNotifier(env["ALEXDB_WEBHOOK_URL"],
                                               secret=env.get("ALEXDB_WEBHOOK_SECRET") or None)
    if env.get("ALEXDB_SMTP_HOST") and env.get("ALEXDB_EMAIL_TO"):
        template = env["ALEXDB_EMAIL_TO"]
        notifiers["email"] = EmailNotifier(env["ALEXDB_SMTP_HOST"], int(env.get("ALEXDB_SMTP_PORT", "25")),
                                           env.get("ALEXDB_SMTP_FROM", "alerts@alexdb.invalid"),
                                           lambda user_id: template.format(user_id=user_id))
    if env.get("ALEXDB_SNS_TOPIC_ARN"):
        import boto3

        # The region from the same mapping as everything else (Lambda sets AWS_REGION), else boto3's own chain.
        client: Any = boto3.client("sns", region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None)
        notifiers["sns"] = SnsNotifier(client, env["ALEXDB_SNS_TOPIC_ARN"])
    return notifiers
