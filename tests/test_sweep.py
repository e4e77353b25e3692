"""The column-wise value sweep equals a naive Decimal replay, in int64 and past it, to the last digit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alexdb.domain.errors import BackendError
from alexdb.domain.instants import instant_text
from alexdb.domain.ledger import Split
from alexdb.services.kept import KeptBytes
from alexdb.services.sweep import Holding, Ledger, Line, Sweep, holding, line, scaled, sweep

START = datetime(2024, 1, 1, tzinfo=UTC)
SYMBOLS = ("AAA", "BBB", "CCC")

# Up to 24 digits before the point and 8 after: products of two reach 10**48, far past int64.
numbers = st.one_of(
    st.decimals(min_value=Decimal("-1000"), max_value=Decimal("1000"), places=2),
    st.decimals(min_value=Decimal("-1e23"), max_value=Decimal("1e23"), places=8),
    st.integers(min_value=-10**6, max_value=10**6).map(Decimal),
)
positive = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("1e11"), places=8)
minutes = st.integers(min_value=0, max_value=600)


def _rows(values: st.SearchStrategy[Decimal]) -> st.SearchStrategy[list[tuple[int, Decimal]]]:
    return st.lists(st.tuples(minutes, values), max_size=12).map(lambda rows: sorted(rows, key=lambda r: r[0]))


def _at(minute: int) -> datetime:
    return START + timedelta(minutes=minute)


def _last(rows: list[tuple[int, Decimal]], minute: int) -> Decimal | None:
    found = None
    for at, value in rows:
        if at <= minute:
            found = value
    return found


@settings(max_examples=300, deadline=None)
@given(changes=st.dictionaries(st.sampled_from(SYMBOLS), st.tuples(_rows(numbers), _rows(numbers)), max_size=3),
       prices=st.dictionaries(st.sampled_from(SYMBOLS), _rows(positive), max_size=3),
       balances=_rows(numbers), grid=st.lists(minutes, min_size=1, max_size=20).map(sorted))
def test_the_sweep_equals_a_naive_replay(changes: dict[str, tuple[list[tuple[int, Decimal]], list[tuple[int, Decimal]]]],
                                         prices: dict[str, list[tuple[int, Decimal]]],
                                         balances: list[tuple[int, Decimal]], grid: list[int]) -> None:
    holdings: dict[str, Holding] = {}
    merged: dict[str, list[tuple[int, Decimal, Decimal]]] = {}
    for symbol, (quantities, trade_cash) in changes.items():
        rows = [(at, quantity, trade_cash[i % len(trade_cash)][1] if trade_cash else Decimal(0))
                for i, (at, quantity) in enumerate(quantities)]
        merged[symbol] = rows
        holdings[symbol] = holding([instant_text(_at(at)) for at, _, _ in rows], [q for _, q, _ in rows],
                                   [c for _, _, c in rows], ())
    lines: dict[str, Line] = {symbol: line([instant_text(_at(at)) for at, _ in rows], [p for _, p in rows], "price")
                              for symbol, rows in prices.items()}
    with localcontext(prec=100):  # contributions: three times the balance, exactly
        tripled = [b * 3 for _, b in balances]
    ledger = Ledger(line([instant_text(_at(at)) for at, _ in balances], [b for _, b in balances], "balance").at,
                    scaled([b for _, b in balances], "balance"), scaled(tripled, "contribution"))
    swept = sweep([_at(minute) for minute in grid], holdings, lines, ledger)
    with localcontext(prec=100):  # the reference must not round either
        _check(swept, merged, prices, balances, grid)


def _check(swept: Sweep, merged: dict[str, list[tuple[int, Decimal, Decimal]]],
           prices: dict[str, list[tuple[int, Decimal]]], balances: list[tuple[int, Decimal]], grid: list[int]) -> None:
    for index, minute in enumerate(grid):
        value, trade_cash, unpriced = Decimal(0), Decimal(0), []
        for symbol in sorted(merged):
            state = [(at, q, c) for at, q, c in merged[symbol] if at <= minute]
            quantity, held_cash = (state[-1][1], state[-1][2]) if state else (Decimal(0), Decimal(0))
            trade_cash += held_cash
            price = _last(prices.get(symbol, []), minute)
            if price is None:
                if quantity:
                    unpriced.append(symbol)
            else:
                value += quantity * price
        balance = _last(balances, minute) or Decimal(0)
        assert swept.holdings_value[index] == value
        assert swept.cash[index] == trade_cash + balance
        assert swept.total[index] == value + trade_cash + balance
        assert swept.contributions[index] == balance * 3
        assert swept.unpriced[index] == unpriced


def test_a_split_is_a_row_of_its_own_and_later_splits_see_earlier_ones() -> None:
    at = [instant_text(_at(0)), instant_text(_at(10)), instant_text(_at(20))]
    splits = [Split(symbol="AAA", at=_at(5), numerator=2, denominator=1),
              Split(symbol="AAA", at=_at(20), numerator=3, denominator=1),
              Split(symbol="AAA", at=_at(30), numerator=1, denominator=4)]
    made = holding(at, [Decimal(10), Decimal(25), Decimal(30)], [Decimal(-1), Decimal(-2), Decimal(-3)], splits)
    # The split at minute 20 sorts before the change at 20 (recorded in the new units).
    assert made.at.tolist() == [(START + timedelta(minutes=m) - datetime(1970, 1, 1, tzinfo=UTC))
                                // timedelta(microseconds=1) for m in (0, 5, 10, 20, 20, 30)]
    assert made.quantity.values.tolist() == [q * 10**made.quantity.scale for q in (10, 20, 25, 75, 30)] + [
        int(Decimal("7.5") * 10**made.quantity.scale)]
    assert made.cash.values.tolist() == [c * 10**made.cash.scale for c in (-1, -1, -2, -2, -3, -3)]


def test_a_split_before_anything_was_held_adds_nothing() -> None:
    made = holding([instant_text(_at(10))], [Decimal(4)], [Decimal(0)],
                   [Split(symbol="AAA", at=_at(5), numerator=2, denominator=1)])
    assert made.quantity.values.tolist() == [4]


def test_a_stored_number_past_eight_places_is_a_damaged_row() -> None:
    with pytest.raises(BackendError, match=r"price has more than 8 decimal places: 1\.000000001"):
        scaled([Decimal("2"), Decimal("1.000000001")], "price")


def test_columns_keep_only_the_scale_they_need() -> None:
    column = scaled([Decimal("1.50"), Decimal("2")], "price")
    assert (column.values.tolist(), column.scale, column.largest) == ([15, 20], 1, 20)
    assert scaled([], "price").scale == 0


def test_kept_values_stay_within_their_budget_least_recently_used_out_first() -> None:
    kept = KeptBytes(100)
    kept.put("a", 1, 40)
    kept.put("b", 2, 40)
    assert kept.get("a") == 1  # now b is the least recently used
    kept.put("c", 3, 40)
    assert (kept.get("a"), kept.get("b"), kept.get("c"), kept.held) == (1, None, 3, 80)
    kept.put("a", 4, 60)  # replacing counts the new size only: 100, within the budget
    assert (kept.get("a"), kept.get("c"), kept.held, len(kept)) == (4, 3, 100, 2)
    kept.put("d", 5, 101)  # larger than the whole budget: not kept, nothing dropped
    assert (kept.get("d"), len(kept), kept.held) == (None, 2, 100)
