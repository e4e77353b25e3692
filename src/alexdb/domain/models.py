"""Pydantic models of the portfolio store: what callers pass in and get back."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from alexdb.domain.errors import ValidationError
from alexdb.domain.numbers import (
    Holding,
    Money,
    Percent,
    Price,
    Rate,
    WholeNumber,
    check_allocation,
    digits,
    exact_decimal,
)
from alexdb.domain.vocabulary import (
    AccountType,
    AssetClass,
    InstrumentType,
    JobStatus,
    JobType,
    Region,
    Sector,
    TradeAction,
)

# '#' is the key delimiter of the DynamoDB design, so it may never appear inside an id.
ClerkUserId = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\s#]+$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Text = Annotated[str, StringConstraints(max_length=10_000)]
SYMBOL_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9.\-^=/]{0,19}$")


SYMBOL_RULE = "a symbol is 1-20 letters, digits or . - ^ = /"


def _symbol(value: str) -> str:
    if not isinstance(value, str) or not SYMBOL_PATTERN.fullmatch(value.strip().upper()):
        raise ValueError(SYMBOL_RULE)
    return value.strip().upper()


def normalise_symbol(value: Any, field: str = "symbol") -> str:
    """A symbol as stored (upper case); a malformed one is a ValidationError naming field."""
    try:
        return _symbol(value)
    except ValueError as exc:
        raise ValidationError(field, value, SYMBOL_RULE) from exc


Symbol = Annotated[str, AfterValidator(_symbol)]


def _alloc(name: str) -> AfterValidator:
    return AfterValidator(lambda value: check_allocation(name, value))


RegionAllocation = Annotated[dict[Region, Percent], _alloc("regions")]
SectorAllocation = Annotated[dict[Sector, Percent], _alloc("sectors")]
AssetClassAllocation = Annotated[dict[AssetClass, Percent], _alloc("asset classes")]


def clean_text(value: Any) -> Any:
    """value, if every text in it can be stored as given on every backend: no NUL (PostgreSQL refuses it)
    and no lone surrogate (not UTF-8: no driver can send it). ValueError otherwise."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("contains a NUL character")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValueError("contains a lone surrogate (not valid Unicode text)") from exc
    elif isinstance(value, list | tuple):
        for item in value:
            clean_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            clean_text(key)
            clean_text(item)
    return value


def user_key(value: Any, field: str = "user_id") -> str:
    """A user id as every lookup takes it (the ClerkUserId rules), or a ValidationError naming field.

    Checked before any read, so a malformed id is the same 422 on every backend (PostgreSQL would
    refuse a NUL where SQLite finds nothing).
    """
    if not isinstance(value, str) or not 0 < len(value) <= 255 or "#" in value or any(c.isspace() for c in value):
        raise ValidationError(field, value, "a user id is 1-255 characters without spaces or '#'")
    try:
        return clean_text(value)  # type: ignore[no-any-return]
    except ValueError as exc:
        raise ValidationError(field, value, str(exc)) from exc


class Record(BaseModel):
    """Base of every model: strict about unknown fields, immutable once built, text storable everywhere."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        return clean_text(value)


class NewUser(Record):
    """The fields a user is created with."""

    clerk_user_id: ClerkUserId
    display_name: Name | None = None
    years_until_retirement: Annotated[WholeNumber, Field(ge=0, le=100)] | None = None
    target_retirement_income: Money | None = None
    asset_class_targets: AssetClassAllocation = Field(
        default_factory=lambda: {"equity": Decimal(70), "fixed_income": Decimal(30)}  # type: ignore[arg-type]
    )
    region_targets: RegionAllocation = Field(
        default_factory=lambda: {"north_america": Decimal(50), "international": Decimal(50)}  # type: ignore[arg-type]
    )


class User(NewUser):
    """A stored user."""

    created_at: AwareDatetime
    updated_at: AwareDatetime


class NewInstrument(Record):
    """The fields an instrument is created with."""

    symbol: Symbol
    name: Name
    instrument_type: InstrumentType
    current_price: Price | None = None
    allocation_regions: RegionAllocation
    allocation_sectors: SectorAllocation
    allocation_asset_class: AssetClassAllocation


class Instrument(NewInstrument):
    """A stored instrument; current_price is always its newest recorded price."""

    current_price_at: AwareDatetime | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class PricePoint(Record):
    """One price of one instrument at one instant."""

    symbol: Symbol
    price: Price
    at: AwareDatetime


class NewAccount(Record):
    """The fields an account is created with."""

    clerk_user_id: ClerkUserId
    account_name: Name
    account_purpose: Text | None = None
    cash_balance: Money = Decimal(0)
    cash_interest: Rate = Decimal(0)
    account_type: AccountType | None = None


class Account(NewAccount):
    """A stored investment account."""

    cash_balance: Annotated[Decimal, BeforeValidator(exact_decimal), digits(18, 2)] = Decimal(0)
    """The ledger's balance now: deposits, income and sales less withdrawals, fees, taxes and purchases."""
    id: uuid.UUID
    created_at: AwareDatetime
    updated_at: AwareDatetime


