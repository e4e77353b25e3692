"""The one relational schema for SQLite and PostgreSQL: seed 004's tables plus position and price history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
)

from alexdb.adapters.sql.types import Document, ExactDecimal, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY, so the 64-bit id is plain INTEGER there.
SerialId = BigInteger().with_variant(Integer(), "sqlite")

users = Table(
    "users", metadata,
    Column("clerk_user_id", String(255), primary_key=True),
    Column("display_name", String(255)),
    Column("years_until_retirement", Integer),
    Column("target_retirement_income", ExactDecimal()),
    Column("asset_class_targets", Document(), nullable=False),
    Column("region_targets", Document(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

instruments = Table(
    "instruments", metadata,
    Column("symbol", String(20), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("instrument_type", String(50), nullable=False),
    Column("current_price", ExactDecimal()),
    Column("current_price_at", UTCDateTime()),
    # Moved by every price written at or before current_price_at: what lets a process keep price points.
    Column("price_revision", Integer, nullable=False, server_default="0"),
    Column("allocation_regions", Document(), nullable=False),
    Column("allocation_sectors", Document(), nullable=False),
    Column("allocation_asset_class", Document(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index(None, "instrument_type", "symbol"),
)

price_history = Table(
    "price_history", metadata,
    Column("symbol", String(20), ForeignKey("instruments.symbol", ondelete="CASCADE"), primary_key=True),
    Column("at", UTCDateTime(), primary_key=True),
    Column("price", ExactDecimal(), nullable=False),
)

accounts = Table(
    "accounts", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("clerk_user_id", String(255), ForeignKey("users.clerk_user_id", ondelete="CASCADE"), nullable=False),
    Column("account_name", String(255), nullable=False),
    Column("account_purpose", Text),
    # The cash the account was opened with (the seed schema's column); cash over time is the ledger's.
    Column("cash_balance", ExactDecimal(), nullable=False),
    Column("cash_interest", ExactDecimal(), nullable=False),
    Column("account_type", String(20)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index(None, "clerk_user_id", "created_at", "id"),
)

# One row per (account, symbol) ever held; a holding sold to zero keeps its row (quantity 0) so
# the row stays the lock and version anchor of that position.
positions = Table(
    "positions", metadata,
    Column("account_id", Uuid(), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("symbol", String(20), ForeignKey("instruments.symbol"), primary_key=True),
    Column("quantity", ExactDecimal(), nullable=False),
    Column("version", Integer, nullable=False),
    Column("last_change_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # The running cash of this symbol's trades, and the holding's total cost (NULL: unknown).
    Column("cash", ExactDecimal(), nullable=False),
    Column("cost", ExactDecimal()),
)

position_history = Table(
    "position_history", metadata,
    Column("seq", SerialId, primary_key=True, autoincrement=True),
    Column("account_id", Uuid(), ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("symbol", String(20), ForeignKey("instruments.symbol"), nullable=False),
    Column("action", String(20), nullable=False),
    Column("delta", ExactDecimal(), nullable=False),
    Column("quantity_after", ExactDecimal(), nullable=False),
    Column("price", ExactDecimal()),
    Column("at", UTCDateTime(), nullable=False),
    Column("fee", ExactDecimal()),
    Column("cash_after", ExactDecimal(), nullable=False),
    Column("cost_after", ExactDecimal()),
    # (account, symbol, at, seq) answers "quantity of a symbol at an instant" with one index seek.
    Index(None, "account_id", "symbol", "at", "seq"),
    Index(None, "account_id", "at", "seq"),
    # (symbol, at): "does any account have a change of this symbol after a split" in one seek.
    Index(None, "symbol", "at"),
)

# The account's cash ledger (not trades: a trade's cash lives on its history record), in time order per
# account; balance_after answers "cash at an instant" with one index seek.
cash_movements = Table(
    "cash_movements", metadata,
    Column("seq", SerialId, primary_key=True, autoincrement=True),
    Column("account_id", Uuid(), ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("amount", ExactDecimal(), nullable=False),
    Column("balance_after", ExactDecimal(), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("symbol", String(20), ForeignKey("instruments.symbol")),
    Column("note", Text),
    Index(None, "account_id", "at", "seq"),
)

splits = Table(
    "splits", metadata,
    Column("symbol", String(20), ForeignKey("instruments.symbol", ondelete="CASCADE"), primary_key=True),
    Column("at", UTCDateTime(), primary_key=True),
    Column("numerator", Integer, nullable=False),
    Column("denominator", Integer, nullable=False),
    Column("name", String(255)),
)

jobs = Table(
    "jobs", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("clerk_user_id", String(255), ForeignKey("users.clerk_user_id", ondelete="CASCADE"), nullable=False),
    Column("job_type", String(50), nullable=False),
    Column("status", String(20), nullable=False),
    Column("request_payload", Document()),
    Column("report_payload", Document()),
    Column("charts_payload", Document()),
    Column("retirement_payload", Document()),
    Column("summary_payload", Document()),
    Column("error_message", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime()),
    Column("completed_at", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    CheckConstraint("status IN ('pending', 'running', 'completed', 'failed')", name="status"),
    Index(None, "clerk_user_id", "created_at", "id"),
    Index(None, "status", "job_type", "created_at", "id"),
)

# Conversation memory (seed 003). Sessions belong to a user id but not to a portfolio user: the tutor's
# users need no account. last_seq keeps message order even after truncation.
chat_sessions = Table(
    "chat_sessions", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("user_id", String(255), nullable=False),
    Column("title", String(255)),
    Column("pedagogy_mode", String(20), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_accessed", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("total_tokens", BigInteger, nullable=False),
    Column("message_count", Integer, nullable=False),
    Column("last_seq", Integer, nullable=False),
    Index(None, "user_id", "last_accessed", "id"),
    Index(None, "expires_at"),
)

chat_messages = Table(
    "chat_messages", metadata,
    Column("session_id", Uuid(), ForeignKey("chat_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("role", String(20), nullable=False),
    Column("content", Text, nullable=False),
    Column("tokens", Integer),
    Column("context_ids", Document(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    # domain.chat.stored_parts: plain JSON text (not Document: a float must come back the same float).
    Column("parts", Text),
)

# Agent checkpoints (LangGraph): threads of an owner; values by (channel, version), each written once.
KEY = 255
checkpoint_threads = Table(
    "checkpoint_threads", metadata,
    Column("owner", String(KEY), primary_key=True),
    Column("thread_id", String(KEY), primary_key=True),
    Column("checkpoint_count", Integer, nullable=False),
    Column("generation", String(32), nullable=False),  # new each time the thread begins (again)
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), index=True),
)


def _in_thread(name: str, *columns: Column[Any]) -> Table:
    """A table of rows that belong to a thread and go with it (ON DELETE CASCADE)."""
    return Table(
        name, metadata,
        Column("owner", String(KEY), primary_key=True),
        Column("thread_id", String(KEY), primary_key=True),
        Column("ns", String(KEY), primary_key=True),
        *columns,
        ForeignKeyConstraint(["owner", "thread_id"], ["checkpoint_threads.owner", "checkpoint_threads.thread_id"],
                             ondelete="CASCADE"),
    )


checkpoints = _in_thread(
    "checkpoints",
    Column("checkpoint_id", String(KEY), primary_key=True),
    Column("parent_id", String(KEY)),
    Column("run_id", String(KEY)),
    Column("type", String(KEY), nullable=False),
    Column("checkpoint", LargeBinary, nullable=False),
    Column("metadata_type", String(KEY), nullable=False),
    Column("metadata", LargeBinary, nullable=False),
    Column("versions", Text, nullable=False),  # JSON: channel -> version
)
Index("ix_checkpoints_run", checkpoints.c.owner, checkpoints.c.run_id)
checkpoint_blobs = _in_thread(
    "checkpoint_blobs",
    Column("channel", String(KEY), primary_key=True),
    Column("version", String(KEY), primary_key=True),
    Column("type", String(KEY), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("chunks", Text),  # the names of its pieces, comma-separated, when the value is chunked
)
checkpoint_chunks = Table(
    "checkpoint_chunks", metadata,
    Column("owner", String(KEY), primary_key=True),
    Column("thread_id", String(KEY), primary_key=True),
    Column("name", String(40), primary_key=True),  # the piece's content hash
    Column("data", LargeBinary, nullable=False),
    ForeignKeyConstraint(["owner", "thread_id"], ["checkpoint_threads.owner", "checkpoint_threads.thread_id"],
                         ondelete="CASCADE"),
)
checkpoint_writes = _in_thread(
    "checkpoint_writes",
    Column("checkpoint_id", String(KEY), primary_key=True),
    Column("task_id", String(KEY), primary_key=True),
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("channel", String(KEY), nullable=False),
    Column("type", String(KEY), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("task_path", Text, nullable=False),
)

# Long-term memory (LangGraph's store): JSON items by namespace text and key, per owner.
memory_items = Table(
    "memory_items", metadata,
    Column("owner", String(KEY), primary_key=True),
    Column("namespace", String(500), primary_key=True),  # domain.memories.namespace_text
    Column("key", String(500), primary_key=True),
    Column("value", Text, nullable=False),  # plain JSON text: floats come back the same floats
    Column("vectors", Text),  # JSON: text path -> embedding
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), index=True),
    Column("ttl_seconds", Float),
)

# The speed layer (seed 002).
alert_configurations = Table(
    "alert_configurations", metadata,
    Column("alert_id", Uuid(), primary_key=True),
    Column("user_id", String(255), nullable=False),
    Column("symbol", String(20), nullable=False),
    Column("condition_type", String(20), nullable=False),
    Column("condition", Document(), nullable=False),
    Column("notification_method", String(20), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("cooldown_seconds", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("last_triggered", UTCDateTime()),
    Column("trigger_count", Integer, nullable=False),
    Column("armed_at", UTCDateTime()),
    Index(None, "symbol", "user_id"),
    Index(None, "user_id", "created_at", "alert_id"),
)

# One price per symbol and millisecond (the last one received wins, as with seed 002's key).
realtime_ticks = Table(
    "realtime_ticks", metadata,
    Column("symbol", String(20), primary_key=True),
    Column("timestamp", BigInteger, primary_key=True, autoincrement=False),
    Column("price", ExactDecimal(), nullable=False),
    Column("volume", ExactDecimal(), nullable=False),
    Column("source", String(50), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index(None, "expires_at"),
)

alert_notifications_history = Table(
    "alert_notifications_history", metadata,
    Column("notification_id", Uuid(), primary_key=True),
    Column("user_id", String(255), nullable=False),
    Column("alert_id", Uuid(), nullable=False),
    Column("symbol", String(20), nullable=False),
    Column("triggered_at", UTCDateTime(), nullable=False),
    Column("current_price", ExactDecimal(), nullable=False),
    Column("threshold", ExactDecimal()),
    Column("notification_method", String(20), nullable=False),
    Column("delivery_status", String(10), nullable=False),
    Column("message_id", String(255)),
    Column("price_type", String(64)),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime()),
    Column("last_error", String(255)),
    Index("ix_alert_notifications_user_time", "user_id", "triggered_at", "notification_id"),
    # The retry worker's queue: only pending and failed deliveries still to try have next_attempt_at.
    Index("ix_alert_notifications_due", "next_attempt_at"),
)

# How far each symbol's ticks have been applied to its alerts, and the bar they left (one row per symbol).
speed_cursors = Table(
    "speed_cursors", metadata,
    Column("symbol", String(20), primary_key=True),
    Column("applied_ms", BigInteger, nullable=False),
    Column("minute", BigInteger, nullable=False),
    Column("open", ExactDecimal(), nullable=False),
    Column("high", ExactDecimal(), nullable=False),
    Column("low", ExactDecimal(), nullable=False),
    Column("close", ExactDecimal(), nullable=False),
    Column("writer", String(64), nullable=False),
)

ALL_TABLES = (users, instruments, price_history, accounts, positions, position_history, cash_movements, splits, jobs,
              chat_sessions, chat_messages, alert_configurations, realtime_ticks, alert_notifications_history,
              speed_cursors, checkpoint_threads, checkpoints, checkpoint_blobs, checkpoint_writes,
              checkpoint_chunks, memory_items)
