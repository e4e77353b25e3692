"""The peer of benchmarks.api: what a team would write instead of alexdb's service, on the same tables.

GET /value sums holdings at the instruments' current prices plus the account's cash in one SQL statement
(as the original Alex API's portfolio value did); GET /series loads the account's history and the price
history with pandas, forward-fills a daily grid and multiplies. No splits, no ledger replay, no checks.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd
from fastapi import FastAPI
from sqlalchemy import bindparam, create_engine, text
from starlette.concurrency import run_in_threadpool

ENGINE = create_engine(os.environ["PEER_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"))
app = FastAPI()

VALUE = text("""
    SELECT a.cash_balance AS cash,
           (SELECT COALESCE(SUM(CAST(p.quantity AS NUMERIC) * CAST(i.current_price AS NUMERIC)), 0)
              FROM positions p JOIN instruments i ON i.symbol = p.symbol WHERE p.account_id = a.id) AS holdings
    FROM accounts a WHERE a.id = :account""")


def _value(account: str) -> dict[str, Any]:
    with ENGINE.connect() as conn:
        row = conn.execute(VALUE, {"account": account}).one()
    return {"cash": str(row.cash), "holdings_value": str(row.holdings)}


def _series(account: str, start: str, end: str) -> list[dict[str, Any]]:
    with ENGINE.connect() as conn:
        changes = pd.read_sql(text("SELECT symbol, at, quantity_after FROM position_history WHERE account_id = :a"),
                              conn, params={"a": account})
        symbols = list(changes["symbol"].unique())
        prices = pd.read_sql(text("SELECT symbol, at, price FROM price_history WHERE symbol IN :s").bindparams(
            bindparam("s", expanding=True)), conn, params={"s": symbols})
    # A date means the end of that UTC day, as alexdb reads it.
    grid = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D", tz="UTC") + pd.Timedelta(days=1) \
        - pd.Timedelta(microseconds=1)
    for frame in (changes, prices):
        frame["at"] = pd.to_datetime(frame["at"], utc=True, format="mixed")
    held = changes.pivot_table(index="at", columns="symbol", values="quantity_after", aggfunc="last").astype(float)
    price = prices.pivot_table(index="at", columns="symbol", values="price", aggfunc="last").astype(float)
    held = held.reindex(held.index.union(grid)).sort_index().ffill().reindex(grid).fillna(0)
    price = price.reindex(price.index.union(grid)).sort_index().ffill().reindex(grid)
    value = (held * price[held.columns]).sum(axis=1)
    return [{"at": str(at), "holdings_value": round(float(v), 2)} for at, v in value.items()]


@app.get("/value/{account}")
async def value(account: str) -> dict[str, Any]:
    """Cash and holdings at current prices."""
    return await run_in_threadpool(_value, account)


@app.get("/series/{account}")
async def series(account: str, start: str, end: str) -> list[dict[str, Any]]:
    """Daily holdings value from start to end."""
    return await run_in_threadpool(_series, account, start, end)
