"""A capacity model of the DynamoDB design: a workload's peak load on each hot key, and its monthly bill.

DynamoDB serves at most 3,000 read and 1,000 write units a second on one partition (and an index
partition), and Kinesis 1,000 records a second on one shard. Whether a design holds at scale is a
question about its hottest keys: here, the ones a popular symbol (SPY), a population (all users) or a
status (all pending jobs) would gather. The model names each, says which operations reach it and how
often at the workload's peak, and multiplies by the units one call of each operation costs there. Those
units are not constants: `services/metering.py` measures them on DynamoDB Local (per table and index,
as DynamoDB reports them), and `alexdb capacity` reads the measured profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal

EVENTUAL_ITEM_READ = 0.5  # an eventually consistent read of an item under 4 KB
READ_LIMIT, WRITE_LIMIT, RECORD_LIMIT = 3000.0, 1000.0, 1000.0  # per partition / per Kinesis shard, a second
SECONDS_A_DAY, SECONDS_A_MONTH = 86_400.0, 2_592_000.0
SHARDS = 16  # Directory and JobQueue shards (adapters/dynamodb/keys.py)
OUTBOX_SHARDS = 128  # the delivery outbox's shards (adapters/dynamodb/deliveries.py): a burst's writes spread
MEASURED_RECORD_TRADES = 500  # the trades of the record the "tick" operation is measured with (metering.py)
TRADING_SECONDS = 6.5 * 3600  # a trading day: bars, cursors and ticks happen then
S3_TICKS = "S3 tick chunks (PUT requests)"  # a line of the bill that is not a DynamoDB table
S3_PUT_PRICE = Decimal(5)  # USD per million S3 Standard PUT requests

Units = tuple[float, float]
"""Read and write units of one call on one resource."""
Profile = Mapping[str, Mapping[str, Units]]
"""Operation -> resource ("users", "users/HoldersIndex", ...) -> units of one call, as measured."""


@dataclass(frozen=True)
class Workload:
    """What the users do. The defaults are the internet-scale scenario: a million users, SPY at its open."""

    users: int = 1_000_000
    accounts_per_user: int = 3
    holdings_per_account: int = 20
    views_per_user_per_day: float = 4.0
    series_per_user_per_day: float = 1.0
    trades_per_user_per_day: float = 0.2
    new_users_per_day: float = 10_000.0
    hot_holder_share: float = 0.5  # share of accounts that hold the hot symbol
    hot_trade_share: float = 0.05  # share of the users' trades that are in the hot symbol
    hot_trades_per_second: float = 5_000.0  # the market's trades of the hot symbol at the open
    hot_alerts: int = 200_000
    trigger_burst: float = 20_000.0  # the hot symbol's triggers recorded in one second
    sessions_per_day: float = 1_000_000.0
    messages_per_session: float = 20.0
    seconds_between_messages: float = 10.0  # within one conversation
    # The advisor as a LangGraph agent: each message is a few graph steps (model, tools, model), each step a
    # checkpoint of what changed; each message resumes the thread's latest checkpoint first.
    agent_steps_per_message: float = 3.0
    memories_written_per_session: float = 2.0  # long-term memories (the LangGraph store) a conversation keeps
    memory_searches_per_session: float = 1.0  # a conversation reads its user's memories once, at its start
    jobs_per_day: float = 200_000.0
    symbols: int = 10_000
    market_trades_per_day: float = 200_000_000.0  # every symbol's trades together
    market_trades_per_record: float = 20.0  # most symbols trade far less than SPY: small records
    triggers_per_day: float = 1_000_000.0
    spike: float = 10.0  # peak over the day's average rate (views, series, trades, messages, jobs, sign-ups)
    processes: int = 1_000  # API processes, each with its own hot-item cache (hot.py)
    price_cache_seconds: float = 5.0
    meta_cache_seconds: float = 60.0
    ingestors: int = 2  # ingest processes on the hot symbol's shard (parallelization factor)
    # Lambda batches a second per ingestor (the mapping's 1 s window); each ends by writing its symbols'
    # cursors and open bars (a frozen container keeps nothing for later).
    ingest_batches_per_second: float = 1.0
    alert_reload_seconds: float = 30.0
    ticks_per_record: float = 500.0  # trades of the hot symbol per producer record (100 ms at 5,000 a second)
    tick_shards: int = 4  # the tick stream's shards (on demand: at least 4); each batch of each is one S3 PUT

    def peak(self, per_day: float) -> float:
        """A daily total as a rate a second at the peak."""
        return per_day / SECONDS_A_DAY * self.spike


@dataclass(frozen=True)
class KeyLoad:
    """One hot key: its peak reads and writes a second (records for Kinesis) against its limits."""

    resource: str
    key: str
    reads: float
    writes: float
    read_limit: float = READ_LIMIT
    write_limit: float = WRITE_LIMIT
    why: str = ""

    @property
    def over(self) -> bool:
        """True when either rate is past its limit."""
        return self.reads > self.read_limit or self.writes > self.write_limit


@dataclass(frozen=True)
class CapacityPlan:
    """The hot keys and the month's read and write units and cost per table."""

    keys: list[KeyLoad]
    monthly: dict[str, Units]  # table -> (read units, write units) in a month; S3_TICKS: (0, PUT requests)
    costs: dict[str, Decimal]  # table (or S3_TICKS) -> USD


