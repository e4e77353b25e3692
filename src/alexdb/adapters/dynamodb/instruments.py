"""Instruments on DynamoDB: <symbol> / META, <symbol> / <instant> price points, <symbol>#M daily closes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from datetime import datetime
from typing import Any

from alexdb.adapters.dynamodb import keys
from alexdb.adapters.dynamodb.client import READ_POOL, ConditionFailedError, Dynamo
from alexdb.adapters.dynamodb.closes import DailyCloses, is_midnight, month_item
from alexdb.adapters.dynamodb.codec import dump, load
from alexdb.adapters.dynamodb.hot import CURRENT_PRICE, HotInstruments
from alexdb.adapters.dynamodb.paging import query_rows
from alexdb.domain.errors import ValidationError
from alexdb.domain.instants import instant_text
from alexdb.domain.models import Instrument, PricePoint
from alexdb.domain.paging import Bookmark
from alexdb.ports import Columns, Rows

# The current price lives in its own item (CURRENT_PRICE), which no index projects: a price tick then writes
# the point and this small item only, instead of also rewriting the META copies held by both GSIs.
FIRST_INSTANT, LAST_INSTANT = "0", "9"  # price sort keys are ISO instants: "0" < all of them < "9" < "META" < "PRICE"
FEW_INSTANTS = 32  # up to this many instants that are not midnights: one Query each, not a range


def _instrument(meta: dict[str, Any], price: dict[str, Any] | None) -> Instrument:
    return load(Instrument, {**meta, **(price or {})})


def _point(item: dict[str, Any]) -> PricePoint:
    return PricePoint(symbol=item["PK"], price=item["price"], at=item["SK"])


class DynamoInstruments:
    """InstrumentStore on DynamoDB."""

    def __init__(self, dynamo: Dynamo, table: str, hot: HotInstruments) -> None:
        self._dynamo, self._table, self._hot = dynamo, table, hot
        self._closes = DailyCloses(dynamo, table)

    def _meta(self, instrument: Instrument) -> dict[str, Any]:
        item = dump(instrument, PK=instrument.symbol, SK=keys.INSTRUMENT_META,
                    GSI1PK=keys.ALL_INSTRUMENTS, GSI1SK=instrument.symbol,
                    GSI2PK=f"TYPE#{instrument.instrument_type}", GSI2SK=instrument.symbol)
        item.pop("current_price", None)
        item.pop("current_price_at", None)
        return item

    def _with_prices(self, items: list[dict[str, Any]]) -> list[Instrument]:
        """META items completed with their PRICE items (one BatchGetItem)."""
        if not items:
            return []
        prices = {p["PK"]: p for p in self._dynamo.batch_get(
            self._table, [{"PK": item["PK"], "SK": CURRENT_PRICE} for item in items])}
        return [_instrument(item, prices.get(item["PK"])) for item in items]

    def get_instrument(self, symbol: str) -> Instrument | None:
        """The instrument, or None: one Query reads META and PRICE together."""
        items, _ = self._dynamo.query_page(
            self._table, None, None, KeyConditionExpression="#pk = :pk AND #sk >= :meta", ConsistentRead=True,
            ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
            ExpressionAttributeValues={":pk": symbol, ":meta": keys.INSTRUMENT_META})
        found = {item["SK"]: item for item in items}
        meta = found.get(keys.INSTRUMENT_META)
        return None if meta is None else _instrument(meta, found.get(CURRENT_PRICE))

    def insert_instrument(self, instrument: Instrument, first: PricePoint | None) -> bool:
        """One transaction: META (only if absent) with the first price point and PRICE item."""
        actions: list[dict[str, Any]] = [{"Put": {"TableName": self._table, "Item": self._meta(instrument),
                                                  "ConditionExpression": "attribute_not_exists(PK)"}}]
        if first is not None:
            actions += [{"Put": {"TableName": self._table, "Item": self._price_item(first)}},
                        {"Put": {"TableName": self._table, "Item": self._current_item(first)}},
                        {"Put": {"TableName": self._table, "Item": month_item(first)}}]
        inserted = self._dynamo.transact_if(actions)
        self._hot.forget([instrument.symbol])  # after the write: a read in between cannot cache the old state
        return inserted

    def replace_description(self, instrument: Instrument, expected: datetime) -> bool:
        """Update META's description only while its updated_at is still expected (PRICE is untouched)."""
        names = {f"#{n}": n for n in ("name", "instrument_type", "allocation_regions", "allocation_sectors",
                                      "allocation_asset_class", "updated_at", "GSI2PK")}
        item = self._meta(instrument)
        try:
            return self._dynamo.update_if(
                self._table, {"PK": instrument.symbol, "SK": keys.INSTRUMENT_META},
                "SET " + ", ".join(f"{n} = :{n[1:]}" for n in names), names,
                {**{f":{n[1:]}": item[n[1:]] for n in names}, ":expected": instant_text(expected)},
                "attribute_exists(PK) AND #updated_at = :expected") is not None
        finally:
            self._hot.forget([instrument.symbol])

    def instrument_page(self, instrument_type: str | None, after: Bookmark | None, size: int) -> Rows:
        """Instruments by symbol: one Query of the sparse GSI1 (all) or GSI2 (one type) per page."""
        index, partition = ("GSI1", keys.ALL_INSTRUMENTS) if instrument_type is None else \
            ("GSI2", f"TYPE#{instrument_type}")
        items, position = query_rows(self._dynamo, self._table, lambda item: item, size, after,
                                     IndexName=index, KeyConditionExpression="#pk = :pk",
                                     ExpressionAttributeNames={"#pk": f"{index}PK"},
                                     ExpressionAttributeValues={":pk": partition})
        return self._with_prices(items), position

    def search_page(self, needle: str, after: Bookmark | None, size: int) -> Rows:
        """Instruments whose symbol or name contains needle, by symbol.

        DynamoDB has no substring index: this reads the instrument directory (GSI1) in symbol order and
        matches in code; instruments are reference data, a few thousand items at most.
        """
        if after is not None and not isinstance(after, str):
            raise ValidationError("cursor", after, "not a position of this list")
        matches: list[dict[str, Any]] = []
        directory = self._dynamo.query(
            self._table, IndexName="GSI1", KeyConditionExpression="#pk = :pk AND #sk > :after",
            ExpressionAttributeNames={"#pk": "GSI1PK", "#sk": "GSI1SK"},
            ExpressionAttributeValues={":pk": keys.ALL_INSTRUMENTS, ":after": after or " "})
        for item in directory:
            if needle in item["PK"].lower() or needle in item["name"].lower():
                matches.append(item)
                if len(matches) > size:
                    break
        position = matches[size - 1]["PK"] if len(matches) > size else None
        return self._with_prices(matches[:size]), position

    def _price_item(self, point: PricePoint) -> dict[str, Any]:
        return {"PK": point.symbol, "SK": instant_text(point.at), "price": point.price}

    def _current_item(self, point: PricePoint) -> dict[str, Any]:
        return {"PK": point.symbol, "SK": CURRENT_PRICE, "current_price": point.price,
                "current_price_at": instant_text(point.at)}

    def _advance_current(self, point: PricePoint) -> None:
        # Conditional: only a point at least as new as the current one moves current_price; an older
        # point (a backfill) fails the condition and current_price stays.
        with suppress(ConditionFailedError):
            self._dynamo.put(self._table, self._current_item(point), names={"#at": "current_price_at"},
                             values={":at": instant_text(point.at)},
                             condition="attribute_not_exists(#at) OR #at <= :at")

    def write_prices(self, points: Sequence[PricePoint], newest: Mapping[str, PricePoint]) -> list[str]:
        """Every symbol checked before anything is written; then the points, then each current price."""
        symbols = sorted(newest)
        found = {item["PK"] for item in self._dynamo.batch_get(
            self._table, [{"PK": s, "SK": keys.INSTRUMENT_META} for s in symbols])}
        missing = [symbol for symbol in symbols if symbol not in found]
        if missing:
            return missing
        unique = {(p.symbol, instant_text(p.at)): p for p in points}  # a batch may not name one key twice
        self._dynamo.batch_write(self._table, puts=[self._price_item(p) for p in unique.values()])
        self._closes.advance(unique.values())
        for point in newest.values():
            self._advance_current(point)
        self._hot.forget(symbols)
        return []

    def price_at(self, symbol: str, at: datetime) -> PricePoint | None:
        """The last price at or before at: one Query (sort key <= instant, newest first, limit 1)."""
        items, _ = self._dynamo.query_page(
            self._table, 1, None, KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :at",
            ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
            ExpressionAttributeValues={":pk": symbol, ":low": FIRST_INSTANT, ":at": instant_text(at)},
            ScanIndexForward=False, ConsistentRead=True)
        return _point(items[0]) if items else None

    def price_page(
        self, symbol: str, start: datetime | None, end: datetime | None, after: Bookmark | None, size: int
    ) -> Rows:
        """Prices of one symbol between start and end inclusive, oldest first: one Query per page."""
        return query_rows(self._dynamo, self._table, _point, size, after,
                          KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :high",
                          ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
                          ExpressionAttributeValues={
                              ":pk": symbol,
                              ":low": FIRST_INSTANT if start is None else instant_text(start),
                              ":high": LAST_INSTANT if end is None else instant_text(end)},
                          ConsistentRead=True)

    def prices_at(self, symbols: Sequence[str], at: datetime) -> dict[str, PricePoint]:
        """Each symbol's last price at or before at: one Query per symbol, run concurrently."""
        found = READ_POOL.map(lambda symbol: self.price_at(symbol, at), symbols)
        return {point.symbol: point for point in found if point is not None}

    def price_points_at(self, symbols: Sequence[str], instants: Sequence[datetime]) -> Columns:
        """Each symbol's prices at these instants, per symbol concurrently (one pool for the process), by symbol.

        Midnights (UTC) are answered by the daily closes (a month to an item). A few other instants (up to
        FEW_INSTANTS: the trades inside a period whose returns are asked for, say) are one newest-first
        Query each; more of them read the symbol's points from its last one at or before the first instant
        up to the last instant.
        """
        midnights = [instant for instant in instants if is_midnight(instant)]
        others = [instant for instant in instants if not is_midnight(instant)]

        def points(symbol: str) -> list[tuple[str, str, Any]]:
            if len(others) <= FEW_INSTANTS:
                found = self._closes.points_at_midnights(symbol, midnights) if midnights else []
                for instant in others:
                    point = self.price_at(symbol, instant)
                    if point is not None:
                        found.append((instant_text(point.at), symbol, point.price))
                return sorted(set(found))
            opening = self.price_at(symbol, instants[0])
            if instants[-1] == instants[0]:
                return [] if opening is None else [(instant_text(opening.at), symbol, opening.price)]
            return [*([] if opening is None else [(instant_text(opening.at), symbol, opening.price)]),
                    *((item["SK"], symbol, item["price"]) for item in self._dynamo.query(
                        self._table, KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :high",
                        ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"}, ConsistentRead=True,
                        ExpressionAttributeValues={":pk": symbol, ":low": instant_text(instants[0]) + "~",
                                                   ":high": instant_text(instants[-1])}))]

        ordered = [row for rows in READ_POOL.map(points, sorted(symbols)) for row in rows]
        return [s for _, s, _ in ordered], [at for at, _, _ in ordered], [p for _, _, p in ordered]
