"""The peers of the ledger benchmark: DuckDB and pandas over the same rows, exact to the cent.

Quantities have 2 decimal places and every split is two-for-one, so DuckDB's DECIMAL arithmetic and
pandas' int64 (quantities in hundredths, prices and cash in cents, values in 1/10,000 of a dollar) are
both exact. A quantity at an instant is the sum of each trade's delta times 2 for every split of its
symbol after the trade and up to the instant.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb
import numpy as np
import pandas as pd

EXTERNAL_SIGN = {"DEPOSIT": 1, "WITHDRAWAL": -1}
OUTGOING = {"WITHDRAWAL", "FEE", "TAX"}
VALUE_AT = """
WITH held AS (
    SELECT t.symbol, SUM(t.delta * CAST(POWER(2, (
        SELECT COUNT(*) FROM splits s WHERE s.symbol = t.symbol AND s.ts > t.ts AND s.ts <= $t)) AS BIGINT)) AS qty
    FROM trades t WHERE t.ts <= $t GROUP BY t.symbol
), priced AS (
    SELECT symbol, arg_max(price, ts) AS price FROM prices WHERE ts <= $t GROUP BY symbol
)
SELECT (SELECT COALESCE(SUM(amount), 0) FROM cash WHERE ts <= $t)
     + (SELECT COALESCE(SUM(cash), 0) FROM trades WHERE ts <= $t)
     + COALESCE((SELECT SUM(held.qty * priced.price) FROM held JOIN priced USING (symbol)), 0)
