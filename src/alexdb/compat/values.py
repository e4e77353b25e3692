"""Values at the compat boundary: what the original callers pass in, and rows shaped as they read them."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel

from alexdb.domain.errors import ValidationError
from alexdb.domain.instants import to_instant
from alexdb.domain.numbers import MAX_NUMBER_TEXT


class DecimalText(str):
    """An exact number as the original package returned a DECIMAL column: its text (the Data API's
    stringValue), so a row stays JSON-ready; it also equals the same number (the DynamoDB port returned
    Decimal, and its callers compare with one)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Decimal | int) and not isinstance(other, bool):
            return Decimal(self) == other
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = str.__hash__

    @property
    def decimal(self) -> Decimal:
        """The number itself."""
        return Decimal(self)


def exact(value: Any, field: str) -> Any:
    """value with every float in it (Pydantic's float fields, JSON from a model) read by its shortest text:
    0.1 is Decimal('0.1'). NaN and infinities are refused; dicts and lists are converted all through."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(field, value, "must be a finite number")
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {key: exact(item, f"{field}.{key}") for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [exact(item, f"{field}[{index}]") for index, item in enumerate(value)]
    return value


def price_or_none(value: Any, field: str = "current_price") -> Any:
    """A caller's price: the original's 0 meant "no price yet", which alexdb stores as no price."""
    checked = exact(value, field)
    number = checked
    if isinstance(checked, str) and len(checked) <= MAX_NUMBER_TEXT:
        try:
            number = Decimal(checked.strip())
        except InvalidOperation:
            return checked  # not a number: alexdb's own validation names it
    if isinstance(number, Decimal | int) and not isinstance(number, bool) and number == 0:
        return None
    return checked


def stamp(value: datetime) -> str:
    """An instant as the Data API returns a TIMESTAMP column: "YYYY-MM-DD HH:MM:SS.ffffff", UTC."""
    return to_instant(value).strftime("%Y-%m-%d %H:%M:%S.%f")


def document(value: Any) -> Any:
    """A JSON column as json.loads returned it: numbers int or float, everything else as stored."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 10**18 else float(value)
    if isinstance(value, Mapping):
        return {key: document(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [document(item) for item in value]
    return value


def cell(value: Any) -> Any:
    """One column of a row in the original's shape."""
    if isinstance(value, Decimal):
        return DecimalText(value)
    if isinstance(value, datetime):
        return stamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping | list | tuple):
        return document(value)
    return value


def row(values: Mapping[str, Any]) -> dict[str, Any]:
    """A plain dict of columns in the original's shape (JSON-ready: text, int, float, bool, None, JSON)."""
    return {name: cell(value) for name, value in values.items()}


def record(model: BaseModel) -> dict[str, Any]:
    """A stored record as the original's row."""
    return row(model.model_dump())


def record_or_none(model: BaseModel | None) -> dict[str, Any] | None:
    """A found record as the original's row; None when there was none (the original's missing row)."""
    return None if model is None else record(model)
