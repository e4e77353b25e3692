"""Price alerts of the speed layer (seed 002): what an alert watches and what a trigger records."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, NamedTuple, get_args

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, model_validator

from alexdb.domain.instants import now_ms
from alexdb.domain.models import ClerkUserId, Record, Symbol
from alexdb.domain.numbers import Price, Volume, WholeNumber, stored_price
from alexdb.domain.vocabulary import AssetClass, Region, Sector

Operator = Literal[">", ">=", "<", "<=", "==", "crosses_above", "crosses_below"]
PriceType = Literal["open", "high", "low", "close"]
ConditionType = Literal["price", "indicator", "fundamental"]
IndicatorKind = Literal["sma", "ema", "rsi"]
NotificationMethod = Literal["websocket", "email", "sns", "webhook"]
LEVEL_OPERATORS = frozenset({">", ">=", "<", "<=", "=="})
# What a fundamental alert can watch: the instrument fields that exist. Allocation shares are percentages.
FUNDAMENTAL_FIELDS = frozenset(
    ["current_price"]
    + [f"allocation_regions.{name}" for name in get_args(Region)]
    + [f"allocation_sectors.{name}" for name in get_args(Sector)]
    + [f"allocation_asset_class.{name}" for name in get_args(AssetClass)])


def _condition_type(value: Any) -> Any:
    # Seed 002 names a price condition "price_threshold"; both spellings are accepted, "price" is stored.
    return "price" if value == "price_threshold" else value


class Indicator(Record):
    """An indicator computed per one-minute bar close: a moving average of `period` closes, or RSI."""

    kind: IndicatorKind
    period: Annotated[WholeNumber, Field(ge=2, le=500)]


class Condition(Record):
    """When an alert fires.

    For a price alert, the price of type price_type is compared with threshold. For an indicator alert:
    sma/ema, the bar close crossing its moving average (operator crosses_above / crosses_below); rsi, the
    RSI compared with threshold (a level from 0 to 100). For a fundamental alert, the instrument field
    named by field (current_price, or an allocation share such as allocation_sectors.technology) is
    compared with threshold whenever the instrument is looked at.
    """

    operator: Operator
    threshold: Price | None = None
    price_type: PriceType = "close"
    indicator: Indicator | None = None
    field: str | None = None

    @model_validator(mode="after")
    def _can_fire(self) -> Condition:
        # Refuse at creation what could never be evaluated: never accept an alert that can never fire.
        if self.field is not None:
            return self._fundamental_can_fire()
        if self.indicator is None:
            if self.threshold is None:
                raise ValueError("a price condition needs a threshold")
            return self
        if self.indicator.kind in ("sma", "ema"):
            if self.operator not in ("crosses_above", "crosses_below"):
                raise ValueError("a moving-average condition is crosses_above or crosses_below the average")
            if self.threshold is not None:
                raise ValueError("a moving-average condition compares with the average, not a threshold")
        else:
            if self.threshold is None or not Decimal(0) < self.threshold < Decimal(100):
                raise ValueError("an RSI condition needs a threshold between 0 and 100")
        if self.price_type != "close":
            raise ValueError("indicators are computed on bar closes: price_type must be close")
        return self

    def _fundamental_can_fire(self) -> Condition:
        if self.field not in FUNDAMENTAL_FIELDS:
            raise ValueError(f"field {self.field!r} is no instrument field: current_price, or "
                             "allocation_regions.<region>, allocation_sectors.<sector>, allocation_asset_class.<class>")
        if self.indicator is not None or self.threshold is None:
            raise ValueError("a fundamental condition compares its field with a threshold")
        if self.field != "current_price" and (
                self.threshold > 100 or (self.threshold == 100 and self.operator in (">", "crosses_above"))):
            raise ValueError("an allocation share is at most 100: this condition could never hold")
        return self


class NewAlert(Record):
    """The fields an alert is created with."""

    user_id: ClerkUserId
    symbol: Symbol
    condition_type: Annotated[ConditionType, BeforeValidator(_condition_type)] = "price"
    condition: Condition
    notification_method: NotificationMethod = "websocket"
    enabled: bool = True
    cooldown_seconds: Annotated[WholeNumber, Field(ge=0, le=86_400 * 30)] = 0

    @model_validator(mode="after")
    def _type_matches(self) -> NewAlert:
        if (self.condition_type == "indicator") != (self.condition.indicator is not None):
            raise ValueError("condition_type indicator goes with an indicator condition, price without one")
        if (self.condition_type == "fundamental") != (self.condition.field is not None):
            raise ValueError("condition_type fundamental goes with a condition on an instrument field")
        return self


class AlertSettings(NewAlert):
    """A stored alert's settings, without its trigger bookkeeping: what an ingestor evaluates."""

    alert_id: uuid.UUID
    created_at: AwareDatetime
    updated_at: AwareDatetime
    # The updated_at of the settings an ingestor last checked at the symbol's bar (a level condition that
    # already held then fired): equal to updated_at once checked, so no restart checks them again.
    armed_at: AwareDatetime | None = None

    def entry(self) -> AlertEntry:
        """These settings as an ingestor holds them."""
        c = self.condition
        special = c if c.indicator is not None or c.field is not None else None
        return AlertEntry(self.alert_id, self.user_id, self.symbol, c.operator, c.threshold, c.price_type,
                          self.notification_method, self.cooldown_seconds, self.enabled, self.updated_at,
                          self.armed_at, special)


