"""Ticks as they arrive: each record checked on its own, so one bad record never costs its neighbours."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from operator import itemgetter, xor
from typing import Any, NamedTuple

import pydantic

from alexdb.domain import alerts
from alexdb.domain.alerts import Tick
from alexdb.domain.errors import ValidationError
from alexdb.domain.instants import now_ms
from alexdb.domain.models import SYMBOL_PATTERN
from alexdb.domain.validate import translate


class TickRow(NamedTuple):
    """A validated tick in the shape the stores and the engine read (a tuple: no model per tick)."""

    symbol: str
    price: Decimal
    timestamp: int
    volume: Decimal
    source: str


class CheckedTick(TickRow):
    """A TickRow that parse_tick built: handed on (Ingestor to store) it is not checked a second time.
    A TickRow built by hand is checked like any other record."""

    __slots__ = ()


@dataclass(frozen=True)
class Unreadable:
    """A record a feed could not even read (a line that is not JSON, say): rejected with reason."""

    text: str
    reason: str


@dataclass(frozen=True)
class Rejection:
    """A record that was not accepted: its position in the batch and why."""

    index: int
    error: ValidationError


_FIELDS = frozenset(Tick.model_fields)
_UNIT, _PRICE_LIMIT = Decimal("1e-8"), Decimal(10) ** 12
_VOLUME_LIMIT = Decimal(10) ** 16
_ZERO = Decimal(0)
# Symbols that matched SYMBOL_PATTERN, sources, and number texts _number accepted as a price or a volume
# (their limits differ): a feed repeats them all
# (10,000 symbols, volumes of 100 shares, prices a cent apart), and a set or dict lookup is a tenth of a
# regular expression or a Decimal parse and its three checks. Bounded: emptied when full.
_KNOWN_SYMBOLS: set[str] = set()
_KNOWN_SOURCES: set[str] = set()
_KNOWN_PRICES: dict[str, Decimal] = {}
_KNOWN_VOLUMES: dict[str, Decimal] = {}
_KNOWN_MAX = 50_000
_EARLIEST = alerts.EARLIEST_TICK_MS
_SYMBOL, _TIME = itemgetter(0), itemgetter(2)  # a TickRow's key in the stores


def _number(value: Any, limit: Decimal, known: dict[str, Decimal]) -> Decimal | None:
    """value as an exact Decimal, >= 0, with at most 8 places, below limit; or None to let Pydantic decide.
    A text accepted is remembered in known (the caller looks there first)."""
    kind = type(value)
    if kind is int:
        return Decimal(value) if 0 <= value < limit else None
    if kind is str:
        try:
            number = _checked(Decimal(value), limit)
        except InvalidOperation:
            return None
        if number is not None and len(value) <= 40:
            if len(known) >= _KNOWN_MAX:
                known.clear()
            known[value] = number
        return number
    return _checked(value, limit) if kind is Decimal else None


def _checked(value: Decimal, limit: Decimal) -> Decimal | None:
    if not value.is_finite() or not _ZERO <= value < limit:
        return None
    try:
        return value if value == value.quantize(_UNIT) else None
    except InvalidOperation:
        return None


def latest_tick_ms() -> int:
    """The latest plausible tick instant now: read once per batch, not once per tick."""
    return now_ms() + alerts.TICK_MAX_FUTURE_MS


def _fast(record: Any, latest: int) -> TickRow | None:
    """The common, plainly valid record, or None: then Pydantic (the definition, in Tick) decides.

    Validating 10^5 ticks a second through the model costs more than storing them; this path only ever
    accepts what Tick accepts, with the same values (a Hypothesis property holds it to that), and sends
    every unusual record to the model, which also words the errors.
    """
    kind = type(record)
    if kind is dict:
        if not _FIELDS.issuperset(record):
            return None
        get = record.get
        symbol, price, timestamp, volume, source = (get("symbol"), get("price"), get("timestamp"),
                                                    get("volume", 0), get("source", "unknown"))
    elif kind is TickRow:
        symbol, price, timestamp, volume, source = record
    else:
        return None
    if type(symbol) is not str or type(timestamp) is not int or not _EARLIEST <= timestamp <= latest:
        return None
    if symbol not in _KNOWN_SYMBOLS:
        if not SYMBOL_PATTERN.fullmatch(symbol):
            return None
        _remember(_KNOWN_SYMBOLS, symbol)
    price = (type(price) is str and _KNOWN_PRICES.get(price)) or _number(price, _PRICE_LIMIT, _KNOWN_PRICES)
    volume = (type(volume) is str and _KNOWN_VOLUMES.get(volume)) or _number(volume, _VOLUME_LIMIT, _KNOWN_VOLUMES)
    if price is None or volume is None or not price:
        return None
    if type(source) is not str:
        return None
    if source not in _KNOWN_SOURCES:
        if len(source) > 50 or not source.isprintable():  # NUL, lone surrogates...: the model words it
            return None
        _remember(_KNOWN_SOURCES, source)
    return CheckedTick(symbol, price, timestamp, volume, source)


def _remember(known: set[str], text: str) -> None:
    if len(known) >= _KNOWN_MAX:
        known.clear()
    known.add(text)


def parse_tick(record: Any, latest: int | None = None) -> TickRow:
    """One tick (a mapping or a Tick); a bad one raises ValidationError naming the field and value.

    latest (latest_tick_ms()) may be given by a caller that checks many ticks in one go.
    """
    if type(record) is CheckedTick:
        return record
    row = _fast(record, latest_tick_ms() if latest is None else latest)
    if row is not None:
        return row
    if isinstance(record, Unreadable):
        raise ValidationError("record", record.text, record.reason)
    if isinstance(record, TickRow):
        record = record._asdict()
    if not isinstance(record, Tick):
        if not isinstance(record, dict):
            raise ValidationError("tick", record, "expected a mapping of fields")
        try:
            record = Tick.model_validate(record)
        except pydantic.ValidationError as exc:
            raise translate(exc) from exc
    return CheckedTick(record.symbol, record.price, record.timestamp, record.volume, record.source)


def parse_ticks(batch: Iterable[Any]) -> list[TickRow]:
    """Every tick of a batch, or ValidationError naming the first bad one as ticks[i].field."""
    rows, latest = [], latest_tick_ms()
    for index, record in enumerate(batch):
        row = _fast(record, latest) if type(record) is not CheckedTick else record
        if row is None:
            try:
                row = parse_tick(record, latest)
            except ValidationError as exc:
                raise ValidationError(f"ticks[{index}].{exc.field}", exc.value, exc.reason) from exc
        rows.append(row)
    return rows


def sort_ticks(batch: Iterable[Any]) -> tuple[list[TickRow], list[Rejection]]:
    """The good ticks of a batch, and each bad one with its position and reason."""
    rows, rejected, latest = [], [], latest_tick_ms()
    for index, record in enumerate(batch):
        try:
            rows.append(parse_tick(record, latest))
        except ValidationError as exc:
            rejected.append(Rejection(index, exc))
    return rows, rejected


def merge_same_millisecond(rows: list[TickRow]) -> list[TickRow]:
    """One row per symbol and millisecond, as the stores key ticks: the last trade's price and source, the
    trades' volumes added (refused, naming the symbol and instant, if the sum leaves the volume range)."""
    # The usual batch has nothing to merge. Equal keys have equal hash(symbol) ^ timestamp, so distinct
    # values prove it, with no tuple per row (10^4 of those wake the garbage collector); a collision only
    # means the exact merge below runs.
    if len(set(map(xor, map(hash, map(_SYMBOL, rows)), map(_TIME, rows)))) == len(rows):
        return rows
    merged: dict[tuple[str, int], TickRow] = {}
    for row in rows:
        key = (row.symbol, row.timestamp)
        earlier = merged.get(key)
        if earlier is not None:
            volume = earlier.volume + row.volume
            if volume >= _VOLUME_LIMIT:
                raise ValidationError("volume", f"{row.symbol} at {row.timestamp}",
                                      "the trades of one millisecond add up to 10^16 or more")
            row = CheckedTick(row.symbol, row.price, row.timestamp, volume, row.source)
        merged[key] = row
    return list(merged.values())


