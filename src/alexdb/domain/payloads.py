"""Agent payloads as exact JSON: numbers round-trip as Decimal, never float."""

from __future__ import annotations

import json as stdlib_json
from datetime import datetime
from decimal import Decimal
from typing import Any

import simplejson

from alexdb.domain.errors import ValidationError
from alexdb.domain.models import clean_text
from alexdb.domain.numbers import bounded


def json_dumps(value: Any) -> str:
    """JSON text in which Decimals keep their exact digits."""
    return simplejson.dumps(value, use_decimal=True, separators=(",", ":"), default=_default)


_DECODER = simplejson.JSONDecoder(parse_float=Decimal)  # built once: building one per call costs half a parse


def read_json(text: str | bytes) -> Any:
    """Untrusted JSON text: numbers with a fraction as exact Decimals; ValueError (with the reason) for
    anything unreadable, nesting too deep for the parser included (a RecursionError otherwise)."""
    try:
        return stdlib_json.loads(text, parse_float=Decimal)
    except RecursionError as exc:
        raise ValueError("nests too deeply") from exc


def json_loads(text: str | bytes) -> Any:
    """Parse JSON text, reading every non-integer number as an exact Decimal."""
    return _DECODER.decode(text.decode() if isinstance(text, bytes) else text)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


MAX_DEPTH = 32  # nesting of a payload: deeper is refused before anything recurses far


def check_text(field: str, text: str) -> str:
    """Text every backend stores as given (models.clean_text), or a ValidationError naming field."""
    try:
        return clean_text(text)  # type: ignore[no-any-return]
    except ValueError as exc:
        raise ValidationError(field, text, str(exc)) from exc


def check_tree(field: str, value: Any) -> None:
    """A JSON tree kept as JSON text, walked before it is converted: depth, text, integers small enough to
    convert cheaply, finite floats of any size (they are kept as floats, never as Decimals)."""
    _check_tree(field, value, 1, any_float=True)


def _check_tree(field: str, value: Any, depth: int, any_float: bool = False) -> None:
    """Walk a payload before it is converted: bounded depth and numbers, clean text; the first fault named."""
    if depth > MAX_DEPTH:
        raise ValidationError(field, "<nested>", f"nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(field, key, "object keys must be text")
            check_text(f"{field}.{key}", key)
            _check_tree(f"{field}.{key}", item, depth + 1, any_float)
    elif isinstance(value, list | tuple):
        for number, item in enumerate(value):
            _check_tree(f"{field}[{number}]", item, depth + 1, any_float)
    elif isinstance(value, str):
        check_text(field, value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValidationError(field, value, "must be a finite number")
        if any_float:
            return
        try:
            bounded(Decimal(repr(value)))  # it is stored as its shortest decimal form
        except ValueError as exc:
            raise ValidationError(field, value, str(exc)) from exc
    elif isinstance(value, int | Decimal) and not isinstance(value, bool):
        try:
            bounded(value)
        except ValueError as exc:
            raise ValidationError(field, value, str(exc)) from exc
        if isinstance(value, Decimal) and not value.is_finite():
            raise ValidationError(field, value, "must be a finite number")


def check_payload(field: str, payload: Any) -> dict[str, Any]:
    """A JSON object, normalised so that every number is exact (floats become their shortest Decimal)."""
    if not isinstance(payload, dict):
        raise ValidationError(field, payload, "must be a JSON object (dict)")
    _check_tree(field, payload, 1)
    try:
        normalised: dict[str, Any] = json_loads(json_dumps(payload))
    except (TypeError, ValueError) as exc:
        raise ValidationError(field, payload, f"not JSON-serialisable: {exc}") from exc
    return normalised


def plain_json(field: str, value: Any) -> tuple[str, Any]:
    """Plain JSON (numbers keep their type: a float comes back the same float), as text and as read back;
    a ValidationError naming the field for anything else (NaN, objects, nesting too deep)."""
    check_tree(field, value)
    try:  # a Decimal (as JSON bodies are read) is written as its digits and comes back a float
        text = simplejson.dumps(value, use_decimal=True, allow_nan=False, separators=(",", ":"),
                                ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(field, value, f"must be plain JSON: {exc}") from exc
    return text, stdlib_json.loads(text)
