"""Instruments on DynamoDB: <symbol> / META and <symbol> / <instant> price points (alex-instruments)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import datetime
from heapq import merge
from typing import Any

from alexdb.adapters.dynamodb import keys
from alexdb.adapters.dynamodb.client import ConditionFailedError, Dynamo, TransactionCanceledError
from alexdb.adapters.dynamodb.codec import dump, load
from alexdb.adapters.dynamodb.paging import query_page
from alexdb.domain.errors import ConflictError, NotFoundError, ValidationError
from alexdb.domain.instants import instant_text, optional_instant, to_instant, utcnow
from alexdb.domain.models import Instrument, NewInstrument, PricePoint, normalise_symbol
from alexdb.domain.paging import Page, check_limit, decode_cursor, encode_cursor
from alexdb.domain.validate import build, price_row
from alexdb.domain.vocabulary import INSTRUMENT_TYPES
from alexdb.ports import Columns

PRICE_PAGE = 1000
# The current price lives in its own item, which no index projects: a price tick then writes the point
# and this small item only, instead of also rewriting the META copies held by both GSIs.
CURRENT_PRICE = "PRICE"
FIRST_INSTANT, LAST_INSTANT = "0", "9"  # price sort keys are ISO instants: "0" < all of them < "9" < "META" < "PRICE"
PARALLEL = 16


def _instrument(meta: dict[str, Any], price: dict[str, Any] | None) -> Instrument:
    return load(Instrument, {**meta, **(price or {})})


def _point(item: dict[str, Any]) -> PricePoint:
    return PricePoint(symbol=item["PK"], price=item["price"], at=item["SK"])


class DynamoInstruments:
    """db.instruments on DynamoDB."""

    def __init__(self, dynamo: Dynamo, table: str) -> None:
        self._dynamo, self._table = dynamo, table

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

    def create_instrument(self, data: NewInstrument | Mapping[str, Any]) -> Instrument:
        """Create an instrument; ConflictError if the symbol exists. A given price is recorded now."""
        new = build(NewInstrument, data)
        now = utcnow()
        instrument = Instrument(**new.model_dump(), current_price_at=now if new.current_price else None,
                                created_at=now, updated_at=now)
        # Conditional: creating never overwrites; the first price point goes in the same transaction.
        actions: list[dict[str, Any]] = [{"Put": {"TableName": self._table, "Item": self._meta(instrument),
                                                  "ConditionExpression": "attribute_not_exists(PK)"}}]
        if new.current_price is not None:
            point = PricePoint(symbol=new.symbol, price=new.current_price, at=now)
            actions += [{"Put": {"TableName": self._table, "Item": self._price_item(point)}},
                        {"Put": {"TableName": self._table, "Item": self._current_item(point)}}]
        try:
            self._dynamo.transact(actions)
        except TransactionCanceledError as exc:
            raise ConflictError(f"instrument {new.symbol!r} already exists") from exc
        return instrument

    def upsert_instrument(self, data: NewInstrument | Mapping[str, Any]) -> Instrument:
        """Create or replace an instrument's description; a changed price is recorded now."""
        new = build(NewInstrument, data)
        current = self.find_by_symbol(new.symbol)
        if current is None:
            try:
                return self.create_instrument(new)
            except ConflictError:
                current = self.get_instrument(new.symbol)
        now = utcnow()
        described = Instrument(**{**new.model_dump(), "current_price": current.current_price},
                               current_price_at=current.current_price_at, created_at=current.created_at,
                               updated_at=now)
        names = {f"#{n}": n for n in ("name", "instrument_type", "allocation_regions", "allocation_sectors",
                                      "allocation_asset_class", "updated_at", "GSI2PK")}
        item = self._meta(described)
        self._dynamo.update(self._table, {"PK": new.symbol, "SK": keys.INSTRUMENT_META},
                            "SET " + ", ".join(f"{n} = :{n[1:]}" for n in names), names,
                            {f":{n[1:]}": item[n[1:]] for n in names})
        if new.current_price is not None and new.current_price != current.current_price:
            self.record_price(new.symbol, new.current_price, now)
        return self.get_instrument(new.symbol)

    def find_by_symbol(self, symbol: str) -> Instrument | None:
        """The instrument with this symbol (any case), or None: one Query reads META and PRICE together."""
        items, _ = self._dynamo.query_page(
            self._table, None, None, KeyConditionExpression="#pk = :pk AND #sk >= :meta", ConsistentRead=True,
            ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
            ExpressionAttributeValues={":pk": normalise_symbol(symbol), ":meta": keys.INSTRUMENT_META})
        found = {item["SK"]: item for item in items}
        meta = found.get(keys.INSTRUMENT_META)
        return None if meta is None else _instrument(meta, found.get(CURRENT_PRICE))

    def get_instrument(self, symbol: str) -> Instrument:
        """The instrument with this symbol; NotFoundError if there is none."""
        found = self.find_by_symbol(symbol)
        if found is None:
            raise NotFoundError("instrument", symbol)
        return found

    def _index_page(self, index: str, partition: str, limit: int | None, cursor: str | None) -> Page[Instrument]:
        page = query_page(self._dynamo, self._table, lambda item: item, limit, cursor,
                          IndexName=index, KeyConditionExpression="#pk = :pk",
                          ExpressionAttributeNames={"#pk": f"{index}PK"}, ExpressionAttributeValues={":pk": partition})
        return Page(items=self._with_prices(page.items), next_cursor=page.next_cursor)

    def find_all(self, limit: int | None = None, cursor: str | None = None) -> Page[Instrument]:
        """All instruments by symbol: one Query of the sparse GSI1 per page."""
        return self._index_page("GSI1", keys.ALL_INSTRUMENTS, limit, cursor)

    def find_by_type(self, instrument_type: str, limit: int | None = None,
                     cursor: str | None = None) -> Page[Instrument]:
        """Instruments of one type by symbol: one Query of GSI2 per page."""
        if instrument_type not in INSTRUMENT_TYPES:
            raise ValidationError("instrument_type", instrument_type, f"must be one of {', '.join(INSTRUMENT_TYPES)}")
        return self._index_page("GSI2", f"TYPE#{instrument_type}", limit, cursor)

    def search(self, query: str, limit: int | None = None, cursor: str | None = None) -> Page[Instrument]:
        """Instruments whose symbol or name contains query, ignoring case.

        DynamoDB has no substring index: this reads the instrument directory (GSI1) in symbol order and
        matches in code; instruments are reference data, a few thousand items at most.
        """
        if not isinstance(query, str) or not query.strip() or len(query) > 255:
            raise ValidationError("query", query, "must be 1-255 characters")
        size, needle = check_limit(limit), query.strip().lower()
        after = (decode_cursor(cursor) or {}).get("after", "")
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
        next_cursor = encode_cursor({"after": matches[size - 1]["PK"]}) if len(matches) > size else None
        return Page(items=self._with_prices(matches[:size]), next_cursor=next_cursor)

    def record_price(self, symbol: str, price: Any, at: Any = None) -> PricePoint:
        """Record one price; the instrument's current_price follows if it is the newest."""
        point = price_row({"symbol": symbol, "price": price, "at": at})
        try:
            # The point is written only if the instrument exists.
            self._dynamo.transact([
                {"ConditionCheck": {"TableName": self._table, "Key": {"PK": point.symbol, "SK": keys.INSTRUMENT_META},
                                    "ConditionExpression": "attribute_exists(PK)"}},
                {"Put": {"TableName": self._table, "Item": self._price_item(point)}},
            ])
        except TransactionCanceledError as exc:
            raise NotFoundError("instrument", point.symbol) from exc
        self._advance_current(point)
        return point

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

    def record_prices(self, rows: Iterable[Any]) -> int:
        """Record many prices: every row is validated and every symbol checked before anything is written."""
        points = [price_row(row) for row in rows]
        symbols = sorted({p.symbol for p in points})
        found = {item["PK"] for item in self._dynamo.batch_get(
            self._table, [{"PK": s, "SK": keys.INSTRUMENT_META} for s in symbols])}
        for symbol in symbols:
            if symbol not in found:
                raise NotFoundError("instrument", symbol)
        unique = {(p.symbol, instant_text(p.at)): p for p in points}  # a batch may not name one key twice
        self._dynamo.batch_write(self._table, puts=[self._price_item(p) for p in unique.values()])
        newest: dict[str, PricePoint] = {}
        for point in points:
            if point.symbol not in newest or point.at >= newest[point.symbol].at:
                newest[point.symbol] = point
        for point in newest.values():
            self._advance_current(point)
        return len(points)

    def get_price_at(self, symbol: str, at: Any) -> PricePoint | None:
        """The last price at or before at: one Query (sort key <= instant, newest first, limit 1)."""
        return self._price_at(normalise_symbol(symbol), to_instant(at))

    def _price_at(self, symbol: str, at: datetime) -> PricePoint | None:
        items, _ = self._dynamo.query_page(
            self._table, 1, None, KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :at",
            ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
            ExpressionAttributeValues={":pk": symbol, ":low": FIRST_INSTANT, ":at": instant_text(at)},
            ScanIndexForward=False, ConsistentRead=True)
        return _point(items[0]) if items else None

    def get_price_history(self, symbol: str, start: Any = None, end: Any = None,
                          limit: int | None = PRICE_PAGE, cursor: str | None = None) -> Page[PricePoint]:
        """Prices of one symbol between start and end inclusive, oldest first."""
        begin, finish = optional_instant(start, "start"), optional_instant(end, "end")
        return query_page(self._dynamo, self._table, _point, limit, cursor,
                          KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :high",
                          ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
                          ExpressionAttributeValues={
                              ":pk": normalise_symbol(symbol),
                              ":low": FIRST_INSTANT if begin is None else instant_text(begin),
                              ":high": LAST_INSTANT if finish is None else instant_text(finish)},
                          ConsistentRead=True)

    def prices_at(self, symbols: Sequence[str], at: datetime) -> dict[str, PricePoint]:
        """Each symbol's last price at or before at: one Query per symbol, run concurrently."""
        if not symbols:
            return {}
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(symbols))) as pool:
            found = pool.map(lambda symbol: self._price_at(symbol, at), symbols)
            return {point.symbol: point for point in found if point is not None}

    def price_points_until(self, symbols: Sequence[str], end: datetime) -> Columns:
        """Every price of these symbols up to end, in time order: one paginated Query per symbol, concurrently."""
        if not symbols:
            return [], [], []
        high = instant_text(end)

        def points(symbol: str) -> list[tuple[str, str, Any]]:
            return [(item["SK"], symbol, item["price"]) for item in self._dynamo.query(
                self._table, KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :high",
                ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"}, ConsistentRead=True,
                ExpressionAttributeValues={":pk": symbol, ":low": FIRST_INSTANT, ":high": high})]

        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(symbols))) as pool:
            ordered = list(merge(*pool.map(points, symbols)))
        return [s for _, s, _ in ordered], [at for at, _, _ in ordered], [p for _, _, p in ordered]
