"""Tick parsing: the fast path accepts only what the Tick model accepts, with the same values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alexdb.domain.alerts import Tick
from alexdb.domain.errors import ValidationError
from alexdb.domain.ticks import TickRow, _fast, latest_tick_ms, merge_same_millisecond, parse_ticks, sort_ticks

numbers = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True), st.integers(min_value=-10, max_value=10**30),
    st.decimals(min_value=-10, max_value=10**13, places=9).map(str), st.from_regex(r"\s?-?[0-9_]{0,14}(\.[0-9]{0,10})?(e-?[0-9])?\s?", fullmatch=True),
    st.floats(), st.booleans(), st.none(), st.sampled_from(["NaN", "Infinity", "-0", "1e-9", "1E+3", "0.00000001"]))
records = st.fixed_dictionaries(
    {"symbol": st.one_of(st.sampled_from(["SPY", "spy", " SPY", "BRK.B", "", "A" * 21, "^GSPC", "A#B"]), st.text(max_size=22),
                         st.integers()),
     "price": numbers,
     "timestamp": st.one_of(st.integers(min_value=-5, max_value=2**63), st.booleans(), st.decimals(), st.text(max_size=5))},
    optional={"volume": numbers, "source": st.one_of(st.text(max_size=60), st.integers()), "colour": st.text()})

plausible_numbers = st.one_of(
    st.decimals(min_value=0, max_value=10**13, places=9),
    st.decimals(min_value=0, max_value=10**12, places=8).map(str), st.integers(min_value=0, max_value=10**17),
    st.sampled_from(["1e-9", "1E+3", "0.00000001", " 2.5 ", "1_000", "1.000000000", "999999999999.99999999", "1e12"]))
plausible = st.fixed_dictionaries(
    {"symbol": st.from_regex(r"[A-Za-z0-9][A-Z0-9.\-^=/]{0,20}", fullmatch=True),
     "price": plausible_numbers, "timestamp": st.integers(min_value=-1, max_value=2**62)},
    optional={"volume": plausible_numbers, "source": st.text(max_size=52)})

T0 = 1_700_000_000_000  # 2023-11-14, a plausible tick instant in epoch milliseconds


@settings(max_examples=2000)
@given(st.one_of(records, plausible))
def test_the_fast_path_never_accepts_what_the_model_refuses(record: Any) -> None:
    fast = _fast(record, latest_tick_ms())
    if fast is None:
        return
    model = Tick.model_validate(record)
    assert fast == TickRow(model.symbol, model.price, model.timestamp, model.volume, model.source)
    assert str(fast.price) == str(model.price) and str(fast.volume) == str(model.volume)  # same digits, same scale


@pytest.mark.parametrize("record", [
    {"symbol": "SPY", "price": "501.25", "timestamp": 1_700_000_000_000},
    {"symbol": "BRK.B", "price": Decimal("0.00000001"), "timestamp": T0, "volume": 100, "source": "polygon"},
    {"symbol": "SPY", "price": 501, "timestamp": T0, "volume": "0.5"},
])
def test_the_fast_path_takes_the_common_records(record: Any) -> None:
    assert _fast(record, latest_tick_ms()) is not None


@pytest.mark.parametrize(("record", "field"), [
    ({"symbol": "SPY", "price": 1.5, "timestamp": T0}, "price"),
    ({"symbol": "SPY", "price": "1.123456789", "timestamp": T0}, "price"),
    ({"symbol": "SPY", "price": "0", "timestamp": T0}, "price"),
    ({"symbol": "S P Y", "price": "1", "timestamp": T0}, "symbol"),
    ({"symbol": "SPY", "price": "1", "timestamp": "soon"}, "timestamp"),
    ({"symbol": "SPY", "price": "1", "timestamp": T0, "volume": "-1"}, "volume"),
    ({"symbol": "SPY", "price": "1", "timestamp": T0, "volume": 2.5}, "volume"),
    ({"symbol": "SPY", "price": "1", "timestamp": T0, "source": "x" * 51}, "source"),
    ({"symbol": "SPY", "price": "1", "timestamp": T0, "colour": "red"}, "colour"),
    # Implausible instants: epoch seconds, microseconds, the year 3000, before 2000.
    ({"symbol": "SPY", "price": "1", "timestamp": 1_700_000_000}, "timestamp"),
    ({"symbol": "SPY", "price": "1", "timestamp": 1_700_000_000_000_000}, "timestamp"),
    ({"symbol": "SPY", "price": "1", "timestamp": 32_503_680_000_000}, "timestamp"),
    ({"symbol": "SPY", "price": "1", "timestamp": 2**63}, "timestamp"),
    ({"symbol": "SPY", "price": "1", "timestamp": T0, "source": "a\x00b"}, "source"),
    ({"symbol": "SPY", "price": "1", "timestamp": T0, "source": "\ud800"}, "source"),
    (["SPY", "1", 1], "tick"),
])
def test_a_bad_record_is_named_by_its_position_and_field(record: Any, field: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_ticks([{"symbol": "SPY", "price": "1", "timestamp": T0}, record])
    assert raised.value.field == f"ticks[1].{field}"
    good, [rejection] = sort_ticks([record, {"symbol": "spy", "price": "2", "timestamp": T0 + 1}])
    assert rejection.index == 0 and rejection.error.field == field
    assert good == [TickRow("SPY", Decimal("2"), T0 + 1, Decimal(0), "unknown")]


def test_a_tick_row_is_checked_like_any_record() -> None:
    with pytest.raises(ValidationError):
        parse_ticks([TickRow("SPY", Decimal("-1"), T0, Decimal(0), "x")])
    with pytest.raises(pydantic.ValidationError):
        Tick.model_validate({"symbol": "SPY", "price": "-1", "timestamp": T0})


def test_a_parsed_tick_is_handed_on_without_a_second_check() -> None:
    [row] = parse_ticks([{"symbol": "SPY", "price": "1.5", "timestamp": T0}])
    assert parse_ticks([row])[0] is row  # the store takes the Ingestor's rows as they are
    assert parse_ticks([TickRow(*row)])[0] is not row  # a hand-built row is checked (and rebuilt)


def test_how_far_ahead_a_tick_may_be_is_configured_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import alexdb
    from alexdb.domain import alerts
    from alexdb.domain.instants import now_ms

    monkeypatch.setattr(alerts, "TICK_MAX_FUTURE_MS", alerts.TICK_MAX_FUTURE_MS)  # restored after the test
    ahead = {"symbol": "SPY", "price": "1", "timestamp": now_ms() + 600_000}  # ten minutes ahead
    with pytest.raises(ValidationError, match="ahead of this host's clock"):
        parse_ticks([ahead])  # the default allows five minutes
    monkeypatch.setenv("ALEXDB_TICK_MAX_FUTURE_S", "3600")
    alexdb.connect("sqlite://").close()
    assert parse_ticks([ahead])[0].timestamp == ahead["timestamp"]


def test_a_number_text_checked_once_is_the_same_value_the_next_time() -> None:
    from alexdb.domain import ticks

    first = parse_ticks([{"symbol": "SPY", "price": "100.10", "timestamp": T0, "volume": "250"}])[0]
    again = parse_ticks([{"symbol": "SPY", "price": "100.10", "timestamp": T0 + 1, "volume": "250"}])[0]
    assert (str(again.price), str(again.volume)) == (str(first.price), str(first.volume)) == ("100.10", "250")
    assert ticks._KNOWN_PRICES["100.10"] is again.price  # the second came from what the first remembered
    # A text remembered as a valid volume is not thereby a valid price (their limits differ).
    huge = "5000000000000"  # 5 * 10^12: a volume, not a price
    parse_ticks([{"symbol": "SPY", "price": "1", "timestamp": T0, "volume": huge}])
    with pytest.raises(ValidationError) as raised:
        parse_ticks([{"symbol": "SPY", "price": huge, "timestamp": T0}])
    assert raised.value.field == "ticks[0].price"


def test_what_is_remembered_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from alexdb.domain import ticks

    monkeypatch.setattr(ticks, "_KNOWN_MAX", 10)
    parse_ticks([{"symbol": f"S{n}", "price": f"{n + 1}.5", "timestamp": T0 + n} for n in range(50)])
    assert len(ticks._KNOWN_SYMBOLS) <= 10 and len(ticks._KNOWN_PRICES) <= 10


rows_to_merge = st.lists(st.builds(
    TickRow, st.sampled_from(["SPY", "QQQ"]), st.decimals(min_value=1, max_value=100, places=2),
    st.integers(min_value=T0, max_value=T0 + 5), st.decimals(min_value=0, max_value=10**3, places=0),
    st.sampled_from(["a", "b"])), max_size=12)


@given(rows_to_merge)
def test_merging_a_batch_keeps_one_row_per_symbol_and_millisecond(rows: list[TickRow]) -> None:
    expected: dict[tuple[str, int], TickRow] = {}
    for row in rows:
        earlier = expected.get((row.symbol, row.timestamp))
        volume = row.volume + (earlier.volume if earlier else 0)
        expected[row.symbol, row.timestamp] = row._replace(volume=volume)
    assert merge_same_millisecond(rows) == list(expected.values())


def test_keys_whose_hashes_collide_are_not_merged() -> None:
    # hash("SPY") ^ a == hash("QQQ") ^ b for different keys: the quick check sees a duplicate that is not one.
    a = T0
    b = hash("SPY") ^ a ^ hash("QQQ")
    rows = [TickRow("SPY", Decimal(1), a, Decimal(1), "x"), TickRow("QQQ", Decimal(2), b, Decimal(1), "x")]
    assert merge_same_millisecond(rows) == rows
