"""Series read only the prices their instants need, and give what the last price at each instant says.

Contract tests (every backend): intraday points, a point at exactly midnight, a backfill older than a
point already stored that day, and a point before the series starts. DynamoDB tests: the daily closes
answer a midnight series in a bounded number of read units, whatever the intraday bars; the hot
instrument items are cached within their bound; `alexdb migrate` builds the closes of older tables.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import alexdb
from alexdb import Database
from alexdb.adapters.dynamodb.hot import HotInstruments
from alexdb.adapters.dynamodb.upgrade import CLOSES_KEY
from tests.conftest import dynamo_engine, instrument

START = datetime(2024, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def _prices(db: Database) -> None:
    db.instruments.create_instrument(instrument("AAA"))
    db.instruments.create_instrument(instrument("BBB"))
    points = [("AAA", "9", START - timedelta(days=40))]  # long before the series: its first value
    for day in range(10):
        base = START + day * DAY
        points += [("AAA", str(10 + day), base + timedelta(hours=14)),
                   ("AAA", f"{10 + day}.5", base + timedelta(hours=21)),
                   ("BBB", str(100 + day), base + timedelta(hours=21, minutes=30))]
    points.append(("BBB", "555", START + 4 * DAY))  # exactly midnight: closes the day before
    db.instruments.record_prices(points)
    # A backfill older than that day's last point: the day's close stays the later point.
    db.instruments.record_prices([("AAA", "1", START + 2 * DAY + timedelta(hours=3))])


def _expected(db: Database, account_id: object, instants: list[datetime]) -> list[Decimal]:
    totals = []
    for at in instants:
        value = Decimal(0)
        for symbol, quantity in (("AAA", 2), ("BBB", 3)):
            point = db.instruments.get_price_at(symbol, at)
            value += quantity * point.price if point is not None else 0
        totals.append(value)
    return totals


def _series_matches_last_prices(db: Database, first: datetime) -> None:
    _prices(db)
    db.users.create_user("u")
    account = db.accounts.create_account("u", "a")
    db.positions.record_trades(account.id, [("AAA", "BUY", 2, START - 50 * DAY), ("BBB", "BUY", 3, START - 50 * DAY)])
    series = db.positions.get_value_series(account.id, first, first + 11 * DAY, DAY)
    assert [point.holdings_value for point in series] == _expected(db, account.id, [p.at for p in series])


def test_a_series_at_midnights_uses_each_days_last_price(db: Database) -> None:
    _series_matches_last_prices(db, START)


def test_a_series_at_another_time_of_day_uses_the_last_price_before_each_step(db: Database) -> None:
    _series_matches_last_prices(db, START + timedelta(hours=20))


def test_a_series_of_one_instant(db: Database) -> None:
    _prices(db)
    columns = db.instruments.price_points_at(["AAA", "BBB"], [START + 3 * DAY + timedelta(hours=15)])
    assert list(zip(*columns, strict=True)) == [("AAA", "2024-03-04T14:00:00.000000Z", Decimal("13")),
                                                ("BBB", "2024-03-03T21:30:00.000000Z", Decimal("102"))]


def test_a_five_year_midnight_series_reads_the_daily_closes_only(dynamo_db: Database) -> None:
    db = dynamo_db
    db.instruments.create_instrument(instrument("SPY"))
    first = datetime(2019, 1, 1, tzinfo=UTC)
    days = 5 * 365 + 1
    db.instruments.record_prices([("SPY", f"{100 + d % 50}.25", first + d * DAY + timedelta(hours=21))
                                  for d in range(days)])
    instants = [first + d * DAY for d in range(1, days + 1)]
    meter = dynamo_engine(db).meter
    meter.reset()
    columns = db.instruments.price_points_at(["SPY"], instants)
    daily_units, daily_requests = sum(meter.read_units.values()), dict(meter.requests)
    assert len(columns[0]) == days
    # Intraday bars of the last month (one a minute over trading hours) change nothing the series reads.
    db.instruments.record_prices([("SPY", "150", first + (days - d) * DAY + timedelta(hours=14, minutes=m))
                                  for d in range(1, 31) for m in range(0, 390, 5)])
    meter.reset()
    assert db.instruments.price_points_at(["SPY"], instants)[1] == columns[1]
    assert dict(meter.requests) == daily_requests and daily_requests["Query"] <= 2
    assert sum(meter.read_units.values()) == daily_units <= 20


def test_holdings_views_read_instrument_items_within_their_staleness_bound(dynamo_db: Database) -> None:
    db = dynamo_db
    db.users.create_user("u")
    db.instruments.create_instrument(instrument("SPY", "100"))
    account = db.accounts.create_account("u", "a")
    db.positions.record_trade(account.id, "SPY", "BUY", 1)
    meter = dynamo_engine(db).meter
    db.positions.find_by_account(account.id)
    meter.reset()
    db.positions.find_by_account(account.id)
    assert "BatchGetItem" not in meter.requests  # served from the cache
    db.instruments.record_prices([("SPY", "101", datetime.now(UTC))])
    assert db.positions.find_by_account(account.id)[0].current_price == Decimal("101")  # own writes: at once
    url = dynamo_engine(db).url
    other = alexdb.connect(url + ("&" if "?" in url else "?") + "price_cache=0.5")
    try:
        assert other.positions.find_by_account(account.id)[0].current_price == Decimal("101")
        db.instruments.record_prices([("SPY", "102", datetime.now(UTC))])
        stale = other.positions.find_by_account(account.id)[0].current_price
        assert stale == Decimal("101")  # another process's write: not yet
        time.sleep(0.6)
        assert other.positions.find_by_account(account.id)[0].current_price == Decimal("102")
    finally:
        other.close()


def test_migrate_builds_the_daily_closes_of_older_tables(dynamo_db: Database) -> None:
    db = dynamo_db
    _prices(db)
    engine = dynamo_engine(db)
    instruments = engine.config.instruments_table
    closes = [item for item in engine.dynamo.scan(instruments) if item["PK"].endswith("#M")]
    assert closes
    expected = db.instruments.price_points_at(["AAA", "BBB"], [START + d * DAY for d in range(12)])
    for item in closes:  # as the design before the closes stored them: none
        engine.dynamo.client.delete_item(TableName=instruments, Key={"PK": {"S": item["PK"]}, "SK": {"S": item["SK"]}})
    engine.dynamo.client.delete_item(TableName=engine.config.users_table,
                                     Key={k: {"S": v} for k, v in CLOSES_KEY.items()})
    assert db.migrate() == "dynamodb-5"
    assert db.instruments.price_points_at(["AAA", "BBB"], [START + d * DAY for d in range(12)]) == expected
    assert len([item for item in engine.dynamo.scan(instruments) if item["PK"].endswith("#M")]) == len(closes)


def test_a_series_at_another_time_of_day_reads_only_what_its_instants_need(dynamo_db: Database) -> None:
    db = dynamo_db
    db.instruments.create_instrument(instrument("SPY"))
    first = datetime(2020, 1, 1, tzinfo=UTC)
    db.instruments.record_prices([("SPY", f"{100 + d % 50}.25", first + d * DAY + timedelta(hours=21))
                                  for d in range(1500)])
    meter = dynamo_engine(db).meter
    for count, requests in ((5, 5), (40, 2)):  # a few instants: one Query each; more: the range they span
        instants = [first + (1450 + d) * DAY + timedelta(hours=22) for d in range(count)]
        meter.reset()
        columns = db.instruments.price_points_at(["SPY"], instants)
        assert columns[1] == [(first + (1450 + d) * DAY + timedelta(hours=21)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
                              for d in range(count)]
        # Never the 1,450 points before the first instant.
        assert dict(meter.requests) == {"Query": requests} and sum(meter.read_units.values()) <= requests + 1
    # Midnights with a few other instants (the trades inside a period whose returns are asked for).
    mixed = sorted([first + (1400 + d) * DAY for d in range(60)] + [first + 1420 * DAY + timedelta(hours=22)])
    meter.reset()
    columns = db.instruments.price_points_at(["SPY"], mixed)
    assert dict(meter.requests)["Query"] <= 3
    expected = {db.instruments.get_price_at("SPY", at) for at in mixed}
    assert {(at, price) for at, price in zip(columns[1], columns[2], strict=True)} == {
        (p.at.strftime("%Y-%m-%dT%H:%M:%S.000000Z"), p.price) for p in expected if p is not None}


def test_threads_that_miss_the_cache_together_read_once(dynamo_db: Database) -> None:
    db = dynamo_db
    db.instruments.create_instrument(instrument("SPY", "100"))
    engine = dynamo_engine(db)
    hot = HotInstruments(engine.dynamo, engine.config.instruments_table)
    barrier = threading.Barrier(8)
    found: list[dict[tuple[str, str], dict[str, object]]] = []

    def view() -> None:
        barrier.wait()
        found.append(hot.items(["SPY"]))

    engine.meter.reset()
    threads = [threading.Thread(target=view) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert engine.meter.requests == {"BatchGetItem": 1}
    assert all(items[("SPY", "PRICE")]["current_price"] == Decimal("100") for items in found) and len(found) == 8


def test_writers_of_one_month_of_closes_keep_each_others_days(dynamo_db: Database) -> None:
    db = dynamo_db
    db.instruments.create_instrument(instrument("SPY"))
    days = list(range(1, 29))

    def write(day: int) -> None:
        db.instruments.record_prices([("SPY", f"{100 + day}", datetime(2024, 2, day, 21, tzinfo=UTC))])

    threads = [threading.Thread(target=write, args=(day,)) for day in days]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    midnights = [datetime(2024, 2, day, tzinfo=UTC) + DAY for day in days]
    assert db.instruments.price_points_at(["SPY"], midnights)[2] == [Decimal(100 + day) for day in days]
