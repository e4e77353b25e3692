"""Agent checkpoints (LangGraph): threads, checkpoints, channel values by version (large ones as pieces
named by their hash, each stored once per thread), pending writes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from alexdb.adapters.sql.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

KEY = 255
THREAD = ("owner", "thread_id")


def _thread_columns() -> list[sa.Column[str]]:
    return [sa.Column("owner", sa.String(KEY), primary_key=True),
            sa.Column("thread_id", sa.String(KEY), primary_key=True),
            sa.Column("ns", sa.String(KEY), primary_key=True)]


def _cascade(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(list(THREAD), [f"checkpoint_threads.{c}" for c in THREAD], ondelete="CASCADE",
                                   name=f"fk_{table}_owner_checkpoint_threads")


def upgrade() -> None:
    op.create_table(
        "checkpoint_threads",
        sa.Column("owner", sa.String(KEY), primary_key=True),
        sa.Column("thread_id", sa.String(KEY), primary_key=True),
        sa.Column("checkpoint_count", sa.Integer, nullable=False),
        sa.Column("generation", sa.String(32), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime()),
    )
    op.create_index("ix_checkpoint_threads_expires_at", "checkpoint_threads", ["expires_at"])
    op.create_table(
        "checkpoints", *_thread_columns(),
        sa.Column("checkpoint_id", sa.String(KEY), primary_key=True),
        sa.Column("parent_id", sa.String(KEY)),
        sa.Column("run_id", sa.String(KEY)),
        sa.Column("type", sa.String(KEY), nullable=False),
        sa.Column("checkpoint", sa.LargeBinary, nullable=False),
        sa.Column("metadata_type", sa.String(KEY), nullable=False),
        sa.Column("metadata", sa.LargeBinary, nullable=False),
        sa.Column("versions", sa.Text, nullable=False),
        _cascade("checkpoints"),
    )
    op.create_index("ix_checkpoints_run", "checkpoints", ["owner", "run_id"])
    op.create_table(
        "checkpoint_blobs", *_thread_columns(),
        sa.Column("channel", sa.String(KEY), primary_key=True),
        sa.Column("version", sa.String(KEY), primary_key=True),
        sa.Column("type", sa.String(KEY), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("chunks", sa.Text),
        _cascade("checkpoint_blobs"),
    )
    op.create_table(
        "checkpoint_chunks",
        sa.Column("owner", sa.String(KEY), primary_key=True),
        sa.Column("thread_id", sa.String(KEY), primary_key=True),
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        _cascade("checkpoint_chunks"),
    )
    op.create_table(
        "checkpoint_writes", *_thread_columns(),
        sa.Column("checkpoint_id", sa.String(KEY), primary_key=True),
        sa.Column("task_id", sa.String(KEY), primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("channel", sa.String(KEY), nullable=False),
        sa.Column("type", sa.String(KEY), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("task_path", sa.Text, nullable=False),
        _cascade("checkpoint_writes"),
    )


def downgrade() -> None:
    for table in ("checkpoint_chunks", "checkpoint_writes", "checkpoint_blobs", "checkpoints", "checkpoint_threads"):
        op.drop_table(table)
