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
    """POST /v1/users/{user_id}/alerts."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"symbol": "SPY", "condition": {"operator": ">", "threshold": "600"}, "cooldown_seconds": 3600}]})

    symbol: Symbol
    condition: Condition
    condition_type: ConditionType | None = None
    notification_method: NotificationMethod = "websocket"
    enabled: bool = True
    cooldown_seconds: int = Field(0, ge=0, le=86_400 * 30)


class AlertChangesBody(BaseModel):
    """PATCH /v1/alerts/{alert_id}: the settings to change."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"enabled": False}]})

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


# One example per body: OpenAPI shows it, and the fuzz tests start from it.
EXAMPLES: dict[str, dict[str, Any]] = {"NewUserBody": {"clerk_user_id": "user_2abc",
                 "display_name": "Ann",
                 "years_until_retirement": 25,
                 "target_retirement_income": "80000.00"},
 "UserChangesBody": {"display_name": "Ann B.", "asset_class_targets": {"equity": "60", "fixed_income": "40"}},
 "NewAccountBody": {"account_name": "Roth IRA",
                    "account_purpose": "Tax-free growth",
                    "cash_balance": "2500.00"},
 "AccountChangesBody": {"cash_balance": "3000.00"},
 "NewInstrumentBody": {"symbol": "VTI",
                       "name": "Vanguard Total Stock Market ETF",
                       "instrument_type": "etf",
                       "current_price": "268.41",
                       "allocation_regions": {"north_america": "100"},
                       "allocation_sectors": {"technology": "30", "diversified": "70"},
                       "allocation_asset_class": {"equity": "100"}},
 "InstrumentChangesBody": {"name": "Vanguard Total Stock Market Index Fund ETF"},
 "PriceBody": {"price": "501.25", "at": "2026-11-27T21:00:00Z"},
 "SplitBody": {"numerator": 2, "denominator": 1, "at": "2026-06-10T00:00:00Z"},
 "TradeBody": {"symbol": "SPY", "action": "BUY", "quantity": "10", "price": "501.25", "fee": "1.00"},
 "HoldingBody": {"quantity": "12.5"},
 "CashBody": {"kind": "DIVIDEND", "amount": "41.25", "symbol": "BND"},
 "NewJobBody": {"job_type": "portfolio_analysis", "request_payload": {"analysis_type": "portfolio"}},
 "JobStatusBody": {"status": "failed", "error_message": "agent timed out"},
 "ClaimBody": {"job_type": "portfolio_analysis"},
 "NewSessionBody": {"title": "Index funds", "pedagogy_mode": "socratic"},
 "NewMessageBody": {"role": "user", "content": "Why index funds?", "tokens": 4},
 "NewMessagesBody": {"messages": [
     {"role": "assistant", "content": "", "tool_calls": [{"id": "call-1", "name": "quote", "args": {"symbol": "VTI"}}]},
     {"role": "tool", "content": "{\"price\": 245.10}", "tool_call_id": "call-1"}]}}


def example(name: str) -> ConfigDict:
    """A body model's config: unknown fields refused, its example in the schema."""
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLES[name]]})


