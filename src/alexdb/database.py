"""The Database every entry point works with: one service per store over one backend's primitives."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from alexdb.domain.chat import DEFAULT_TTL
from alexdb.domain.paging import Cursors
from alexdb.ports import PriceMarks
from alexdb.services.accounts import AccountService
from alexdb.services.cash import CashService, LedgerReader
from alexdb.services.chat import ChatService
from alexdb.services.checkpoints import CheckpointService
from alexdb.services.instruments import InstrumentService
from alexdb.services.jobs import JobService
from alexdb.services.memories import MemoryService
from alexdb.services.performance import PerformanceService
from alexdb.services.positions import PositionService
from alexdb.services.speed import AlertService, NotificationService, TickService
from alexdb.services.sweep_inputs import SweepReader
from alexdb.services.users import UserService

if TYPE_CHECKING:
    from alexdb.ports import (
        AccountRecords,
        AlertRecords,
        CashRecords,
        ChatRecords,
        CheckpointRecords,
        CursorRecords,
        InstrumentStore,
        JobRecords,
        MemoryRecords,
        NotificationRecords,
        PositionStore,
        SplitRecords,
        TickRecords,
        UserRecords,
    )


class Backend(Protocol):
    """What a storage engine gives a Database: the primitives of every store and the schema's administration."""

    @property
    def backend(self) -> str:
        """The engine's name: sqlite, postgresql or dynamodb."""
        ...
    @property
    def url(self) -> str:
        """The URL the engine was opened with."""
        ...
    @property
    def users(self) -> UserRecords:
        """User primitives."""
        ...
    @property
    def accounts(self) -> AccountRecords:
        """Account primitives."""
        ...
    @property
    def instruments(self) -> InstrumentStore:
        """Instrument and price primitives."""
        ...
    @property
    def positions(self) -> PositionStore:
        """Position primitives."""
        ...
    @property
    def cash(self) -> CashRecords:
        """Cash ledger primitives."""
        ...
    @property
    def splits(self) -> SplitRecords:
        """Split primitives."""
        ...
    @property
    def jobs(self) -> JobRecords:
        """Job primitives."""
        ...
    @property
    def chat(self) -> ChatRecords:
        """Chat primitives."""
        ...
    @property
    def checkpoints(self) -> CheckpointRecords:
        """Agent checkpoint primitives."""
        ...
    @property
    def memories(self) -> MemoryRecords:
        """Long-term memory primitives."""
        ...
    @property
    def alerts(self) -> AlertRecords:
        """Alert primitives."""
        ...
    @property
    def cursors(self) -> CursorRecords:
        """Speed cursor primitives."""
        ...
    @property
    def ticks(self) -> TickRecords:
        """Tick primitives."""
        ...
    @property
    def notifications(self) -> NotificationRecords:
        """Notification primitives."""
        ...
    @property
    def memory(self) -> bool:
        """True when the data vanishes on close (in-memory SQLite)."""
        ...
    def migrate(self) -> str | None:
        """Create or bring the schema up to date; the version reached."""
        ...
    def drop_all(self) -> None:
        """Remove every table with everything in it."""
        ...
    def schema_version(self) -> str | None:
        """The schema version the database is at (None when it has none)."""
        ...
    def check_schema(self) -> None:
        """SchemaError, naming the command that fixes it, unless the schema is complete and current."""
        ...
    def counts(self) -> dict[str, int]:
        """Records per kind."""
        ...
    def close(self) -> None:
        """Release connections."""
        ...


class Database:
    """An alexdb database: users, accounts, instruments, positions, jobs, chat and the speed layer."""

    def __init__(self, engine: Backend, cursors: Cursors, chat_ttl: timedelta = DEFAULT_TTL) -> None:
        self.engine = engine
        self.users = UserService(engine.users, cursors)
        ledger = LedgerReader(engine.cash, engine.positions, cursors)
        self.cash = CashService(engine.cash, ledger, engine.accounts, engine.positions, engine.instruments, cursors)
        self.accounts = AccountService(engine.accounts, ledger, self.cash, cursors)
        self.instruments = InstrumentService(engine.instruments, engine.splits, cursors)
        marks = engine.instruments if isinstance(engine.instruments, PriceMarks) else None
        sweeps = SweepReader(engine.positions, ledger, engine.splits, self.instruments, marks)
        self.positions = PositionService(engine.positions, self.accounts, self.instruments, engine.splits, ledger,
                                         sweeps, cursors)
        self.performance = PerformanceService(self.positions, engine.positions, self.accounts)
        self.jobs = JobService(engine.jobs, cursors)
        self.chat = ChatService(engine.chat, cursors, chat_ttl)
        self.checkpoints = CheckpointService(engine.checkpoints)
        self.memories = MemoryService(engine.memories)
        self.alerts = AlertService(engine.alerts, engine.cursors, cursors)
        self.ticks = TickService(engine.ticks, cursors)
        self.notifications = NotificationService(engine.notifications, cursors)

    @property
    def backend(self) -> str:
        """The engine's name: sqlite, postgresql or dynamodb."""
        return self.engine.backend

    @property
    def url(self) -> str:
        """The URL this database was opened with."""
        return self.engine.url

    @property
    def memory(self) -> bool:
        """True for an in-memory SQLite database, which vanishes on close."""
        return self.engine.memory

    def migrate(self) -> str | None:
        """Create or bring the schema up to date (SQL migrations; DynamoDB tables); the version reached."""
        return self.engine.migrate()

    def drop_all(self) -> None:
        """Remove every table with everything in it (for reset)."""
        self.engine.drop_all()

    def schema_version(self) -> str | None:
        """The schema version the database is at (None when it has none)."""
        return self.engine.schema_version()

    def check_schema(self) -> None:
        """SchemaError, naming the command that fixes it, unless the schema is complete and current."""
        self.engine.check_schema()

    def counts(self) -> dict[str, int]:
        """Records per kind (administration and tests: it reads every table)."""
        return self.engine.counts()

    def close(self) -> None:
        """Release every connection."""
        self.engine.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return repr(self.engine)