def tick_columns(rows: Sequence[TickRow], base: int = 0) -> dict[str, Any]:
    """One symbol's ticks as columns, the shape of a producer's Kinesis record and of DynamoDB's tick items:
    `t` milliseconds after base, `p` prices and `v` volumes as exact text, `s` the sources once each, and
    `i` each tick's source when there are several."""
    sources = sorted({row.source for row in rows})
    body: dict[str, Any] = {"t": [row.timestamp - base for row in rows], "p": [str(row.price) for row in rows],
                            "v": [str(row.volume) for row in rows], "s": sources}
    if len(sources) > 1:
        position = {source: n for n, source in enumerate(sources)}
        body["i"] = [position[row.source] for row in rows]
    return body


def column_records(symbol: Any, body: Mapping[str, Any], base: int = 0) -> list[dict[str, Any]]:
    """The tick records of columns (tick_columns), their shapes checked; each record is then validated like
    any other where it is stored."""
    times, prices, volumes = body.get("t"), body.get("p"), body.get("v")
    if not (isinstance(times, list) and isinstance(prices, list) and isinstance(volumes, list)
            and len(times) == len(prices) == len(volumes)):
        raise ValidationError("record", str(body)[:200], "t, p and v must be lists of one length")
    sources, which = body.get("s") or ["unknown"], body.get("i") or [0] * len(times)
    if not (isinstance(sources, list) and isinstance(which, list) and len(which) == len(times)
            and all(isinstance(n, int) and 0 <= n < len(sources) for n in which)):
        raise ValidationError("s", str(sources)[:200], "must list the sources, and i name one for each tick")
    return [{"symbol": symbol, "timestamp": base + t if base else t, "price": p, "volume": v, "source": sources[n]}
            for t, p, v, n in zip(times, prices, volumes, which, strict=True)]
