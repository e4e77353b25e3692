"""The closed vocabularies of the original Alex database, as Literal types."""

from __future__ import annotations

from typing import Literal, get_args

Region = Literal[
    "north_america", "europe", "asia", "latin_america", "africa",
    "middle_east", "oceania", "global", "international",
]
AssetClass = Literal["equity", "fixed_income", "real_estate", "commodities", "cash", "alternatives"]
Sector = Literal[
    "technology", "healthcare", "financials", "consumer_discretionary", "consumer_staples",
    "industrials", "energy", "materials", "utilities", "real_estate", "communication",
    "treasury", "corporate", "mortgage", "government_related", "commodities",
    "diversified", "other",
]
InstrumentType = Literal["etf", "mutual_fund", "stock", "bond", "bond_fund", "commodity", "reit"]
JobType = Literal[
    "portfolio_analysis", "rebalance_recommendation", "retirement_projection",
    "risk_assessment", "tax_optimization", "instrument_research",
]
JobStatus = Literal["pending", "running", "completed", "failed"]
AccountType = Literal["401k", "roth_ira", "traditional_ira", "taxable", "529", "hsa", "pension", "other"]
TradeAction = Literal["BUY", "SELL", "TRANSFER_IN", "TRANSFER_OUT", "UPDATE"]

JOB_STATUSES: tuple[str, ...] = get_args(JobStatus)
JOB_TYPES: tuple[str, ...] = get_args(JobType)
INSTRUMENT_TYPES: tuple[str, ...] = get_args(InstrumentType)
TRADE_ACTIONS: tuple[str, ...] = get_args(TradeAction)

# pending -> running -> completed | failed; a pending job may also fail (cancelled before start).
# As the original Alex flow moves jobs: an agent may write a pending job's result directly (pending ->
# completed), and a redelivered SQS message starts a job again, after its worker failed or died mid-run
# (failed | running -> running, each start counted in the job's attempts).
JOB_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"running", "completed", "failed"}),
    "running": frozenset({"running", "completed", "failed"}),
    "completed": frozenset(),
    "failed": frozenset({"running"}),
}
