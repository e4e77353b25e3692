"""The SQL the original callers send, read as far as alexdb needs to route it to a service.

INSERT, UPDATE and DELETE of the five Alex tables, with Data API parameters (:name, optionally cast as
:name::uuid), are routed to the tables' services on every backend, so they keep alexdb's rules; SELECT
and WITH run read-only on the SQL engines; anything else is refused with the call to use instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from alexdb.domain.errors import UnsupportedError, ValidationError

PARAMETER = re.compile(r"(?<![:\w]):(\w+)(?:::(\w+))?")
ASSIGNED = re.compile(r"^\s*(\w+)\s*=\s*(.+?)\s*$", re.S)
INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)\s*\(([^)]*)\)\s*VALUES\s*\((.*?)\)\s*(.*?)\s*;?\s*$", re.I | re.S)
UPDATE = re.compile(r"^\s*UPDATE\s+(\w+)\s+SET\s+(.*?)\s+WHERE\s+(.*?)\s*;?\s*$", re.I | re.S)
DELETE = re.compile(r"^\s*DELETE\s+FROM\s+(\w+)\s+WHERE\s+(.*?)\s*;?\s*$", re.I | re.S)
RETURNING = re.compile(r"^(?:ON\s+CONFLICT\b.*?)?\s*(?:RETURNING\s+(\w+))?$", re.I | re.S)
READ = re.compile(r"^\s*(?:--[^\n]*\n\s*)*(SELECT|WITH)\b", re.I)
# Values alexdb fills in itself (its own clock stamps every change).
STAMPS = re.compile(r"^(?:NOW\(\)|CURRENT_DATE|CURRENT_TIMESTAMP)$", re.I)
FIELDS = ("stringValue", "longValue", "doubleValue", "booleanValue", "blobValue", "isNull")


@dataclass
class Statement:
    """A write routed to a table: which table, which columns, which rows, what to return."""

    kind: str
    table: str
    data: dict[str, Any] = field(default_factory=dict)
    where: dict[str, Any] = field(default_factory=dict)
    returning: str | None = None


def decode(parameters: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Data API parameters ([{'name': .., 'value': {'stringValue': ..}}]) as a dict of Python values."""
    values: dict[str, Any] = {}
    for parameter in parameters or []:
        value = parameter.get("value") if isinstance(parameter, dict) else None
        kinds = [kind for kind in FIELDS if isinstance(value, dict) and kind in value]
        if not isinstance(parameter, dict) or not isinstance(parameter.get("name"), str) or len(kinds) != 1:
            raise ValidationError("parameters", parameter, "each is {'name': ..., 'value': {'<type>Value': ...}}")
        assert isinstance(value, dict)
        values[parameter["name"]] = None if kinds[0] == "isNull" else value[kinds[0]]
    return values


def casts(sql: str) -> tuple[str, dict[str, str]]:
    """The statement with its parameter casts removed, and the cast of each cast parameter."""
    found: dict[str, str] = {}

    def plain(match: re.Match[str]) -> str:
        if match.group(2):
            found[match.group(1)] = match.group(2).lower()
        return f":{match.group(1)}"

    return PARAMETER.sub(plain, sql), found


def is_read(sql: str) -> bool:
    """True for a SELECT or WITH statement."""
    return READ.match(sql) is not None


def _value(expression: str, values: dict[str, Any], sql: str) -> tuple[bool, Any]:
    """(True, value) for a parameter or NULL; (False, None) for a stamp alexdb sets itself."""
    text = expression.strip()
    match = PARAMETER.fullmatch(text)
    if match:
        if match.group(1) not in values:
            raise ValidationError("parameters", match.group(1), f"no value given for :{match.group(1)}")
        return True, values[match.group(1)]
    if text.upper() == "NULL":
        return True, None
    if STAMPS.fullmatch(text):
        return False, None
    raise UnsupportedError(sql.strip()[:80], f"a value must be a :parameter, not {text!r}",
                           "parameters for every value")


def conditions(where: str, values: dict[str, Any], sql: str = "") -> dict[str, Any]:
    """A WHERE of `column = :parameter` terms joined by AND, as {column: value}."""
    found: dict[str, Any] = {}
    for term in re.split(r"\s+AND\s+", where.strip(), flags=re.I):
        match = ASSIGNED.match(term)
        if match is None:
            raise UnsupportedError(f"WHERE {where.strip()}", "only `column = :parameter` terms joined by AND "
                                   "are routed", "the table methods (find_by_*, update, delete)")
        known, value = _value(match.group(2), values, sql or where)
        if not known:
            raise UnsupportedError(f"WHERE {where.strip()}", "a condition needs a parameter", "a :parameter")
        found[match.group(1).lower()] = value
    return found


def parse_write(sql: str, values: dict[str, Any]) -> Statement:
    """The INSERT, UPDATE or DELETE in sql; UnsupportedError for any other shape."""
    if match := INSERT.match(sql):
        table, columns, given, tail = match.groups()
        names = [name.strip().lower() for name in columns.split(",")]
        expressions = given.split(",")
        tail_match = RETURNING.match(tail.strip())
        if len(names) != len(expressions) or tail_match is None:
            raise UnsupportedError(sql.strip()[:80], "not an INSERT of one row of parameters", "the table methods")
        data = {}
        for name, expression in zip(names, expressions, strict=True):
            known, value = _value(expression, values, sql)
            if known:
                data[name] = value
        return Statement("insert", table.lower(), data=data, returning=tail_match.group(1))
    if match := UPDATE.match(sql):
        table, assignments, where = match.groups()
        data = {}
        for assignment in assignments.split(","):
            pair = ASSIGNED.match(assignment)
            if pair is None:
                raise UnsupportedError(sql.strip()[:80], "SET takes `column = :parameter`", "the table methods")
            known, value = _value(pair.group(2), values, sql)
            if known:
                data[pair.group(1).lower()] = value
        return Statement("update", table.lower(), data=data, where=conditions(where, values, sql))
    if match := DELETE.match(sql):
        return Statement("delete", match.group(1).lower(), where=conditions(match.group(2), values, sql))
    raise UnsupportedError(sql.strip()[:80], "alexdb runs raw SELECTs, and routes INSERT, UPDATE and DELETE of "
                           "the Alex tables to its services; other statements would bypass its rules",
                           "the alexdb CLI (alexdb migrate, alexdb reset) for the schema")
