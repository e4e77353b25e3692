"""Speed layer across processes: a cursor per symbol, and deliveries recorded before they are sent.

alert_configurations gains armed_at (the settings version an ingestor checked on arrival).
speed_cursors holds how far each symbol's ticks were applied to its alerts and the bar they left.
alert_notifications_history gains the price type a trigger watched and the delivery schedule
(attempts, next_attempt_at, last_error): existing rows were delivered or failed for good.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from alexdb.adapters.sql.types import ExactDecimal, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "speed_cursors",
        sa.Column("symbol", sa.String(20)),
        sa.Column("applied_ms", sa.BigInteger, nullable=False),
        sa.Column("minute", sa.BigInteger, nullable=False),
        sa.Column("open", ExactDecimal(), nullable=False),
        sa.Column("high", ExactDecimal(), nullable=False),
        sa.Column("low", ExactDecimal(), nullable=False),
        sa.Column("close", ExactDecimal(), nullable=False),
        sa.Column("writer", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("symbol", name="pk_speed_cursors"),
    )
    with op.batch_alter_table("alert_notifications_history") as table:
        table.add_column(sa.Column("price_type", sa.String(64)))
        table.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        table.add_column(sa.Column("next_attempt_at", UTCDateTime()))
        table.add_column(sa.Column("last_error", sa.String(255)))
    op.create_index("ix_alert_notifications_due", "alert_notifications_history", ["next_attempt_at"])
    with op.batch_alter_table("alert_configurations") as table:
        table.add_column(sa.Column("armed_at", UTCDateTime()))
    # Existing alerts were checked by the ingestors that loaded them: they do not fire again on arrival.
    op.execute("UPDATE alert_configurations SET armed_at = updated_at")


def downgrade() -> None:
    with op.batch_alter_table("alert_configurations") as table:
        table.drop_column("armed_at")
    op.drop_index("ix_alert_notifications_due", "alert_notifications_history")
    with op.batch_alter_table("alert_notifications_history") as table:
        for name in ("last_error", "next_attempt_at", "attempts", "price_type"):
            table.drop_column(name)
    op.drop_table("speed_cursors")
