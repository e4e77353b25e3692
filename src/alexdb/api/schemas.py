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
