"""Portfolio store: users, instruments, price history, accounts, positions, position history, jobs.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from alexdb.adapters.sql.types import Document, ExactDecimal, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SerialId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("clerk_user_id", sa.String(255), primary_key=True),
        sa.Column("display_name", sa.String(255)),
        sa.Column("years_until_retirement", sa.Integer),
        sa.Column("target_retirement_income", ExactDecimal()),
        sa.Column("asset_class_targets", Document(), nullable=False),
        sa.Column("region_targets", Document(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("clerk_user_id", name="pk_users"),
    )
    op.create_table(
        "instruments",
        sa.Column("symbol", sa.String(20)),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("instrument_type", sa.String(50), nullable=False),
        sa.Column("current_price", ExactDecimal()),
        sa.Column("current_price_at", UTCDateTime()),
        sa.Column("allocation_regions", Document(), nullable=False),
        sa.Column("allocation_sectors", Document(), nullable=False),
        sa.Column("allocation_asset_class", Document(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("symbol", name="pk_instruments"),
    )
    op.create_index("ix_instruments_instrument_type_symbol", "instruments", ["instrument_type", "symbol"])
    op.create_table(
        "price_history",
        sa.Column("symbol", sa.String(20)),
        sa.Column("at", UTCDateTime()),
        sa.Column("price", ExactDecimal(), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "at", name="pk_price_history"),
        sa.ForeignKeyConstraint(
            ["symbol"], ["instruments.symbol"], ondelete="CASCADE",
            name="fk_price_history_symbol_instruments",
        ),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Uuid()),
        sa.Column("clerk_user_id", sa.String(255), nullable=False),
        sa.Column("account_name", sa.String(255), nullable=False),
        sa.Column("account_purpose", sa.Text),
        sa.Column("cash_balance", ExactDecimal(), nullable=False),
        sa.Column("cash_interest", ExactDecimal(), nullable=False),
        sa.Column("account_type", sa.String(20)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.ForeignKeyConstraint(
            ["clerk_user_id"], ["users.clerk_user_id"], ondelete="CASCADE",
            name="fk_accounts_clerk_user_id_users",
        ),
    )
    op.create_index(
        "ix_accounts_clerk_user_id_created_at_id", "accounts", ["clerk_user_id", "created_at", "id"]
    )
    op.create_table(
        "positions",
        sa.Column("account_id", sa.Uuid()),
        sa.Column("symbol", sa.String(20)),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("last_change_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "symbol", name="pk_positions"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], ondelete="CASCADE", name="fk_positions_account_id_accounts"
        ),
        sa.ForeignKeyConstraint(["symbol"], ["instruments.symbol"], name="fk_positions_symbol_instruments"),
    )
    op.create_table(
        "position_history",
        sa.Column("seq", SerialId, autoincrement=True),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("delta", ExactDecimal(), nullable=False),
        sa.Column("quantity_after", ExactDecimal(), nullable=False),
        sa.Column("price", ExactDecimal()),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_position_history"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], ondelete="CASCADE",
            name="fk_position_history_account_id_accounts",
        ),
        sa.ForeignKeyConstraint(
            ["symbol"], ["instruments.symbol"], name="fk_position_history_symbol_instruments"
        ),
    )
    op.create_index(
        "ix_position_history_account_id_symbol_at_seq",
        "position_history", ["account_id", "symbol", "at", "seq"],
    )
    op.create_index("ix_position_history_account_id_at_seq", "position_history", ["account_id", "at", "seq"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.Uuid()),
        sa.Column("clerk_user_id", sa.String(255), nullable=False),
        sa.Column("job_type", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("request_payload", Document()),
        sa.Column("report_payload", Document()),
        sa.Column("charts_payload", Document()),
        sa.Column("retirement_payload", Document()),
        sa.Column("summary_payload", Document()),
        sa.Column("error_message", sa.Text),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime()),
        sa.Column("completed_at", UTCDateTime()),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.ForeignKeyConstraint(
            ["clerk_user_id"], ["users.clerk_user_id"], ondelete="CASCADE",
            name="fk_jobs_clerk_user_id_users",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'completed', 'failed')", name="ck_jobs_status"
        ),
    )
    op.create_index("ix_jobs_clerk_user_id_created_at_id", "jobs", ["clerk_user_id", "created_at", "id"])
    op.create_index("ix_jobs_status_job_type_created_at_id", "jobs", ["status", "job_type", "created_at", "id"])


def downgrade() -> None:
    for table in ("jobs", "position_history", "positions", "accounts", "price_history", "instruments", "users"):
        op.drop_table(table)
