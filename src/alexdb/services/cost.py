"""Monthly cost of a workload on DynamoDB on-demand, next to Aurora Serverless v2.

Request units per operation follow AWS's billing rules for this package's item design (docs/dynamodb.md):
a standard write is 1 WRU per KB per item and per index copy, a transactional write 2 WRU, a strongly
consistent read 1 RRU per 4 KB. benchmarks/dynamodb_cost measures the same operations on DynamoDB Local.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

MILLION = Decimal(1_000_000)
HOURS_PER_MONTH = Decimal(730)

# (read units, write units) of one operation.
TRADE = (Decimal(1), Decimal(8))  # GetItem CURRENT; transaction: account check, CURRENT, HISTORY (+ its LSI copy)
PRICE_UPDATE = (Decimal(0), Decimal(2))  # record_prices: the point (batch write) and the PRICE item
JOB = (Decimal(8), Decimal(75))  # create, claim, four agent payloads of ~1 KB, complete (GSI copies included)


def view_units(holdings: int) -> Decimal:
    """Reads of one portfolio view: account, CURRENT query, instrument META + PRICE per holding, and a
    valuation (a quantity query and a price query per holding)."""
    return Decimal(1 + 1 + 2 * holdings + 1 + 1 + 2 * holdings)


@dataclass(frozen=True)
class Prices:
    """On-demand prices in USD (us-east-1 list prices; every one is an option of `alexdb cost`)."""

    write_per_million: Decimal = Decimal("0.625")
    read_per_million: Decimal = Decimal("0.125")
    storage_per_gb_month: Decimal = Decimal("0.25")
    pitr_per_gb_month: Decimal = Decimal("0.20")
    acu_hour: Decimal = Decimal("0.12")


@dataclass(frozen=True)
class Workload:
    """What the application does in a month."""

    users: int = 0
    accounts_per_user: int = 3
    holdings_per_account: int = 5
    trades_per_day: int = 0
    instruments: int = 0
    price_updates_per_day: int = 0  # per instrument
    portfolio_views_per_user_per_day: int = 0
    jobs_per_day: int = 0
    days: int = 30
    storage_gb: Decimal = Decimal(0)
    pitr: bool = True


@dataclass(frozen=True)
class Estimate:
    """A month on DynamoDB and the Aurora Serverless v2 floor it replaces."""

    read_units: Decimal
    write_units: Decimal
    reads: Decimal
    writes: Decimal
    storage: Decimal
    pitr: Decimal
    total: Decimal
    aurora: Decimal
    lines: list[tuple[str, Decimal, Decimal]]  # (what, read units, write units)


def estimate(workload: Workload, prices: Prices = Prices(), min_acu: Decimal = Decimal("0.5")) -> Estimate:
    """The monthly bill of workload, itemised."""
    days = Decimal(workload.days)
    lines = [
        ("trades", TRADE[0] * workload.trades_per_day * days, TRADE[1] * workload.trades_per_day * days),
        ("price updates", Decimal(0),
         PRICE_UPDATE[1] * workload.instruments * workload.price_updates_per_day * days),
        ("portfolio views", view_units(workload.holdings_per_account) * workload.users
         * workload.accounts_per_user * workload.portfolio_views_per_user_per_day * days, Decimal(0)),
        ("analysis jobs", JOB[0] * workload.jobs_per_day * days, JOB[1] * workload.jobs_per_day * days),
    ]
    read_units = sum((line[1] for line in lines), Decimal(0))
    write_units = sum((line[2] for line in lines), Decimal(0))
    reads = read_units / MILLION * prices.read_per_million
    writes = write_units / MILLION * prices.write_per_million
    storage = workload.storage_gb * prices.storage_per_gb_month
    pitr = workload.storage_gb * prices.pitr_per_gb_month if workload.pitr else Decimal(0)
    total = reads + writes + storage + pitr
    aurora = min_acu * prices.acu_hour * HOURS_PER_MONTH
    return Estimate(read_units, write_units, cents(reads), cents(writes), cents(storage), cents(pitr),
                    cents(total), cents(aurora), lines)


def cents(value: Decimal) -> Decimal:
    """Rounded to a tenth of a cent: small bills stay visible."""
    return value.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
