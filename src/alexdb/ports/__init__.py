"""The small storage-neutral interfaces every backend implements; services depend only on these.

One module per part of the store (portfolio, memory, speed), all importable from here."""

from __future__ import annotations

from alexdb.ports.memory import (
    ChatRecords,
    CheckpointRecords,
    MemoryRecords,
)
from alexdb.ports.portfolio import (
    AccountRecords,
    AccountStore,
    CashRecords,
    ChangeColumns,
    Columns,
    InstrumentStore,
    JobRecords,
    PositionStore,
    PriceMark,
    PriceMarks,
    PriceReader,
    RawReader,
    Rows,
    SplitRecords,
    UserRecords,
)
from alexdb.ports.speed import (
    AlertRecords,
    CursorRecords,
    CursorStep,
    NotificationRecords,
    TickRecords,
)

__all__ = [
    "AccountRecords",
    "AccountStore",
    "AlertRecords",
    "CashRecords",
    "ChangeColumns",
    "ChatRecords",
    "CheckpointRecords",
    "Columns",
    "CursorRecords",
    "CursorStep",
    "InstrumentStore",
    "JobRecords",
    "MemoryRecords",
    "NotificationRecords",
    "PositionStore",
    "PriceMark",
    "PriceMarks",
    "PriceReader",
    "RawReader",
    "Rows",
    "SplitRecords",
    "TickRecords",
    "UserRecords",
]