class Body(BaseModel):
    """A request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class NewUserBody(Body):
    """POST /v1/users."""

    model_config = example("NewUserBody")

    clerk_user_id: str
    display_name: str | None = None
    years_until_retirement: int | None = None
    target_retirement_income: Exact | None = None
    asset_class_targets: dict[str, Exact] | None = None
    region_targets: dict[str, Exact] | None = None


class UserChangesBody(Body):
    """PATCH /v1/users/{user_id}."""

    model_config = example("UserChangesBody")

    display_name: str | None = None
    years_until_retirement: int | None = None
    target_retirement_income: Exact | None = None
    asset_class_targets: dict[str, Exact] | None = None
    region_targets: dict[str, Exact] | None = None


class NewAccountBody(Body):
    """POST /v1/users/{user_id}/accounts; cash_balance is recorded as the opening deposit."""

    model_config = example("NewAccountBody")

    account_name: str
    account_purpose: str | None = None
    cash_balance: Exact = "0"
    cash_interest: Exact = "0"
    account_type: str | None = None


class AccountChangesBody(Body):
    """PATCH /v1/accounts/{account_id}; a new cash_balance is recorded as an adjustment."""

    model_config = example("AccountChangesBody")

    account_name: str | None = None
    account_purpose: str | None = None
    cash_balance: Exact | None = None
    cash_interest: Exact | None = None
    account_type: str | None = None


class NewInstrumentBody(Body):
    """POST /v1/instruments."""

    model_config = example("NewInstrumentBody")

    symbol: str
    name: str
    instrument_type: str
    current_price: Exact | None = None
    allocation_regions: dict[str, Exact]
    allocation_sectors: dict[str, Exact]
    allocation_asset_class: dict[str, Exact]


class InstrumentChangesBody(Body):
    """PATCH /v1/instruments/{symbol}: the description (prices go to /prices)."""

    model_config = example("InstrumentChangesBody")

    name: str | None = None
    instrument_type: str | None = None
    allocation_regions: dict[str, Exact] | None = None
    allocation_sectors: dict[str, Exact] | None = None
    allocation_asset_class: dict[str, Exact] | None = None


class PriceBody(Body):
    """POST /v1/instruments/{symbol}/prices."""

    model_config = example("PriceBody")

    price: Exact
    at: Instant | None = None


class SplitBody(Body):
    """POST /v1/instruments/{symbol}/splits: numerator new shares for every denominator old ones."""

    model_config = example("SplitBody")

    numerator: int
    denominator: int
    at: Instant
    name: str | None = None


class TradeBody(Body):
    """POST /v1/accounts/{account_id}/trades: with a price, cash moves in the same transaction."""

    model_config = example("TradeBody")

    symbol: str
    action: str = Field(description="BUY, SELL, TRANSFER_IN or TRANSFER_OUT")
    quantity: Exact
    at: Instant | None = None
    price: Exact | None = None
    fee: Exact | None = None


class HoldingBody(Body):
    """PUT /v1/accounts/{account_id}/positions/{symbol}: set the held quantity (no cash moves)."""

    model_config = example("HoldingBody")

    quantity: Exact
    action: str = "UPDATE"
    at: Instant | None = None


class CashBody(Body):
    """POST /v1/accounts/{account_id}/cash: amount > 0, the kind gives the sign."""

    model_config = example("CashBody")

    kind: str = Field(description="DEPOSIT, WITHDRAWAL, DIVIDEND, INTEREST, FEE, TAX or ADJUSTMENT")
    amount: Exact
    at: Instant | None = None
    symbol: str | None = None
    note: str | None = None


class NewJobBody(Body):
    """POST /v1/users/{user_id}/jobs."""

    model_config = example("NewJobBody")

    job_type: str
    request_payload: dict[str, Any] | None = None


class JobStatusBody(Body):
    """PATCH /v1/jobs/{job_id}/status."""

    model_config = example("JobStatusBody")

    status: str = Field(description="pending, running, completed or failed")
    error_message: str | None = None


class ClaimBody(Body):
    """POST /v1/jobs/claim."""

    model_config = example("ClaimBody")

    job_type: str | None = None


class NewSessionBody(Body):
    """POST /v1/users/{user_id}/chat/sessions."""

    model_config = example("NewSessionBody")

    title: str | None = None
    pedagogy_mode: str = "socratic"


class ToolCallBody(Body):
    """A tool call an assistant message makes."""

    id: str | None = None
    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class NewMessageBody(Body):
    """POST /v1/users/{user_id}/chat/sessions/{session_id}/messages."""

    model_config = example("NewMessageBody")

    role: str = Field(description="user, assistant, system or tool")
    content: str
    tokens: int | None = None
    context_ids: list[str] | None = None
    name: str | None = Field(None, description="who spoke (a tool's or a participant's name)")
    message_id: str | None = Field(None, description="the client's own id of the message")
    tool_calls: list[ToolCallBody] | None = Field(None, description="calls an assistant message makes")
    tool_call_id: str | None = Field(None, description="the call a tool message answers")
    blocks: list[Any] | None = Field(None, description="content as structured blocks (content: their text)")
    metadata: dict[str, Any] | None = Field(None, description="anything else to keep with the message (JSON)")


class NewMessagesBody(Body):
    """POST /v1/users/{user_id}/chat/sessions/{session_id}/messages/batch."""

    model_config = example("NewMessagesBody")

    messages: list[NewMessageBody]
