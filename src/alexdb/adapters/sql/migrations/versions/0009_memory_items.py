"""Long-term memory (LangGraph's store): memory_items.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from alexdb.adapters.sql.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "memory_items",
        sa.Column("owner", sa.String(255), primary_key=True),
        sa.Column("namespace", sa.String(500), primary_key=True),
        sa.Column("key", sa.String(500), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("vectors", sa.Text),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime()),
        sa.Column("ttl_seconds", sa.Float),
    )
    op.create_index("ix_memory_items_expires_at", "memory_items", ["expires_at"])


def downgrade() -> None:
    op.drop_table("memory_items")
