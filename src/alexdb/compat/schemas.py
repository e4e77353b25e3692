"""The original Alex package's Pydantic schemas: the same names, fields, types, vocabularies and checks.

They serve its callers as both validation and LLM tool schemas, so they keep the original's float
allocations; alexdb.compat reads every float by its shortest text when it stores one.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field, field_validator

from alexdb.domain.vocabulary import AccountType, AssetClass, InstrumentType, JobStatus, JobType, Region, Sector

RegionType = Region
AssetClassType = AssetClass
SectorType = Sector

# The original allows this much float error when allocations are summed.
SUM_TOLERANCE = 0.05


def _sums_to_100(value: dict[Any, float], what: str = "Allocations") -> dict[Any, float]:
    total = sum(value.values())
    if abs(total - 100) > SUM_TOLERANCE:
        raise ValueError(f"{what} must sum to 100, got {total}")
    return value


class RegionAllocation(BaseModel):
    """Geographic allocation of an instrument (percentages summing to 100)."""

    allocations: dict[RegionType, float] = Field(description="Percentage by geographic region. Must sum to 100.")

    @field_validator("allocations")
    @classmethod
    def _sum(cls, value: dict[Any, float]) -> dict[Any, float]:
        return _sums_to_100(value, "Region allocations")


class AssetClassAllocation(BaseModel):
    """Asset class allocation of an instrument (percentages summing to 100)."""

    allocations: dict[AssetClassType, float] = Field(description="Percentage by asset class. Must sum to 100.")

    @field_validator("allocations")
    @classmethod
    def _sum(cls, value: dict[Any, float]) -> dict[Any, float]:
        return _sums_to_100(value, "Asset class allocations")


class SectorAllocation(BaseModel):
    """Sector allocation of an instrument (percentages summing to 100)."""

    allocations: dict[SectorType, float] = Field(description="Percentage by market sector. Must sum to 100.")

    @field_validator("allocations")
    @classmethod
    def _sum(cls, value: dict[Any, float]) -> dict[Any, float]:
        return _sums_to_100(value, "Sector allocations")


class InstrumentCreate(BaseModel):
    """A new instrument, as an LLM tool or the API gives it."""

    symbol: str = Field(description="Ticker symbol (e.g. 'SPY')", min_length=1, max_length=20)
    name: str = Field(description="Full name of the instrument", min_length=1, max_length=255)
    instrument_type: InstrumentType = Field(description="The type of financial instrument")
    current_price: Decimal | None = Field(None, description="Current price (0 means not priced yet)", ge=0,
                                          le=999999)
    allocation_regions: dict[RegionType, float] = Field(description="Percentage by region. Must sum to 100.")
    allocation_sectors: dict[SectorType, float] = Field(description="Percentage by sector. Must sum to 100.")
    allocation_asset_class: dict[AssetClassType, float] = Field(
        description="Percentage by asset class. Must sum to 100.")

    @field_validator("allocation_regions", "allocation_sectors", "allocation_asset_class")
    @classmethod
    def _allocations(cls, value: dict[Any, float]) -> dict[Any, float]:
        if not value:
            raise ValueError("Allocation cannot be empty")
        return _sums_to_100(value)


class InstrumentResponse(InstrumentCreate):
    """An instrument as stored."""

    created_at: datetime
    updated_at: datetime


def _asset_class_targets() -> dict[AssetClassType, float]:
    return {"equity": 70.0, "fixed_income": 30.0}


def _region_targets() -> dict[RegionType, float]:
    return {"north_america": 50.0, "international": 50.0}


class UserCreate(BaseModel):
    """A new user."""

    clerk_user_id: str = Field(description="Unique identifier from Clerk authentication")
    display_name: str | None = Field(None, description="User's display name", max_length=255)
    years_until_retirement: int | None = Field(None, description="Years until retirement", ge=0, le=100)
    target_retirement_income: Decimal | None = Field(None, description="Annual income goal in retirement",
                                                     ge=0, decimal_places=2)
    asset_class_targets: dict[AssetClassType, float] | None = Field(
        default_factory=_asset_class_targets, description="Target asset class percentages (sum 100).")
    region_targets: dict[RegionType, float] | None = Field(
        default_factory=_region_targets, description="Target region percentages (sum 100).")


class AccountCreate(BaseModel):
    """A new account (its user comes from the caller)."""

    account_name: str = Field(description="Name of the account (e.g. 'Roth IRA')", min_length=1, max_length=255)
    account_purpose: str | None = Field(None, description="Purpose or goal of this account")
    cash_balance: Decimal = Field(default=Decimal("0"), description="Uninvested cash", ge=0, decimal_places=2)
    cash_interest: Decimal = Field(default=Decimal("0"), description="Annual interest rate on cash (0.045 = 4.5%)",
                                   ge=0, le=1, decimal_places=4)


class PositionCreate(BaseModel):
    """A holding to set in an account."""

    account_id: str = Field(description="UUID of the account holding this position")
    symbol: str = Field(description="Ticker symbol of the instrument", min_length=1, max_length=20)
    quantity: Decimal = Field(description="Number of shares (fractional allowed)", gt=0, decimal_places=8)
    as_of_date: date | None = Field(default_factory=date.today, description="Date of this position snapshot")


class JobCreate(BaseModel):
    """A new analysis job."""

    clerk_user_id: str = Field(description="User requesting this job")
    job_type: JobType = Field(description="Type of analysis to perform")
    request_payload: dict[str, Any] | None = Field(None, description="Input parameters for the job")


class JobUpdate(BaseModel):
    """A job's new status, with its result or error."""

    status: JobStatus = Field(description="Current status of the job")
    result_payload: dict[str, Any] | None = Field(None, description="Results of the completed job")
    error_message: str | None = Field(None, description="Error details if the job failed")


class PortfolioAnalysis(BaseModel):
    """A portfolio analysis, as an LLM returns it."""

    total_value: Decimal = Field(description="Total portfolio value in dollars", decimal_places=2)
    asset_allocation: dict[AssetClassType, float] = Field(description="Current asset class percentages")
    region_allocation: dict[RegionType, float] = Field(description="Current region percentages")
    sector_allocation: dict[SectorType, float] = Field(description="Current sector percentages")
    risk_score: int = Field(description="Risk from 1 (conservative) to 10 (aggressive)", ge=1, le=10)
    recommendations: list[str] = Field(description="Actionable recommendations for the portfolio")


class RebalanceRecommendation(BaseModel):
    """Trades that rebalance a portfolio, as an LLM returns them."""

    current_allocation: dict[str, float] = Field(description="Current allocation by symbol")
    target_allocation: dict[str, float] = Field(description="Recommended allocation by symbol")
    trades: list[dict[str, Any]] = Field(description="Trades needed, e.g. {'symbol', 'action', 'quantity'}")
    rationale: str = Field(description="Why these changes are recommended")


__all__ = [
    "AccountCreate", "AccountType", "AssetClassAllocation", "AssetClassType", "InstrumentCreate",
    "InstrumentResponse", "InstrumentType", "JobCreate", "JobStatus", "JobType", "JobUpdate",
    "PortfolioAnalysis", "PositionCreate", "RebalanceRecommendation", "RegionAllocation", "RegionType",
    "SectorAllocation", "SectorType", "UserCreate",
]
