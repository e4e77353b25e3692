"""The capacity model's per-operation figures, measured: each operation run once on a DynamoDB database and
the units DynamoDB reported, per table and index (domain/capacity.py says what each operation stands for).

Reads are measured strongly consistent with the hot-item cache off, so they are what one uncached call
costs; the model applies the cache's bound itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from alexdb.domain.alerts import Trigger
from alexdb.domain.capacity import MEASURED_RECORD_TRADES, Units
from alexdb.domain.checkpoints import BlobRow, CheckpointRow, Typed, WriteRow
from alexdb.domain.speed_state import Advance, SymbolCursor, pending

if TYPE_CHECKING:
    from alexdb.database import Database

START = datetime(2020, 1, 1, tzinfo=UTC)
YEARS = 5
ALERTS = 50
APPENDS = 10
AGENT_STEPS = 10
MEMORIES = 10
THREAD = "advice-1"


class Metered(Protocol):
    """What metering reads of a DynamoDB engine: its meter and its tables' names by role."""

    @property
    def meter(self) -> Any:
        """Units per table and index (adapters/dynamodb/client.Meter)."""
        ...

    @property
    def config(self) -> Any:
        """Table names by role (adapters/dynamodb/config.DynamoConfig)."""
        ...


def _instrument(symbol: str) -> dict[str, Any]:
    return {"symbol": symbol, "name": f"{symbol} Total Market ETF", "instrument_type": "etf",
            "allocation_regions": {"north_america": 100}, "allocation_sectors": {"technology": 100},
            "allocation_asset_class": {"equity": 100}}


class Profiler:
    """Runs operations on a database and keeps the units of each by resource ("users/HoldersIndex")."""

    def __init__(self, db: Database, engine: Metered) -> None:
        self.db, self._engine = db, engine
        self._roles = {name: role for role, name in engine.config.table_names().items()}
        self.profile: dict[str, dict[str, Units]] = {}

    def measure(self, operation: str, call: Callable[[], Any], calls: int = 1) -> Any:
        """Run call, and record the units it cost divided by calls (the calls it stands for)."""
        meter = self._engine.meter
        meter.reset()
        result = call()
        units: dict[str, Units] = {}
        for resource, (read, write) in dict(meter.by_resource).items():
            table, _, index = resource.partition("/")
            name = self._roles.get(table, table) + (f"/{index}" if index else "")
            units[name] = (round(read / calls, 3), round(write / calls, 3))
        self.profile[operation] = units
        return result