def _units(profile: Profile, operation: str, resource: str) -> Units:
    return tuple(profile.get(operation, {}).get(resource, (0.0, 0.0)))  # type: ignore[return-value]


def refresh_units(w: Workload) -> float:
    """Read units a second one process spends keeping one symbol's instrument items in its cache: PRICE and
    SPLITS once per price bound, META once per name bound, each an eventually consistent read of an item
    under 4 KB (half a unit; DynamoDB bills an absent item too)."""
    return EVENTUAL_ITEM_READ * (2 / w.price_cache_seconds + 1 / w.meta_cache_seconds)


def hot_keys(w: Workload, profile: Profile) -> list[KeyLoad]:
    """Every key the design concentrates load on, at the workload's peak."""

    def u(operation: str, resource: str) -> Units:
        return _units(profile, operation, resource)

    views = w.peak(w.users * w.views_per_user_per_day)
    series = w.peak(w.users * w.series_per_user_per_day)
    trades = w.peak(w.users * w.trades_per_user_per_day)
    hot_trades = trades * w.hot_trade_share
    held = w.accounts_per_user * w.hot_holder_share  # accounts of a user that hold the hot symbol
    uncached = views * held * u("view", "instruments")[0]
    cached = w.processes * refresh_units(w)
    ingest = w.ingestors * w.ingest_batches_per_second
    burst = w.trigger_burst
    jobs = w.peak(w.jobs_per_day)
    records = w.hot_trades_per_second / w.ticks_per_record
    return [
        KeyLoad("instruments", "SPY (META, PRICE, SPLITS, CURSOR, points)",
                min(uncached, cached) + hot_trades * u("trade", "instruments")[0]
                + ingest * (u("cursor", "instruments")[0] + u("bar", "instruments")[0]),
                ingest * (u("bar", "instruments")[1] + u("cursor", "instruments")[1]),
                why="views (cached per process), trades' split check, ingest cursors, the open bar"),
        KeyLoad("instruments", "SPY#M (daily closes)", series * held * u("series", "instruments")[0],
                ingest * u("bar", "instruments")[1] / 3,
                why="5-year daily series of the accounts holding SPY; the open bar's close"),
        KeyLoad("users/HoldersIndex", "HOLDING#SPY", 0.0, hot_trades * u("trade", "users/HoldersIndex")[1],
                why="every trade of SPY moves its holder's copy"),
        KeyLoad("users/Directory", "USERS#nn (one of 16)", 0.0,
                w.peak(w.new_users_per_day) * u("create_user", "users/Directory")[1] / SHARDS, why="sign-ups"),
        KeyLoad("users/JobQueue", "JOBS#<status>#nn (one of 16)", jobs * u("claim", "users/JobQueue")[0],
                jobs * u("job", "users/JobQueue")[1] / SHARDS,
                why="each claim reads every shard; a job's status changes write its shard"),
        KeyLoad("notifications/Outbox", f"OUTBOX#nnn (one of {OUTBOX_SHARDS})", 0.0,
                burst * u("trigger", "notifications/Outbox")[1] / OUTBOX_SHARDS,
                why="a burst of triggers: each pending delivery listed in the outbox index, then unlisted"),
        KeyLoad("alerts/AlertsBySymbol", "SPY",
                w.ingestors * w.hot_alerts * u("alert_load", "alerts/AlertsBySymbol")[0] / w.alert_reload_seconds,
                burst * u("trigger", "alerts/AlertsBySymbol")[1],
                why="ingestors reload SPY's alerts; triggers write no copy here"),
        KeyLoad("ticks", "SPY", 0.0, min(records, 2 * w.ingest_batches_per_second) * u("tick", "ticks")[1],
                why="SPY's trades at its open: per ingest batch an item for each 10 s span it covers (at most 2), "
                    "the trades in S3 (measured with 500 trades)"),
        KeyLoad("kinesis", "SPY's shard (records)", 0.0, records, read_limit=0.0, write_limit=RECORD_LIMIT,
                why="the producer's records: SPY's trades of each 100 ms as one"),
        KeyLoad("chat", "SESSION#<id>", 0.0, u("chat_append", "chat")[1] / w.seconds_between_messages,
                why="one conversation"),
        KeyLoad("chat/UserSessionsIndex", "USER#<id>", 0.0,
                u("chat_append", "chat/UserSessionsIndex")[1] / w.seconds_between_messages,
                why="one conversation's recency, coalesced to a minute"),
        KeyLoad("chat", "CKTHREAD#<user>#<thread>",
                u("agent_resume", "chat")[0] / w.seconds_between_messages,
                (u("agent_resume", "chat")[1] + w.agent_steps_per_message * u("agent_step", "chat")[1])
                / w.seconds_between_messages,
                why="one agent conversation: a resume and its steps' checkpoints per message"),
        KeyLoad("chat", "MEM#<user>", w.memory_searches_per_session * u("memory_search", "chat")[0],
                w.memories_written_per_session * u("memory_put", "chat")[1],
                why="one user's long-term memories, all of a conversation's reads and writes in its first second"),
        KeyLoad("users", "ACCOUNT#<id>", 0.0, max(1.0, trades / w.users * w.spike) * u("trade", "users")[1],
                why="one account's trades"),
    ]


