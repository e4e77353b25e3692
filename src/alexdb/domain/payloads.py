"""Agent payloads as exact JSON: numbers round-trip as Decimal, never float."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import simplejson

from alexdb.domain.errors import ValidationError


def json_dumps(value: Any) -> str:
    """JSON text in which Decimals keep their exact digits."""
    return simplejson.dumps(value, use_decimal=True, separators=(",", ":"), default=_default)


_DECODER = simplejson.JSONDecoder(parse_float=Decimal)  # built once: building one per call costs half a parse


def json_loads(text: str | bytes) -> Any:
    """Parse JSON text, reading every non-integer number as an exact Decimal."""
    return _DECODER.decode(text.decode() if isinstance(text, bytes) else text)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def check_payload(field: str, payload: Any) -> dict[str, Any]:
    """A JSON object, normalised so that every number is exact (floats become their shortest Decimal)."""
    if not isinstance(payload, dict):
        raise ValidationError(field, payload, "must be a JSON object (dict)")
    try:
        normalised: dict[str, Any] = json_loads(json_dumps(payload))
    except (TypeError, ValueError) as exc:
        raise ValidationError(field, payload, f"not JSON-serialisable: {exc}") from exc
    return normalised
