"""Job attempts, and on PostgreSQL the original Alex schema's updated_at triggers.

jobs gains attempts (how many times a job was started): jobs already past pending were started once.
On PostgreSQL every table the original Alex schema stamped gets its trigger under the original's names
(update_<table>_updated_at, function update_updated_at_column), so that schema's verify script finds
them and a raw UPDATE through alexdb.compat still moves updated_at. alexdb stamps updated_at itself from
its own clock, so the trigger stamps NOW() only when an UPDATE left updated_at as it was.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

STAMPED = ("users", "instruments", "accounts", "positions", "jobs")

# The body is quoted with '' rather than $$: the Data API emulator the tests run against cannot read $$.
STAMP_FUNCTION = (
    "CREATE OR REPLACE FUNCTION update_updated_at_column() RETURNS TRIGGER LANGUAGE plpgsql AS '"
    "BEGIN "
    "IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN NEW.updated_at = NOW(); END IF; "
    "RETURN NEW; "
    "END'"
)


def upgrade() -> None:
    with op.batch_alter_table("jobs") as jobs:
        jobs.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
    op.execute("UPDATE jobs SET attempts = 1 WHERE status <> 'pending'")
    if op.get_context().dialect.name == "postgresql":
        op.execute(STAMP_FUNCTION)
        for table in STAMPED:
            op.execute(f"CREATE TRIGGER update_{table}_updated_at BEFORE UPDATE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION update_updated_at_column()")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in STAMPED:
            op.execute(f"DROP TRIGGER IF EXISTS update_{table}_updated_at ON {table}")
        op.execute("DROP FUNCTION IF EXISTS update_updated_at_column()")
    with op.batch_alter_table("jobs") as jobs:
        jobs.drop_column("attempts")
