"""Speed layer: alert_configurations, realtime_ticks, alert_notifications_history.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from alexdb.adapters.sql.types import Document, ExactDecimal, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_configurations",
        sa.Column("alert_id", sa.Uuid()),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("condition_type", sa.String(20), nullable=False),
        sa.Column("condition", Document(), nullable=False),
        sa.Column("notification_method", sa.String(20), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("cooldown_seconds", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("last_triggered", UTCDateTime()),
        sa.Column("trigger_count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("alert_id", name="pk_alert_configurations"),
    )
    op.create_index("ix_alert_configurations_symbol_user_id", "alert_configurations", ["symbol", "user_id"])
    op.create_index("ix_alert_configurations_user_id_created_at_alert_id", "alert_configurations",
                    ["user_id", "created_at", "alert_id"])
    op.create_table(
        "realtime_ticks",
        sa.Column("symbol", sa.String(20)),
        sa.Column("timestamp", sa.BigInteger, autoincrement=False),
        sa.Column("price", ExactDecimal(), nullable=False),
        sa.Column("volume", ExactDecimal(), nullable=False),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("symbol", "timestamp", name="pk_realtime_ticks"),
    )
    op.create_index("ix_realtime_ticks_expires_at", "realtime_ticks", ["expires_at"])
    op.create_table(
        "alert_notifications_history",
        sa.Column("notification_id", sa.Uuid()),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("triggered_at", UTCDateTime(), nullable=False),
        sa.Column("current_price", ExactDecimal(), nullable=False),
        sa.Column("threshold", ExactDecimal()),
        sa.Column("notification_method", sa.String(20), nullable=False),
        sa.Column("delivery_status", sa.String(10), nullable=False),
        sa.Column("message_id", sa.String(255)),
        sa.PrimaryKeyConstraint("notification_id", name="pk_alert_notifications_history"),
    )
    op.create_index("ix_alert_notifications_user_time",
                    "alert_notifications_history", ["user_id", "triggered_at", "notification_id"])


def downgrade() -> None:
    for table in ("alert_notifications_history", "realtime_ticks", "alert_configurations"):
        op.drop_table(table)
