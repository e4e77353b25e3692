"""Chat messages keep their structured parts (tool calls, tool call id, name, id, content blocks, metadata).

One nullable JSON-text column: a message without parts stores nothing more.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat_messages") as messages:
        messages.add_column(sa.Column("parts", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("chat_messages") as messages:
        messages.drop_column("parts")