class AlertEntry(NamedTuple):
    """What an ingestor loads of a stored alert: its settings, flat. Not a model: one symbol may have 200,000
    alerts, loaded at every cold start, and validating each again as a model is most of that time."""

    alert_id: uuid.UUID
    user_id: str
    symbol: str
    operator: str
    threshold: Decimal | None
    price_type: str
    notification_method: str
    cooldown_seconds: int
    enabled: bool
    updated_at: datetime
    armed_at: datetime | None
    condition: Condition | None  # indicator and fundamental conditions only (validated as the model)


_OPERATORS, _PRICE_TYPES = frozenset(get_args(Operator)), frozenset(get_args(PriceType))
_METHODS = frozenset(get_args(NotificationMethod))
_CONDITION_KEYS = frozenset(Condition.model_fields)


def stored_entry(alert_id: uuid.UUID, user_id: str, symbol: str, condition_type: str, condition: Mapping[str, Any],
                 notification_method: str, cooldown_seconds: int, enabled: bool, updated_at: datetime,
                 armed_at: datetime | None) -> AlertEntry:
    """The entry of a stored alert's settings, given in their Python types.

    The row was validated as AlertSettings when written. A plain price condition is only checked against
    the same vocabularies; anything else (an indicator or fundamental condition, a value of a type no write
    stores) is validated as the model again, so a damaged row is refused, never held half-understood.
    """
    operator, price_type = condition.get("operator"), condition.get("price_type", "close")
    threshold = stored_price(condition.get("threshold"))
    if (condition_type == "price" and threshold is not None and operator in _OPERATORS and price_type in _PRICE_TYPES
            and _CONDITION_KEYS.issuperset(condition) and condition.get("indicator") is None
            and condition.get("field") is None and notification_method in _METHODS
            and type(cooldown_seconds) is int and type(enabled) is bool and type(updated_at) is datetime
            and updated_at.tzinfo is not None and (armed_at is None or armed_at.tzinfo is not None)
            and type(alert_id) is uuid.UUID and type(user_id) is str and type(symbol) is str):
        return AlertEntry(alert_id, user_id, symbol, str(operator), threshold, price_type, notification_method,
                          cooldown_seconds, enabled, updated_at, armed_at, None)
    return AlertSettings.model_validate({
        "alert_id": alert_id, "user_id": user_id, "symbol": symbol, "condition_type": condition_type,
        "condition": condition,
        "notification_method": notification_method, "cooldown_seconds": cooldown_seconds, "enabled": enabled,
        "created_at": updated_at, "updated_at": updated_at, "armed_at": armed_at}).entry()


class Alert(AlertSettings):
    """A user's alert on one symbol, with its trigger bookkeeping."""

    last_triggered: AwareDatetime | None = None
    trigger_count: Annotated[WholeNumber, Field(ge=0)] = 0


EARLIEST_TICK_MS = 946_684_800_000  # 2000-01-01T00:00Z: an epoch in seconds reads as 1970 and is refused
TICK_MAX_FUTURE_MS = 300_000
"""How far ahead of this host's clock a tick may be (ALEXDB_TICK_MAX_FUTURE_S sets it, see bootstrap):
a tick dated in the year 3000 would otherwise stay a symbol's latest price for ever."""


def plausible_tick_time(ms: int) -> int:
    """A tick instant in epoch milliseconds between 2000-01-01 and a few minutes from now; else ValueError."""
    if ms < EARLIEST_TICK_MS:
        hint = " (it looks like seconds, not milliseconds)" if 946_684_800 <= ms < 10**11 else ""
        raise ValueError(f"is before 2000-01-01 in epoch milliseconds{hint}")
    if ms > now_ms() + TICK_MAX_FUTURE_MS:
        hint = " (it looks like microseconds, not milliseconds)" if ms > 10**14 else ""
        raise ValueError(f"is more than {TICK_MAX_FUTURE_MS // 1000} s ahead of this host's clock{hint}")
    return ms


class Tick(Record):
    """One trade or quote of a symbol: a price at an instant (epoch milliseconds)."""

    symbol: Symbol
    price: Price
    timestamp: Annotated[WholeNumber, AfterValidator(plausible_tick_time)]
    volume: Volume = Decimal(0)
    source: Annotated[str, Field(max_length=50)] = "unknown"


class Trigger(NamedTuple):
    """An alert that fired: what the notifiers send and the history records.

    A named tuple, not a model: the engine builds one per firing on its hot path from data that was
    validated when the alert was created (a tuple is built in C, four times faster than a frozen dataclass).
    """

    alert_id: uuid.UUID
    user_id: str
    symbol: str
    price: Decimal
    threshold: Decimal | None
    price_type: str
    notification_method: str
    timestamp: int
    cooldown_seconds: int = 0
    """The alert's cooldown, which recording the trigger checks (across ingestors, in the store)."""


DeliveryStatus = Literal["pending", "sent", "failed"]
TICK_TTL_MS = 24 * 3600 * 1000  # ticks expire 24 hours after their timestamp


class Notification(Record):
    """One trigger as delivered (or not): the notification history."""

    notification_id: uuid.UUID
    user_id: str
    alert_id: uuid.UUID
    symbol: str
    triggered_at: AwareDatetime
    current_price: Decimal
    threshold: Decimal | None = None
    notification_method: str
    delivery_status: DeliveryStatus
    message_id: Annotated[str, Field(max_length=255)] | None = None
    price_type: Annotated[str, Field(max_length=64)] | None = None
    attempts: Annotated[int, Field(ge=0)] = 0
    next_attempt_at: AwareDatetime | None = None  # when a pending or failed delivery is due again; None: settled
    last_error: Annotated[str, Field(max_length=255)] | None = None
