"""Contract: instruments and prices."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from alexdb import ConflictError, Database, NotFoundError, ValidationError
from tests.conftest import instrument, present


def test_create_find_and_conflict(db: Database) -> None:
    created = db.instruments.create_instrument(instrument("spy", "450.25"))
    assert created.symbol == "SPY"
    assert db.instruments.find_by_symbol("Spy") == created
    assert created.current_price == Decimal("450.25")
    with pytest.raises(ConflictError):
        db.instruments.create_instrument(instrument("SPY", name="Other"))
    assert db.instruments.get_instrument("SPY").name == "spy fund"
    assert db.instruments.find_by_symbol("NOPE") is None


def test_create_accepts_a_model(db: Database) -> None:
    from alexdb.domain.models import NewInstrument

    model = NewInstrument.model_validate(instrument("VTI"))
    assert db.instruments.create_instrument(model).symbol == "VTI"


def test_upsert_replaces_description(db: Database) -> None:
    db.instruments.upsert_instrument(instrument("SPY", "1"))
    updated = db.instruments.upsert_instrument(instrument("SPY", "2", name="Renamed"))
    assert updated.name == "Renamed" and updated.current_price == Decimal("2")
    assert db.counts()["instruments"] == 1
    assert len(db.instruments.get_price_history("SPY")) == 2


def test_paging_type_and_search(db: Database) -> None:
    for symbol in ("AAA", "BBB", "CCC", "DDD"):
        db.instruments.create_instrument(instrument(symbol))
    db.instruments.create_instrument(instrument("BND", instrument_type="bond_fund", name="Total 100% Bond_Market"))
    page = db.instruments.find_all(limit=2)
    rest = db.instruments.find_all(limit=10, cursor=page.next_cursor)
    assert [i.symbol for i in page] + [i.symbol for i in rest] == ["AAA", "BBB", "BND", "CCC", "DDD"]
    assert [i.symbol for i in db.instruments.find_by_type("bond_fund")] == ["BND"]
    assert [i.symbol for i in db.instruments.search("bond")] == ["BND"]
    assert [i.symbol for i in db.instruments.search("100%")] == ["BND"]
    assert [i.symbol for i in db.instruments.search("_")] == ["BND"]
    assert list(db.instruments.search("%")) == [db.instruments.get_instrument("BND")]
    with pytest.raises(ValidationError):
        db.instruments.find_by_type("crypto")


def test_price_at_and_history(db: Database) -> None:
    db.instruments.create_instrument(instrument("SPY"))
    t1, t2, t3 = (datetime(2024, 1, d, 21, tzinfo=UTC) for d in (1, 2, 3))
    db.instruments.record_prices([("SPY", "100.10", t1), ("SPY", "101.20", t2), {"symbol": "SPY", "price": 99, "at": t3}])
    assert present(db.instruments.get_price_at("SPY", t2)).price == Decimal("101.20")
    assert present(db.instruments.get_price_at("SPY", datetime(2024, 1, 2, 20))).price == Decimal("100.10")  # naive = UTC
    assert present(db.instruments.get_price_at("SPY", date(2024, 1, 2))).price == Decimal("101.20")  # end of that day
    assert db.instruments.get_price_at("SPY", datetime(2023, 12, 31, tzinfo=UTC)) is None
    history = db.instruments.get_price_history("SPY", start=t2, end=t3)
    assert [p.price for p in history] == [Decimal("101.20"), Decimal("99")]
    assert db.instruments.get_instrument("SPY").current_price == Decimal("99")


def test_current_price_is_always_the_newest(db: Database) -> None:
    db.instruments.create_instrument(instrument("SPY"))
    db.instruments.record_price("SPY", "200", "2024-06-01T00:00:00Z")
    db.instruments.record_price("SPY", "100", "2024-01-01T00:00:00Z")  # a backfill of an older point
    found = db.instruments.get_instrument("SPY")
    assert found.current_price == Decimal("200")
    assert found.current_price_at == datetime(2024, 6, 1, tzinfo=UTC)


def test_same_instant_recorded_twice_corrects_it(db: Database) -> None:
    db.instruments.create_instrument(instrument("SPY"))
    db.instruments.record_price("SPY", "1", "2024-01-01T00:00:00Z")
    db.instruments.record_price("SPY", "2", "2024-01-01T00:00:00Z")
    assert [p.price for p in db.instruments.get_price_history("SPY")] == [Decimal("2")]
    assert db.instruments.get_instrument("SPY").current_price == Decimal("2")


def test_bulk_prices_are_all_or_nothing(db: Database) -> None:
    db.instruments.create_instrument(instrument("SPY"))
    with pytest.raises(NotFoundError):
        db.instruments.record_prices([("SPY", "1", "2024-01-01"), ("NOPE", "1", "2024-01-01")])
    with pytest.raises(ValidationError):
        db.instruments.record_prices([("SPY", "1", "2024-01-01"), ("SPY", "-1", "2024-01-02")])
    assert db.counts()["price_history"] == 0
    assert db.instruments.get_instrument("SPY").current_price is None


def test_decimal_prices_are_exact(db: Database) -> None:
    db.instruments.create_instrument(instrument("SPY"))
    db.instruments.record_price("SPY", Decimal("0.1") + Decimal("0.2"), "2024-01-01")
    assert present(db.instruments.get_price_at("SPY", "2024-01-02")).price == Decimal("0.3")
    assert str(db.instruments.get_instrument("SPY").current_price) == "0.3"


def test_allocations_round_trip_exactly(db: Database) -> None:
    data = instrument("MIX", allocation_regions={"europe": Decimal("33.3333"), "asia": Decimal("66.6667")})
    assert db.instruments.create_instrument(data).allocation_regions == {
        "europe": Decimal("33.3333"), "asia": Decimal("66.6667")}
    assert db.instruments.get_instrument("MIX").allocation_regions["europe"] == Decimal("33.3333")
