"""Build models from caller input, turning Pydantic's errors into alexdb's ValidationError."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any, TypeVar

import pydantic

from alexdb.domain.errors import NotFoundError, ValidationError
from alexdb.domain.instants import to_instant, utcnow
from alexdb.domain.models import PricePoint

M = TypeVar("M", bound=pydantic.BaseModel)


def build(model: type[M], data: Any) -> M:
    """Validate data (a model or a mapping) into model; the first problem names its field."""
    if isinstance(data, model):
        return data
    if isinstance(data, pydantic.BaseModel):
        data = data.model_dump()
    if not isinstance(data, dict):
        raise ValidationError(model.__name__, data, "expected a mapping of fields")
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise translate(exc) from exc


def translate(exc: pydantic.ValidationError) -> ValidationError:
    """The first error of a Pydantic ValidationError as an alexdb ValidationError."""
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"] if part != "[key]") or exc.title
    reason = first["msg"].removeprefix("Value error, ")
    # A missing field has no value of its own (Pydantic reports the whole record as the input).
    value = None if first["type"] == "missing" else first.get("input")
    return ValidationError(field, value, reason)


def one_of(field: str, value: Any, choices: tuple[str, ...], case: str = "upper") -> str:
    """value as one of choices (matched ignoring case), or a ValidationError naming field."""
    normalised = getattr(value, case)() if isinstance(value, str) else value
    if normalised not in choices:
        raise ValidationError(field, value, f"must be one of {', '.join(choices)}")
    return str(normalised)


def check_fields(model: type[pydantic.BaseModel], fields: Mapping[str, Any], allowed: AbstractSet[str]) -> None:
    """Refuse unknown or immutable field names in an update."""
    for name in fields:
        if name not in allowed:
            raise ValidationError(name, fields[name], f"not an updatable field of {model.__name__}")


def parse_id(entity: str, value: Any) -> uuid.UUID:
    """An id given as UUID or text; text that is no UUID cannot name a record."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError) as exc:
        raise NotFoundError(entity, value) from exc


def price_row(row: Any) -> PricePoint:
    """A PricePoint from a model, a mapping or a (symbol, price[, at]) tuple."""
    if isinstance(row, PricePoint):
        return row
    if isinstance(row, Mapping):
        data = dict(row)
    elif isinstance(row, tuple | list) and len(row) in (2, 3):
        data = {"symbol": row[0], "price": row[1], "at": row[2] if len(row) == 3 else None}
    else:
        raise ValidationError("row", row, "expected a PricePoint, a mapping or (symbol, price, at)")
    data["at"] = to_instant(data["at"]) if data.get("at") is not None else utcnow()
    return build(PricePoint, data)