def _average_calls(w: Workload) -> dict[str, float]:
    """Average calls a second of each operation over a day (trading work over the trading day's share)."""
    account_views = w.users * w.accounts_per_user / SECONDS_A_DAY
    return {
        "view": account_views * w.views_per_user_per_day,
        "series": account_views * w.series_per_user_per_day,
        "trade": w.users * w.trades_per_user_per_day / SECONDS_A_DAY,
        "chat_append": w.sessions_per_day * w.messages_per_session / SECONDS_A_DAY,
        "agent_resume": w.sessions_per_day * w.messages_per_session / SECONDS_A_DAY,
        "agent_step": w.sessions_per_day * w.messages_per_session * w.agent_steps_per_message / SECONDS_A_DAY,
        "memory_put": w.sessions_per_day * w.memories_written_per_session / SECONDS_A_DAY,
        "memory_search": w.sessions_per_day * w.memory_searches_per_session / SECONDS_A_DAY,
        "job": w.jobs_per_day / SECONDS_A_DAY,
        "claim": w.jobs_per_day / SECONDS_A_DAY,
        "create_user": w.new_users_per_day / SECONDS_A_DAY,
        "tick": w.market_trades_per_day / w.market_trades_per_record / SECONDS_A_DAY,
        # Each ticking symbol is in one ingest batch a second, which advances its cursor and writes its bar.
        "bar": w.symbols * TRADING_SECONDS / SECONDS_A_DAY,
        "cursor": w.symbols * TRADING_SECONDS / SECONDS_A_DAY,
        "trigger": w.triggers_per_day / SECONDS_A_DAY,
    }


def plan(w: Workload, profile: Profile, write_price: Decimal = Decimal("0.625"),
         read_price: Decimal = Decimal("0.125")) -> CapacityPlan:
    """The hot keys, and the month's units and on-demand cost per table (prices in USD per million units)."""
    monthly: dict[str, list[float]] = {}
    for operation, rate in _average_calls(w).items():
        for resource, (read, write) in profile.get(operation, {}).items():
            table = resource.split("/")[0]
            reads = rate * read
            if table == "instruments" and operation in ("view", "series"):
                reads *= w.holdings_per_account  # measured on one holding
            if operation == "tick":  # measured on a 500-trade record; a small record is still one unit
                write = max(1.0, write * w.market_trades_per_record / MEASURED_RECORD_TRADES)
            if table == "instruments" and operation == "view":
                # Through each process's cache of every symbol: whichever is fewer.
                reads = min(reads, w.processes * refresh_units(w) * w.symbols)
            totals = monthly.setdefault(table, [0.0, 0.0])
            totals[0] += reads * SECONDS_A_MONTH
            totals[1] += rate * write * SECONDS_A_MONTH
    units = {table: (read, write) for table, (read, write) in monthly.items()}
    costs = {table: (Decimal(round(read)) * read_price + Decimal(round(write)) * write_price) / 1_000_000
             for table, (read, write) in units.items()}
    # The tick archive's objects: a PUT per ingest batch of each shard while the market trades (GETs are
    # db.ticks.window's, not modelled; a day's chunks are stored a day or two, a few cents).
    puts = w.tick_shards * w.ingestors * w.ingest_batches_per_second * TRADING_SECONDS / SECONDS_A_DAY
    units[S3_TICKS] = (0.0, puts * SECONDS_A_MONTH)
    costs[S3_TICKS] = Decimal(round(puts * SECONDS_A_MONTH)) * S3_PUT_PRICE / 1_000_000
    return CapacityPlan(hot_keys(w, profile), units, costs)


def workload_fields() -> list[str]:
    """The workload's parameters (for the command line)."""
    return [f.name for f in fields(Workload)]
