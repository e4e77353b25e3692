"""Daily closes on DynamoDB: one small item per symbol and UTC day, apart from the intraday points.

A symbol's price points (daily feeds, one-minute bars, ticks' bars) share its partition, so a series that
read them would read every bar. Each day also has a close item, `<symbol>#D` / `<YYYY-MM-DD>`, holding the
last point of the day: its price `p` and `u`, microseconds after the day's start. A day runs from just
after midnight UTC to midnight inclusive, so a point at exactly midnight closes the day before: the last
price at or before any midnight is then always the close of the day before it. A series stepping at
midnight reads one close per day (about 34 bytes: five years of one symbol are some 11 read units).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

from alexdb.adapters.dynamodb.client import Dynamo
from alexdb.domain.instants import instant_text
from alexdb.domain.models import PricePoint

CLOSES_SUFFIX = "#D"  # symbols never contain '#': "SPY#D" is never a symbol's own partition
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


def at_midnight(instants: Sequence[datetime]) -> bool:
    """True when every instant is a midnight UTC: the closes alone give the last price at each."""
    return all(not (i.hour or i.minute or i.second or i.microsecond) for i in instants)


def close_items(points: Iterable[PricePoint]) -> list[tuple[str, date, int, Any]]:
    """(symbol, day, offset, price) of the newest point of each symbol and day among points."""
    newest: dict[tuple[str, date], tuple[int, Any]] = {}
    for point in points:
        key, offset = (point.symbol, day_of(point.at)), offset_of(point.at)
        if key not in newest or newest[key][0] <= offset:
            newest[key] = (offset, point.price)
    return [(symbol, day, offset, price) for (symbol, day), (offset, price) in newest.items()]


class DailyCloses:
    """The close items of the instruments table: advanced after points are written, read for midnights."""

    def __init__(self, dynamo: Dynamo, table: str) -> None:
        self._dynamo, self._table = dynamo, table

    def advance(self, points: Iterable[PricePoint]) -> None:
        """Move each day's close to the newest of points unless a newer point of that day is stored already.

        Runs after the points are written: a failure in between leaves a day's close behind its points
        until the same write is made again (re-writing prices is harmless), never ahead of them.
        """
        items = close_items(points)
        if not items:
            return
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(items))) as pool:
            list(pool.map(self._advance_one, items))

    def _advance_one(self, item: tuple[str, date, int, Any]) -> None:
        symbol, day, offset, price = item
        # Refused when a newer point of that day is the close already: nothing to do then.
        self._dynamo.update_if(
            self._table, {"PK": closes_key(symbol), "SK": day.isoformat()}, "SET #p = :p, #u = :u",
            {"#p": "p", "#u": "u"}, {":p": price, ":u": offset}, "attribute_not_exists(#u) OR #u <= :u")

    def points_at_midnights(self, symbol: str, instants: Sequence[datetime]) -> list[tuple[str, str, Any]]:
        """(instant text, symbol, price) of the closes that answer these midnights, in time order.

        The close of the day before the first midnight (one item, newest first), then every close up to the
        day before the last midnight.
        """
        first, last = instants[0].date(), instants[-1].date() - ONE_DAY
        names, pk = {"#pk": "PK", "#sk": "SK"}, closes_key(symbol)
        opening, _ = self._dynamo.query_page(
            self._table, 1, None, KeyConditionExpression="#pk = :pk AND #sk < :first", ScanIndexForward=False,
            ExpressionAttributeNames=names, ExpressionAttributeValues={":pk": pk, ":first": first.isoformat()},
            ConsistentRead=True)
        rest = [] if last < first else list(self._dynamo.query(
            self._table, KeyConditionExpression="#pk = :pk AND #sk BETWEEN :first AND :last",
            ExpressionAttributeNames=names, ConsistentRead=True,
            ExpressionAttributeValues={":pk": pk, ":first": first.isoformat(), ":last": last.isoformat()}))
        return [(self._instant(item), symbol, item["p"]) for item in [*opening, *rest]]

    @staticmethod
    def _instant(item: dict[str, Any]) -> str:
        day = date.fromisoformat(item["SK"])
        return instant_text(_day_start(day) + int(item["u"]) * MICROSECOND)
