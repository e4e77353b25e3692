"""Models to DynamoDB attribute maps and back: instants as canonical text, ids as text, numbers as Decimal."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from alexdb.domain.instants import instant_text

M = TypeVar("M", bound=BaseModel)


def dump(model: BaseModel, **extra: Any) -> dict[str, Any]:
    """The model's fields as item attributes, plus extra (keys, index attributes)."""
    values = {name: _plain(value) for name, value in model.model_dump().items()}
    return {**values, **extra}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return instant_text(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def load(model: type[M], item: dict[str, Any]) -> M:
    """The model from an item, ignoring key and index attributes."""
    return model.model_validate({name: item[name] for name in model.model_fields if name in item})
