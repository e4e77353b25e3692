"""The ledger: cash_movements and splits; trade cash, fees and average cost on positions and their history.

Each account's cash_balance becomes its opening ADJUSTMENT, dated when the account was created, so cash
at any past instant reads the same balance it did before. Trades recorded before the ledger moved no
cash (their cash_after is 0); their average cost is replayed from their recorded prices.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from alembic import op

from alexdb.adapters.sql.types import ExactDecimal, UTCDateTime
from alexdb.domain.trading import moved_cost

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ZERO = Decimal(0)


def upgrade() -> None:
    serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "cash_movements",
        sa.Column("seq", serial, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("amount", ExactDecimal(), nullable=False),
        sa.Column("balance_after", ExactDecimal(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("symbol", sa.String(20)),
        sa.Column("note", sa.Text),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE",
                                name="fk_cash_movements_account_id_accounts"),
        sa.ForeignKeyConstraint(["symbol"], ["instruments.symbol"], name="fk_cash_movements_symbol_instruments"),
        sa.PrimaryKeyConstraint("seq", name="pk_cash_movements"),
    )
    op.create_index("ix_cash_movements_account_id_at_seq", "cash_movements", ["account_id", "at", "seq"])
    op.create_table(
        "splits",
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("numerator", sa.Integer, nullable=False),
        sa.Column("denominator", sa.Integer, nullable=False),
        sa.Column("name", sa.String(255)),
        sa.ForeignKeyConstraint(["symbol"], ["instruments.symbol"], ondelete="CASCADE",
                                name="fk_splits_symbol_instruments"),
        sa.PrimaryKeyConstraint("symbol", "at", name="pk_splits"),
    )
    with op.batch_alter_table("positions") as batch:
        batch.add_column(sa.Column("cash", ExactDecimal(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("cost", ExactDecimal()))
    with op.batch_alter_table("position_history") as batch:
        batch.add_column(sa.Column("fee", ExactDecimal()))
        batch.add_column(sa.Column("cash_after", ExactDecimal(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("cost_after", ExactDecimal()))
    with op.batch_alter_table("positions") as batch:
        batch.alter_column("cash", server_default=None)
    with op.batch_alter_table("position_history") as batch:
        batch.alter_column("cash_after", server_default=None)
    op.create_index("ix_position_history_symbol_at", "position_history", ["symbol", "at"])
    _open_ledgers()
    _replay_costs()


def _open_ledgers() -> None:
    conn = op.get_bind()
    accounts = sa.table("accounts", sa.column("id", sa.Uuid()), sa.column("cash_balance", ExactDecimal()),
                        sa.column("created_at", UTCDateTime()))
    movements = sa.table("cash_movements", sa.column("account_id", sa.Uuid()), sa.column("kind", sa.String()),
                         sa.column("amount", ExactDecimal()), sa.column("balance_after", ExactDecimal()),
                         sa.column("at", UTCDateTime()), sa.column("note", sa.Text()))
    rows = [{"account_id": row.id, "kind": "ADJUSTMENT", "amount": row.cash_balance, "balance_after": row.cash_balance,
             "at": row.created_at, "note": "cash balance before the ledger"}
            for row in conn.execute(sa.select(accounts)) if row.cash_balance]
    if rows:
        conn.execute(sa.insert(movements), rows)


def _replay_costs() -> None:
    conn = op.get_bind()
    history = sa.table("position_history", sa.column("seq", sa.BigInteger()), sa.column("account_id", sa.Uuid()),
                       sa.column("symbol", sa.String()), sa.column("delta", ExactDecimal()),
                       sa.column("quantity_after", ExactDecimal()), sa.column("price", ExactDecimal()),
                       sa.column("at", UTCDateTime()), sa.column("cost_after", ExactDecimal()))
    positions = sa.table("positions", sa.column("account_id", sa.Uuid()), sa.column("symbol", sa.String()),
                         sa.column("cost", ExactDecimal()))
    state: dict[tuple[object, str], tuple[Decimal, Decimal | None]] = {}
    ordered = sa.select(history).order_by(history.c.account_id, history.c.symbol, history.c.at, history.c.seq)
    updates = []
    for row in conn.execute(ordered).all():
        held, cost = state.get((row.account_id, row.symbol), (ZERO, ZERO))
        cost = moved_cost(cost, held, row.delta, row.quantity_after, row.price, None)
        state[row.account_id, row.symbol] = (row.quantity_after, cost)
        updates.append({"s": row.seq, "c": cost})
    if updates:
        conn.execute(sa.update(history).where(history.c.seq == sa.bindparam("s"))
                     .values(cost_after=sa.bindparam("c")), updates)
    for (account_id, symbol), (_, cost) in state.items():
        conn.execute(sa.update(positions).where(positions.c.account_id == account_id, positions.c.symbol == symbol)
                     .values(cost=cost))


def downgrade() -> None:
    op.drop_index("ix_position_history_symbol_at", table_name="position_history")
    with op.batch_alter_table("position_history") as batch:
        batch.drop_column("cost_after")
        batch.drop_column("cash_after")
        batch.drop_column("fee")
    with op.batch_alter_table("positions") as batch:
        batch.drop_column("cost")
        batch.drop_column("cash")
    op.drop_table("splits")
    op.drop_index("ix_cash_movements_account_id_at_seq", table_name="cash_movements")
    op.drop_table("cash_movements")