def new_account(fields: dict[str, Any]) -> Account:
    """A validated new account with a time-ordered id, created now."""
    # Imported here: validate imports this module, so a module-level import would be circular.
    from alexdb.domain.ids import new_id
    from alexdb.domain.instants import utcnow
    from alexdb.domain.validate import build

    now = utcnow()
    return Account(**build(NewAccount, fields).model_dump(), id=new_id(), created_at=now, updated_at=now)


class Position(Record):
    """A current holding, joined with what the instrument says about it."""

    account_id: uuid.UUID
    symbol: Symbol
    quantity: Holding
    updated_at: AwareDatetime
    instrument_name: str
    instrument_type: InstrumentType
    current_price: Price | None = None
    cost_basis: Decimal | None = None
    """What the holding cost in all (average cost, fees included); None when some of it was never priced."""

    @property
    def value(self) -> Decimal | None:
        """Quantity times current price, or None when the instrument has no price."""
        return None if self.current_price is None else self.quantity * self.current_price

    @property
    def unrealized_gain(self) -> Decimal | None:
        """Value less cost basis, or None when either is unknown."""
        value = self.value
        return None if value is None or self.cost_basis is None else value - self.cost_basis


class PositionChange(Record):
    """One entry of a position's audit trail."""

    account_id: uuid.UUID
    symbol: Symbol
    action: TradeAction
    delta: Decimal
    quantity_after: Holding
    at: AwareDatetime
    price: Price | None = None
    seq: WholeNumber
    fee: Money | None = None
    cash_after: Decimal = Decimal(0)
    """The cumulative cash this symbol's trades moved, up to and including this one."""
    cost_after: Decimal | None = None
    """The holding's total cost after this change (average cost; None: unknown)."""


class NewJob(Record):
    """The fields a job is created with."""

    clerk_user_id: ClerkUserId
    job_type: JobType
    request_payload: dict[str, Any] | None = None


class Job(NewJob):
    """A stored analysis job with one result payload per agent."""

    id: uuid.UUID
    status: JobStatus
    report_payload: dict[str, Any] | None = None
    charts_payload: dict[str, Any] | None = None
    retirement_payload: dict[str, Any] | None = None
    summary_payload: dict[str, Any] | None = None
    error_message: str | None = None
    created_at: AwareDatetime
    started_at: AwareDatetime | None = None
    completed_at: AwareDatetime | None = None
    updated_at: AwareDatetime
    attempts: WholeNumber = 0
    """How many times the job was started (a redelivered message starts a failed or stalled job again)."""


class HoldingValue(Record):
    """One priced holding inside a valuation."""

    symbol: str
    quantity: Decimal
    price: Decimal
    price_at: datetime
    value: Decimal
    cost_basis: Decimal | None = None
    """What the holding cost in all (average cost, fees included); None when some of it was never priced."""
    unrealized_gain: Decimal | None = None


class UnpricedHolding(Record):
    """A holding with no price at or before the valuation instant: listed, never counted as 0."""

    symbol: str
    quantity: Decimal
    cost_basis: Decimal | None = None


class AccountValuation(Record):
    """What an account was worth at an instant."""

    account_id: uuid.UUID
    at: datetime
    cash: Decimal
    holdings_value: Decimal
    total: Decimal
    holdings: list[HoldingValue]
    unpriced: list[UnpricedHolding]

    @property
    def complete(self) -> bool:
        """True when every holding had a price."""
        return not self.unpriced


class UserValuation(Record):
    """What all of a user's accounts were worth at an instant."""

    clerk_user_id: str
    at: datetime
    total: Decimal
    accounts: list[AccountValuation]


class ValuePoint(Record):
    """One step of a value series."""

    at: datetime
    cash: Decimal
    holdings_value: Decimal
    total: Decimal
    unpriced: list[str]
    contributions: Decimal = Decimal(0)
    """Deposits less withdrawals up to this point: the money put in."""
