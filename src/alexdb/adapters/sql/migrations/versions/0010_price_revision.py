"""Instruments gain price_revision: moved by any price written at or before the newest point then.

A process keeps each symbol's price points for value sweeps and extends them as new points arrive; a
correction or a backfill moves the revision, so the process reads that symbol again (ports.PriceMark).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instruments") as instruments:
        instruments.add_column(sa.Column("price_revision", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("instruments") as instruments:
        instruments.drop_column("price_revision")
