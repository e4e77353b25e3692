"""Price alerts of the speed layer (seed 002): what an alert watches and what a trigger records."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, model_validator

from alexdb.domain.models import ClerkUserId, Record, Symbol
from alexdb.domain.numbers import Price, Volume, WholeNumber

Operator = Literal[">", ">=", "<", "<=", "==", "crosses_above", "crosses_below"]
PriceType = Literal["open", "high", "low", "close"]
ConditionType = Literal["price", "indicator"]
IndicatorKind = Literal["sma", "ema", "rsi"]
NotificationMethod = Literal["websocket", "email", "sns", "webhook"]
LEVEL_OPERATORS = frozenset({">", ">=", "<", "<=", "=="})


class Indicator(Record):
    """An indicator computed per one-minute bar close: a moving average of `period` closes, or RSI."""

    kind: IndicatorKind
    period: Annotated[WholeNumber, Field(ge=2, le=500)]


class Condition(Record):
    """When an alert fires.

    For a price alert, the price of type price_type is compared with threshold. For an indicator alert:
    sma/ema, the bar close crossing its moving average (operator crosses_above / crosses_below); rsi, the
    RSI compared with threshold (a level from 0 to 100).
    """

    operator: Operator
    threshold: Price | None = None
    price_type: PriceType = "close"
    indicator: Indicator | None = None

    @model_validator(mode="after")
    def _can_fire(self) -> Condition:
        # Refuse at creation what could never be evaluated: never accept an alert that can never fire.
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


class NewAlert(Record):
    """The fields an alert is created with."""

    user_id: ClerkUserId
    symbol: Symbol
    condition_type: ConditionType = "price"
    condition: Condition
    notification_method: NotificationMethod = "websocket"
    enabled: bool = True
    cooldown_seconds: Annotated[WholeNumber, Field(ge=0, le=86_400 * 30)] = 0

    @model_validator(mode="after")
    def _type_matches(self) -> NewAlert:
        if (self.condition_type == "indicator") != (self.condition.indicator is not None):
            raise ValueError("condition_type indicator goes with an indicator condition, price without one")
        return self


class Alert(NewAlert):
    """A user's alert on one symbol, with its trigger bookkeeping."""

    alert_id: uuid.UUID
    created_at: AwareDatetime
    updated_at: AwareDatetime
    last_triggered: AwareDatetime | None = None
    trigger_count: Annotated[WholeNumber, Field(ge=0)] = 0


class Tick(Record):
    """One trade or quote of a symbol: a price at an instant (epoch milliseconds)."""

    symbol: Symbol
    price: Price
    timestamp: Annotated[WholeNumber, Field(ge=0)]
    volume: Volume = Decimal(0)
    source: Annotated[str, Field(max_length=50)] = "unknown"


@dataclass(frozen=True, slots=True)
class Trigger:
    """An alert that fired: what the notifiers send and the history records.

    A plain slotted dataclass, not a model: the engine builds one per firing on its hot path from data
    that was validated when the alert was created.
    """

    alert_id: uuid.UUID
    user_id: str
    symbol: str
    price: Decimal
    threshold: Decimal | None
    price_type: str
    notification_method: str
    timestamp: int


DeliveryStatus = Literal["sent", "failed"]
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