def measure_profile(db: Database, engine: Metered) -> dict[str, dict[str, Units]]:
    """Every operation of the capacity model, measured once (on fresh tables with the cache off)."""
    p = Profiler(db, engine)
    p.measure("create_user", lambda: db.users.create_user("meter_user", "Meter User"))
    db.instruments.create_instrument(_instrument("SPY"))
    days = YEARS * 365 + 1
    db.instruments.record_prices([("SPY", f"{100 + d % 50}.25", START + timedelta(days=d, hours=21))
                                  for d in range(days)])
    account = db.accounts.create_account("meter_user", "401(k)")
    db.positions.record_trade(account.id, "SPY", "BUY", 10, at=START + timedelta(hours=22), price="100.25")
    p.measure("view", lambda: db.positions.find_by_account(account.id))
    end = START + timedelta(days=days)
    p.measure("series", lambda: db.positions.get_value_series(account.id, START, end, timedelta(days=1)))
    p.measure("trade", lambda: db.positions.record_trade(account.id, "SPY", "BUY", 1, price="150.25"))
    p.measure("bar", lambda: db.instruments.record_prices([("SPY", "151.5", datetime.now(UTC))]))
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    # One producer record: SPY's trades of 100 ms at its open (500), stored by one ingest batch (within
    # one second: a record across a second's boundary is two items).
    second = (now_ms // 1000 - 2) * 1000
    p.measure("tick", lambda: db.ticks.record_ticks([
        {"symbol": "SPY", "price": f"{151 + n % 37 / 100:.2f}", "volume": 1 + n % 300,
         "timestamp": second + n // 5, "source": "sip"} for n in range(MEASURED_RECORD_TRADES)]))

    def step(symbol: str, cursor: SymbolCursor | None) -> Advance:
        return Advance(SymbolCursor(symbol=symbol, applied_ms=now_ms, minute=now_ms // 60_000 * 60_000,
                                    open=Decimal("151.5"), high=Decimal("151.5"), low=Decimal("151.5"),
                                    close=Decimal("151.5"), writer="meter"), [], [])

    p.measure("cursor", lambda: db.alerts.advance(["SPY"], step))
    alerts = [db.alerts.create_alert(f"u{n}", "SPY", {"operator": ">", "threshold": "100"}) for n in range(ALERTS)]
    p.measure("alert_load", lambda: list(db.alerts.settings_for_symbol("SPY")), calls=ALERTS)
    trigger = Trigger(alert_id=alerts[0].alert_id, user_id="u0", symbol="SPY", price=Decimal("151.5"),
                      threshold=Decimal("100"), price_type="close", notification_method="webhook", timestamp=now_ms)

    def trigger_and_settle() -> None:
        [recorded] = db.alerts.record_pending([pending(trigger, uuid.uuid4(), 0, datetime.now(UTC))])
        db.notifications.settle(recorded, "sent", "200")

    p.measure("trigger", trigger_and_settle)
    session = db.chat.create_session("meter_user", "Planning")

    def appends() -> None:
        for n in range(APPENDS):
            db.chat.add_message(session.id, "user" if n % 2 == 0 else "assistant", "How am I doing? " * 20,
                                user_id="meter_user")

    p.measure("chat_append", appends, calls=APPENDS)
    _measure_agent(p, db)

    def job_lifecycle() -> None:
        job = db.jobs.create_job("meter_user", "portfolio_analysis", {"request": "x" * 500})
        claimed = db.jobs.claim_next()
        assert claimed is not None and claimed.id == job.id
        for update in (db.jobs.update_report, db.jobs.update_charts, db.jobs.update_retirement,
                       db.jobs.update_summary):
            update(job.id, {"markdown": "y" * 5000})
        db.jobs.update_status(job.id, "completed")

    p.measure("job", job_lifecycle)
    db.jobs.create_job("meter_user", "portfolio_analysis", {"request": "x" * 500})
    p.measure("claim", db.jobs.claim_next)
    return p.profile


def _step(n: int) -> tuple[CheckpointRow, list[BlobRow], list[WriteRow]]:
    """Step n of an agent thread: its checkpoint, the messages channel grown by one 500-byte message, and
    the step's two pending writes."""
    checkpoint_id, parent = f"1ef{n:029d}", f"1ef{n - 1:029d}" if n else None
    versions = {"messages": f"{n:032d}.0", "__start__": f"{0:032d}.0", "route": f"{n // 2:032d}.0"}
    row = CheckpointRow(THREAD, "", checkpoint_id, parent, Typed("msgpack", b"c" * 600),
                        Typed("msgpack", b"m" * 200), "run-1", versions)
    messages = b"".join(f"message {i:04d} ".encode() * 38 for i in range(n + 1))
    blobs = [BlobRow(THREAD, "", "messages", versions["messages"], Typed("msgpack", messages))]
    if n % 2 == 0:
        blobs.append(BlobRow(THREAD, "", "route", versions["route"], Typed("msgpack", b"tools")))
    writes = [WriteRow(THREAD, "", checkpoint_id, f"task-{n}", idx, "messages", Typed("msgpack", b"w" * 500), "")
              for idx in range(2)]
    return row, blobs, writes


def _measure_agent(p: Profiler, db: Database) -> None:
    """A LangGraph advisor's memory: a step of a thread ten steps in, resuming it, and long-term memories."""
    for n in range(AGENT_STEPS):
        row, blobs, writes = _step(n)
        db.checkpoints.put("meter_user", row, blobs)
        db.checkpoints.put_writes("meter_user", writes, replace=False)

    def step() -> None:
        row, blobs, writes = _step(AGENT_STEPS)
        db.checkpoints.put("meter_user", row, blobs)
        db.checkpoints.put_writes("meter_user", writes, replace=False)

    p.measure("agent_step", step)
    p.measure("agent_resume", lambda: db.checkpoints.snapshot("meter_user", THREAD, "", None))
    for n in range(MEMORIES):
        db.memories.put("meter_user", ("memories", "meter_user"), f"fact-{n}", {"text": "Prefers index funds. " * 10})
    p.measure("memory_put", lambda: db.memories.put("meter_user", ("memories", "meter_user"), "fact-new",
                                                     {"text": "Retires at 60. " * 15}))
    p.measure("memory_search", lambda: db.memories.search("meter_user", ("memories",), limit=10))


def as_json(profile: Mapping[str, Mapping[str, Units]]) -> dict[str, dict[str, list[float]]]:
    """The profile as JSON data (units as [read, write])."""
    return {operation: {resource: list(units) for resource, units in sorted(resources.items())}
            for operation, resources in sorted(profile.items())}
