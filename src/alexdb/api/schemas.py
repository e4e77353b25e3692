"""What the HTTP service documents in its OpenAPI schema: request bodies and the one error body.

Bodies are parsed by the service itself (every JSON number with a fraction read as an exact Decimal,
which FastAPI's own parsing would turn into a float); these models describe them, so a client or a
fuzzer knows every field, and the domain validates them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from alexdb.domain.alerts import Condition, ConditionType, NotificationMethod
from alexdb.domain.models import Symbol


class ErrorBody(BaseModel):
    """Every refusal: the error's kind and message; for bad input, the field, the value and the reason."""

    error: str
    message: str
    field: str | None = None
    value: Any = None
    reason: str | None = None


class NewAlertBody(BaseModel):
    """POST /users/{user_id}/alerts."""

    model_config = ConfigDict(extra="forbid")

    symbol: Symbol
    condition: Condition
    condition_type: ConditionType | None = None
    notification_method: NotificationMethod = "websocket"
    enabled: bool = True
    cooldown_seconds: int = Field(0, ge=0, le=86_400 * 30)


class AlertChangesBody(BaseModel):
    """PATCH /alerts/{alert_id}: the settings to change."""

    model_config = ConfigDict(extra="forbid")

    condition: Condition | None = None
    condition_type: ConditionType | None = None
    notification_method: NotificationMethod | None = None
    enabled: bool | None = None
    cooldown_seconds: int | None = Field(None, ge=0, le=86_400 * 30)


class TickBody(BaseModel):
    """One tick of POST /ticks: epoch milliseconds, a price as a JSON number or a decimal string."""

    symbol: Symbol
    price: str | float = Field(description="exact: a decimal string, or a JSON number (read as a Decimal)")
    timestamp: int = Field(description="epoch milliseconds")
    volume: str | float | None = None
    source: str | None = Field(None, max_length=50)


def request_body(model: type[BaseModel] | Any, components: dict[str, Any]) -> dict[str, Any]:
    """openapi_extra for a route whose JSON body model describes; its nested schemas go to components."""
    from pydantic import TypeAdapter

    schema = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


Exact = str | float | int
"""A number in a body: a decimal string, or a JSON number (read as an exact Decimal, never a float)."""
Instant = str
"""An instant: ISO-8601 date or datetime (a date means the end of that UTC day)."""


class Body(BaseModel):
    """A request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class NewUserBody(Body):
    """POST /v1/users."""

    clerk_user_id: str
    display_name: str | None = None
    years_until_retirement: int | None = None
    target_retirement_income: Exact | None = None
    asset_class_targets: dict[str, Exact] | None = None
    region_targets: dict[str, Exact] | None = None


class UserChangesBody(Body):
    """PATCH /v1/users/{user_id}."""

    display_name: str | None = None
    years_until_retirement: int | None = None
    target_retirement_income: Exact | None = None
    asset_class_targets: dict[str, Exact] | None = None
    region_targets: dict[str, Exact] | None = None


class NewAccountBody(Body):
    """POST /v1/users/{user_id}/accounts; cash_balance is recorded as the opening deposit."""

    account_name: str
    account_purpose: str | None = None
    cash_balance: Exact = "0"
    cash_interest: Exact = "0"
    account_type: str | None = None


class AccountChangesBody(Body):
    """PATCH /v1/accounts/{account_id}; a new cash_balance is recorded as an adjustment."""

    account_name: str | None = None
    account_purpose: str | None = None
    cash_balance: Exact | None = None
    cash_interest: Exact | None = None
    account_type: str | None = None


class NewInstrumentBody(Body):
    """POST /v1/instruments."""

    symbol: str
    name: str
    instrument_type: str
    current_price: Exact | None = None
    allocation_regions: dict[str, Exact]
    allocation_sectors: dict[str, Exact]
    allocation_asset_class: dict[str, Exact]


class InstrumentChangesBody(Body):
    """PATCH /v1/instruments/{symbol}: the description (prices go to /prices)."""

    name: str | None = None
    instrument_type: str | None = None
    allocation_regions: dict[str, Exact] | None = None
    allocation_sectors: dict[str, Exact] | None = None
    allocation_asset_class: dict[str, Exact] | None = None


class PriceBody(Body):
    """POST /v1/instruments/{symbol}/prices."""

    price: Exact
    at: Instant | None = None


class SplitBody(Body):
    """POST /v1/instruments/{symbol}/splits: numerator new shares for every denominator old ones."""

    numerator: int
    denominator: int
    at: Instant
    name: str | None = None


class TradeBody(Body):
    """POST /v1/accounts/{account_id}/trades: with a price, cash moves in the same transaction."""

    symbol: str
    action: str = Field(description="BUY, SELL, TRANSFER_IN or TRANSFER_OUT")
    quantity: Exact
    at: Instant | None = None
    price: Exact | None = None
    fee: Exact | None = None


class HoldingBody(Body):
    """PUT /v1/accounts/{account_id}/positions/{symbol}: set the held quantity (no cash moves)."""

    quantity: Exact
    action: str = "UPDATE"
    at: Instant | None = None


class CashBody(Body):
    """POST /v1/accounts/{account_id}/cash: amount > 0, the kind gives the sign."""

    kind: str = Field(description="DEPOSIT, WITHDRAWAL, DIVIDEND, INTEREST, FEE, TAX or ADJUSTMENT")
    amount: Exact
    at: Instant | None = None
    symbol: str | None = None
    note: str | None = None


class NewJobBody(Body):
    """POST /v1/users/{user_id}/jobs."""

    job_type: str
    request_payload: dict[str, Any] | None = None


class JobStatusBody(Body):
    """PATCH /v1/jobs/{job_id}/status."""

    status: str = Field(description="pending, running, completed or failed")
    error_message: str | None = None


class ClaimBody(Body):
    """POST /v1/jobs/claim."""

    job_type: str | None = None


class NewSessionBody(Body):
    """POST /v1/users/{user_id}/chat/sessions."""

    title: str | None = None
    pedagogy_mode: str = "socratic"


class NewMessageBody(Body):
    """POST /v1/users/{user_id}/chat/sessions/{session_id}/messages."""

    role: str = Field(description="user, assistant, system or tool")
    content: str
    tokens: int | None = None
    context_ids: list[str] | None = None