"""
SERIES = """
WITH steps AS (SELECT grid.ts, symbols.symbol FROM grid CROSS JOIN (SELECT DISTINCT symbol FROM prices) symbols),
held AS (
    SELECT t.symbol, t.ts, SUM(t.delta * CASE WHEN t.ts < sp.ts THEN 2 ELSE 1 END)
        OVER (PARTITION BY t.symbol ORDER BY t.ts ROWS UNBOUNDED PRECEDING) AS qty
    FROM trades t LEFT JOIN splits sp USING (symbol)
), quantities AS (
    SELECT steps.ts, steps.symbol, held.qty FROM steps
    ASOF LEFT JOIN held ON steps.symbol = held.symbol AND steps.ts >= held.ts
), priced AS (
    SELECT steps.ts, steps.symbol, p.price FROM steps
    ASOF LEFT JOIN prices p ON steps.symbol = p.symbol AND steps.ts >= p.ts
), valued AS (
    SELECT q.ts, SUM(COALESCE(q.qty * CASE WHEN q.ts < sp.ts THEN 0.5 ELSE 1 END * priced.price, 0)) AS holdings
    FROM quantities q JOIN priced USING (ts, symbol) LEFT JOIN splits sp ON sp.symbol = q.symbol GROUP BY q.ts
), trade_cash AS (
    SELECT ts, SUM(cash) OVER (ORDER BY ts ROWS UNBOUNDED PRECEDING) AS cash FROM trades
), ledger AS (
    SELECT ts, SUM(amount) OVER (ORDER BY ts ROWS UNBOUNDED PRECEDING) AS cash,
           SUM(contribution) OVER (ORDER BY ts ROWS UNBOUNDED PRECEDING) AS contributions FROM cash
), with_trades AS (
    SELECT grid.ts, COALESCE(trade_cash.cash, 0) AS cash FROM grid ASOF LEFT JOIN trade_cash ON grid.ts >= trade_cash.ts
), with_ledger AS (
    SELECT grid.ts, COALESCE(ledger.cash, 0) AS cash, COALESCE(ledger.contributions, 0) AS contributions
    FROM grid ASOF LEFT JOIN ledger ON grid.ts >= ledger.ts
)
SELECT valued.ts, valued.holdings + with_trades.cash + with_ledger.cash, with_ledger.contributions
FROM valued JOIN with_trades USING (ts) JOIN with_ledger USING (ts) ORDER BY valued.ts
"""


class Peers:
    """DuckDB tables and pandas frames of one benchmark dataset."""

    def __init__(self, prices: Sequence[tuple[str, Decimal, datetime]], trades: Sequence[tuple[Any, ...]],
                 trade_cash: Sequence[Decimal], movements: Sequence[tuple[str, Decimal, datetime]],
                 splits: Sequence[tuple[str, datetime]]) -> None:
        self.duck = duckdb.connect()
        self.duck.execute("SET TimeZone = 'UTC'")
        self.duck.execute("CREATE TABLE prices (symbol VARCHAR, ts TIMESTAMPTZ, price DECIMAL(20, 2))")
        self.duck.execute("CREATE TABLE trades (symbol VARCHAR, ts TIMESTAMPTZ, delta DECIMAL(24, 2), "
                          "cash DECIMAL(20, 2))")
        self.duck.execute("CREATE TABLE cash (ts TIMESTAMPTZ, amount DECIMAL(20, 2), contribution DECIMAL(20, 2))")
        self.duck.execute("CREATE TABLE splits (symbol VARCHAR, ts TIMESTAMPTZ)")
        deltas = [q if action == "BUY" else -q for _, action, q, *_ in trades]
        signed = [(-a if kind in OUTGOING else a) for kind, a, _ in movements]
        contributions = [a * EXTERNAL_SIGN.get(kind, 0) for kind, a, _ in movements]
        frames = {
            "prices": pd.DataFrame({"symbol": [s for s, _, _ in prices], "at": [a for _, _, a in prices],
                                    "price": [str(p) for _, p, _ in prices]}),
            "trades": pd.DataFrame({"symbol": [t[0] for t in trades], "at": [t[3] for t in trades],
                                    "delta": [str(d) for d in deltas], "cash": [str(c) for c in trade_cash]}),
            "cash": pd.DataFrame({"at": [m[2] for m in movements], "amount": [str(a) for a in signed],
                                  "contribution": [str(c) for c in contributions]}),
            "splits": pd.DataFrame({"symbol": [s for s, _ in splits], "at": [a for _, a in splits]}),
        }
        for name, frame in frames.items():
            self.duck.register(f"{name}_frame", frame)
            self.duck.execute(f"INSERT INTO {name} SELECT * FROM {name}_frame")  # text cast exactly to DECIMAL
        self._pandas_frames(prices, trades, deltas, trade_cash, movements, signed, contributions, splits)

    def value_at(self, at: datetime) -> Decimal:
        """The account's value at an instant, by one DuckDB query."""
        row = self.duck.execute(VALUE_AT, {"t": at}).fetchone()
        assert row is not None
        return Decimal(row[0])

    def duckdb_series(self, grid: Sequence[datetime]) -> tuple[list[Decimal], list[Decimal]]:
        """Totals and contributions at each instant, by one DuckDB query."""
        self.duck.execute("CREATE OR REPLACE TEMP TABLE grid AS SELECT unnest($grid::TIMESTAMPTZ[]) AS ts",
                          {"grid": list(grid)})
        rows = self.duck.execute(SERIES).fetchall()
        return [Decimal(total) for _, total, _ in rows], [Decimal(put_in) for _, _, put_in in rows]

    def _pandas_frames(self, prices: Sequence[Any], trades: Sequence[Any], deltas: Sequence[Decimal],
                       trade_cash: Sequence[Decimal], movements: Sequence[Any], signed: Sequence[Decimal],
                       contributions: Sequence[Decimal], splits: Sequence[tuple[str, datetime]]) -> None:
        split_at = {symbol: np.int64(pd.Timestamp(at).value) for symbol, at in splits}
        self.price_frames = {}
        for symbol in sorted({s for s, _, _ in prices}):
            rows = [(a, p) for s, p, a in prices if s == symbol]
            self.price_frames[symbol] = pd.DataFrame({
                "at": pd.to_datetime([a for a, _ in rows], utc=True).as_unit("ns"),
                "price": np.array([int(p * 100) for _, p in rows], dtype=np.int64)})
        self.trade_frames = {}
        for symbol in sorted({t[0] for t in trades}):
            rows = [(t[3], d) for t, d in zip(trades, deltas, strict=True) if t[0] == symbol]
            at = pd.to_datetime([a for a, _ in rows], utc=True).as_unit("ns")
            hundredths = np.array([int(d * 100) for _, d in rows], dtype=np.int64)
            # Every delta in the units after the symbol's split (if any): x2 for trades before it.
            if symbol in split_at:
                hundredths = np.where(at.asi8 < split_at[symbol], hundredths * 2, hundredths)
            self.trade_frames[symbol] = pd.DataFrame({"at": at, "held": np.cumsum(hundredths)})
        self.split_at = split_at
        self.trade_cash = pd.DataFrame({"at": pd.to_datetime([t[3] for t in trades], utc=True).as_unit("ns"),
                                        "cash": np.cumsum(np.array([int(c * 100) for c in trade_cash]))})
        self.ledger = pd.DataFrame({"at": pd.to_datetime([m[2] for m in movements], utc=True).as_unit("ns"),
                                    "cash": np.cumsum(np.array([int(a * 100) for a in signed])),
                                    "put_in": np.cumsum(np.array([int(a * 100) for a in contributions]))})

    def pandas_series(self, grid: Sequence[datetime]) -> tuple[list[Decimal], list[Decimal]]:
        """Totals and contributions at each instant, by merge_asof on int64 frames."""
        instants = pd.to_datetime(list(grid), utc=True).as_unit("ns")
        steps, grid_ns = pd.DataFrame({"at": instants}), instants.asi8
        total = np.zeros(len(steps), dtype=np.int64)  # in 1/10,000 of a dollar
        for symbol, trades in self.trade_frames.items():
            held = pd.merge_asof(steps, trades, on="at")["held"].fillna(0).to_numpy(dtype=np.int64)
            if symbol in self.split_at:  # before the split the holding was half as many (raw) shares
                held = np.where(grid_ns < self.split_at[symbol], held // 2, held)
            price = pd.merge_asof(steps, self.price_frames[symbol], on="at")["price"].fillna(0)
            total += held * price.to_numpy(dtype=np.int64)
        trade_cash = pd.merge_asof(steps, self.trade_cash, on="at")["cash"].fillna(0).to_numpy(dtype=np.int64)
        ledger = pd.merge_asof(steps, self.ledger, on="at")
        total += (trade_cash + ledger["cash"].fillna(0).to_numpy(dtype=np.int64)) * 100
        put_in = ledger["put_in"].fillna(0).to_numpy(dtype=np.int64)
        return ([Decimal(int(v)).scaleb(-4) for v in total], [Decimal(int(v)).scaleb(-2) for v in put_in])
