"""Daily closes on DynamoDB: a symbol's closes of one month in one small item, apart from the intraday points.

A symbol's price points (daily feeds, one-minute bars, ticks' bars) share its partition, so a series that
read them would read every bar. The close of each UTC day, the last point of the day, is also kept in
the partition `<symbol>#M`, one item per month (`YYYY-MM`): `c` holds the month's closes as text,
`DD:microsecond of the day:price` joined by `;` (about 25 bytes a day, so a month is one write unit), and
`v` its version. A day runs from just after midnight UTC to midnight inclusive, so a point at exactly
midnight closes the day before: the last price at or before any midnight is always the close of the day
before it. A series stepping at midnight reads 60 small items for five years of one symbol (some 12
read units, and 60 items to parse instead of 1,826: parsing, not the network, is what a read costs here).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from alexdb.adapters.dynamodb.client import Dynamo
from alexdb.domain.errors import BackendError
from alexdb.domain.instants import instant_text
from alexdb.domain.models import PricePoint

CLOSES_SUFFIX = "#M"  # symbols never contain '#': "SPY#M" is never a symbol's own partition
PARALLEL = 16
ONE_DAY = timedelta(days=1)
MICROSECOND = timedelta(microseconds=1)


def closes_key(symbol: str) -> str:
    """The partition of a symbol's daily closes."""
    return symbol + CLOSES_SUFFIX


def day_of(at: datetime) -> date:
    """The day a point closes: midnight belongs to the day before it."""
    return (at - MICROSECOND).date()


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def offset_of(at: datetime) -> int:
    """Microseconds from the start of the point's day (1 to 86,400,000,000)."""
    return (at - _day_start(day_of(at))) // MICROSECOND


def is_midnight(instant: datetime) -> bool:
    """True at a midnight UTC: the closes alone give the last price then."""
    return not (instant.hour or instant.minute or instant.second or instant.microsecond)


def close_items(points: Iterable[PricePoint]) -> list[tuple[str, date, int, Any]]:
    """(symbol, day, offset, price) of the newest point of each symbol and day among points."""
    newest: dict[tuple[str, date], tuple[int, Any]] = {}
    for point in points:
        key, offset = (point.symbol, day_of(point.at)), offset_of(point.at)
        if key not in newest or newest[key][0] <= offset:
            newest[key] = (offset, point.price)
    return [(symbol, day, offset, price) for (symbol, day), (offset, price) in newest.items()]


def month_item(point: PricePoint) -> dict[str, Any]:
    """The month item of a symbol's first point (a new instrument's)."""
    ((symbol, day, offset, price),) = close_items([point])
    return {"PK": closes_key(symbol), "SK": day.isoformat()[:7], "c": _text({day.day: (offset, price)}), "v": 1}


class DailyCloses:
    """The month items of closes in the instruments table: advanced after points are written, read for
    midnights."""

    def __init__(self, dynamo: Dynamo, table: str) -> None:
        self._dynamo, self._table = dynamo, table

    def advance(self, points: Iterable[PricePoint]) -> None:
        """Move each day's close to the newest of points unless a newer point of that day is stored already.

        Runs after the points are written: a failure in between leaves a day's close behind its points
        until the same write is made again (re-writing prices is harmless), never ahead of them.
        """
        months: dict[tuple[str, str], dict[int, tuple[int, Any]]] = defaultdict(dict)
        for symbol, day, offset, price in close_items(points):
            months[symbol, day.isoformat()[:7]][day.day] = (offset, price)
        if not months:
            return
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(months))) as pool:
            list(pool.map(lambda key: self._advance_month(key[0], key[1], months[key]), months))

    def _advance_month(self, symbol: str, month: str, days: dict[int, tuple[int, Any]]) -> None:
        key = {"PK": closes_key(symbol), "SK": month}
        for attempt in self._dynamo.retry.rounds():
            stored = self._dynamo.get(self._table, key)
            closes = {} if stored is None else _parse(stored["c"])
            changed = False
            for day, (offset, price) in days.items():
                if day not in closes or closes[day][0] <= offset:
                    changed |= closes.get(day) != (offset, Decimal(price))
                    closes[day] = (offset, Decimal(price))
            if not changed:
                return
            version = 0 if stored is None else int(stored["v"])
            item = {**key, "c": _text(closes), "v": version + 1}
            # Conditional on the version read: two writers of one month never lose each other's closes.
            if self._dynamo.put_if(self._table, item, "attribute_not_exists(PK)" if stored is None else "#v = :v",
                                   None if stored is None else {"#v": "v"},
                                   None if stored is None else {":v": version}):
                return
            self._dynamo.retry.sleep(min(attempt, 6))
        raise BackendError(f"daily closes of {symbol} in {month}: too much contention, gave up")

    def points_at_midnights(self, symbol: str, instants: Sequence[datetime]) -> list[tuple[str, str, Any]]:
        """(instant text, symbol, price) of the closes that answer these midnights, in time order: the months
        from the first midnight's to the last's, and, if the first month holds no close before the first
        midnight, the newest month before it."""
        first, last = instants[0].date(), instants[-1].date() - ONE_DAY
        names, pk = {"#pk": "PK", "#sk": "SK"}, closes_key(symbol)
        months = list(self._dynamo.query(
            self._table, KeyConditionExpression="#pk = :pk AND #sk BETWEEN :first AND :last",
            ExpressionAttributeNames=names, ConsistentRead=True, ProjectionExpression="#sk, c",
            ExpressionAttributeValues={":pk": pk, ":first": first.isoformat()[:7],
                                       ":last": max(first, last).isoformat()[:7]}))
        closes = _closes_of(months)
        opening = [close for close in closes if close[0] < first][-1:]
        if not opening:
            before, _ = self._dynamo.query_page(
                self._table, 1, None, KeyConditionExpression="#pk = :pk AND #sk < :first", ScanIndexForward=False,
                ExpressionAttributeNames=names, ConsistentRead=True, ProjectionExpression="#sk, c",
                ExpressionAttributeValues={":pk": pk, ":first": first.isoformat()[:7]})
            opening = _closes_of(before)[-1:]
        wanted = opening + [close for close in closes if first <= close[0] <= last]
        return [(_close_instant(day, offset), symbol, price) for day, offset, price in wanted]


def _closes_of(months: list[dict[str, Any]]) -> list[tuple[date, int, Decimal]]:
    """(day, microsecond of the day, price) of every close in month items, in time order."""
    return [(date.fromisoformat(f"{item['SK']}-{day:02d}"), offset, price)
            for item in months for day, (offset, price) in sorted(_parse(item["c"]).items())]


def _close_instant(day: date, offset: int) -> str:
    """instant_text of the point offset microseconds into day, written directly (a series formats
    thousands: this is several times faster than datetime arithmetic)."""
    if offset >= 86_400_000_000:  # exactly midnight: the next day's first instant
        return instant_text(_day_start(day) + offset * MICROSECOND)
    seconds, micros = divmod(offset, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:{second:02d}.{micros:06d}Z"


def _parse(text: str) -> dict[int, tuple[int, Decimal]]:
    closes: dict[int, tuple[int, Decimal]] = {}
    for entry in text.split(";") if text else ():
        day, offset, price = entry.split(":")
        closes[int(day)] = (int(offset), Decimal(price))
    return closes


def _text(closes: dict[int, tuple[int, Decimal]]) -> str:
    return ";".join(f"{day}:{offset}:{price}" for day, (offset, price) in sorted(closes.items()))
