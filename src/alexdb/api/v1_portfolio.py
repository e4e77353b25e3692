"""/v1: users, accounts, instruments with their prices and splits, positions, valuation, cash and returns."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response

from alexdb.api import schemas as body
from alexdb.api.common import Api, Caller, call, json_object, one_page, only
from alexdb.domain.errors import PermissionDeniedError, ValidationError
from alexdb.domain.ledger import CashEntry, CashMovement, Split
from alexdb.domain.lots import Disposal, Lot
from alexdb.domain.models import (
    Account,
    AccountValuation,
    Instrument,
    Position,
    PositionChange,
    PricePoint,
    User,
    UserValuation,
    ValuePoint,
)
from alexdb.domain.paging import Page
from alexdb.services.performance import ReturnPoint, Returns

STEP = re.compile(r"^(\d{1,6})([mhd])$")
STEP_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}


def step_of(text: str) -> timedelta:
    """A series step: 15m, 6h, 1d, 7d."""
    match = STEP.fullmatch(text)
    if match is None or int(match.group(1)) == 0:
        raise ValidationError("step", text, "a step is a whole number of minutes, hours or days: 15m, 6h, 1d")
    return int(match.group(1)) * STEP_UNITS[match.group(2)]


def services_only(caller: Caller, what: str) -> None:
    """Reference data every user shares is written by services (or with authentication off), not by users."""
    if caller.user is not None:
        raise PermissionDeniedError(f"{what} is written by a service token, not a user's")


def portfolio_routes(api: Api) -> APIRouter:
    """The portfolio store's routes."""
    router = APIRouter(prefix="/v1")
    db = api.db

    doc = api.doc
    async def account(request: Request, account_id: str) -> Account:
        # The record alone says whose it is: its cash balance (a ledger read) is not needed to decide.
        return await api.owned(request, "account", account_id, db.accounts.account_record,
                               lambda found: found.clerk_user_id)

    # Users ---------------------------------------------------------------------------------------------
    @router.post("/users", status_code=201, operation_id="create_user", openapi_extra=doc(body.NewUserBody),
                 tags=["users"])
    async def create_user(request: Request) -> User:
        """Create a user (a signed-in user creates only itself)."""
        fields = await json_object(request)
        user_id = fields.pop("clerk_user_id", None)
        await api.for_user(request, str(user_id))
        return await call(db.users.create_user, user_id, **fields)

    @router.get("/users", operation_id="list_users", tags=["users"])
    async def list_users(request: Request, limit: int | None = None, cursor: str | None = None) -> Page[User]:
        """Every user, by id (services only)."""
        services_only(await api.caller(request), "the user directory")
        return await call(one_page, db.users.find_all, limit=limit, cursor=cursor)

    @router.get("/users/{user_id}", operation_id="get_user", tags=["users"])
    async def get_user(request: Request, user_id: str) -> User:
        """One user."""
        await api.for_user(request, user_id)
        return await call(db.users.get_user, user_id)

    @router.patch("/users/{user_id}", operation_id="update_user", openapi_extra=doc(body.UserChangesBody),
                  tags=["users"])
    async def update_user(request: Request, user_id: str) -> User:
        """Change a user's settings."""
        await api.for_user(request, user_id)
        return await call(db.users.update_user, user_id, **await json_object(request))

    @router.delete("/users/{user_id}", status_code=204, operation_id="delete_user", tags=["users"])
    async def delete_user(request: Request, user_id: str) -> Response:
        """Delete a user and everything the user owns."""
        await api.for_user(request, user_id)
        await call(db.users.delete_user, user_id)
        return Response(status_code=204)

    # Accounts ------------------------------------------------------------------------------------------
    @router.get("/users/{user_id}/accounts", operation_id="list_accounts", tags=["accounts"])
    async def list_accounts(request: Request, user_id: str, limit: int | None = None,
                            cursor: str | None = None) -> Page[Account]:
        """A user's accounts, oldest first."""
        await api.for_user(request, user_id)
        return await call(one_page, db.accounts.find_by_user, user_id, limit=limit, cursor=cursor)

    @router.post("/users/{user_id}/accounts", status_code=201, operation_id="create_account",
                 openapi_extra=doc(body.NewAccountBody), tags=["accounts"])
    async def create_account(request: Request, user_id: str) -> Account:
        """Open an account; its cash_balance is the opening deposit."""
        await api.for_user(request, user_id)
        fields = await json_object(request)
        name = fields.pop("account_name", None)
        return await call(db.accounts.create_account, user_id, name,
                          **only(fields, "account_purpose", "cash_balance", "cash_interest", "account_type"))

    @router.get("/accounts/{account_id}", operation_id="get_account", tags=["accounts"])
    async def get_account(request: Request, account_id: str) -> Account:
        """One account, its cash the ledger's balance now."""
        await account(request, account_id)
        return await call(db.accounts.get_account, account_id)

    @router.patch("/accounts/{account_id}", operation_id="update_account", openapi_extra=doc(body.AccountChangesBody),
                  tags=["accounts"])
    async def update_account(request: Request, account_id: str) -> Account:
        """Change an account; a new cash_balance is recorded as an adjustment."""
        await account(request, account_id)
        return await call(db.accounts.update_account, account_id, **await json_object(request))

    @router.delete("/accounts/{account_id}", status_code=204, operation_id="delete_account", tags=["accounts"])
    async def delete_account(request: Request, account_id: str) -> Response:
        """Delete an account with its positions, history and cash."""
        await account(request, account_id)
        await call(db.accounts.delete_account, account_id)
        return Response(status_code=204)

    # Positions -----------------------------------------------------------------------------------------
    @router.get("/accounts/{account_id}/positions", operation_id="list_positions", tags=["positions"])
    async def list_positions(request: Request, account_id: str) -> list[Position]:
        """Current holdings (splits applied) with instrument, price and cost basis."""
        await account(request, account_id)
        return await call(db.positions.find_by_account, account_id)

    @router.get("/accounts/{account_id}/holdings", operation_id="holdings_at", tags=["positions"])
    async def holdings_at(request: Request, account_id: str, at: str) -> dict[str, Decimal]:
        """Quantity held of each symbol at an instant."""
        await account(request, account_id)
        return await call(db.positions.get_positions_at, account_id, at)

    @router.put("/accounts/{account_id}/positions/{symbol}", operation_id="set_position",
                openapi_extra=doc(body.HoldingBody), tags=["positions"])
    async def set_position(request: Request, account_id: str, symbol: str) -> PositionChange:
        """Set a holding to a quantity (recorded in its history; no cash moves)."""
        await account(request, account_id)
        fields = await json_object(request)
        quantity = fields.pop("quantity", None)
        return await call(db.positions.add_or_update_position, account_id, symbol, quantity,
                          **only(fields, "action", "at"))

    @router.post("/accounts/{account_id}/trades", status_code=201, operation_id="record_trade",
                 openapi_extra=doc(body.TradeBody), tags=["positions"])
    async def record_trade(request: Request, account_id: str) -> PositionChange:
        """Buy, sell or transfer; a priced trade moves cash in the same transaction."""
        await account(request, account_id)
        fields = await json_object(request)
        symbol, action, quantity = fields.pop("symbol", None), fields.pop("action", None), fields.pop("quantity", None)
        return await call(db.positions.record_trade, account_id, symbol, action, quantity,
                          **only(fields, "at", "price", "fee"))

    @router.get("/accounts/{account_id}/history", operation_id="position_history", tags=["positions"])
    async def position_history(request: Request, account_id: str, symbol: str | None = None, start: str | None = None,
                               end: str | None = None, limit: int | None = None,
                               cursor: str | None = None) -> Page[PositionChange]:
        """The account's changes in time order."""
        await account(request, account_id)
        return await call(one_page, db.positions.get_position_history, account_id, symbol, start, end, limit=limit,
                          cursor=cursor)

    @router.get("/accounts/{account_id}/lots", operation_id="list_lots", tags=["positions"])
    async def list_lots(request: Request, account_id: str, symbol: str | None = None, at: str | None = None,
                        method: str = "fifo") -> list[Lot]:
        """Open lots at an instant (fifo, lifo, hifo or average)."""
        await account(request, account_id)
        return await call(db.positions.get_lots, account_id, symbol, at, method)

    @router.get("/accounts/{account_id}/realized-gains", operation_id="realized_gains", tags=["positions"])
    async def realized_gains(request: Request, account_id: str, start: str | None = None, end: str | None = None,
                             method: str = "fifo") -> list[Disposal]:
        """Each sale between start and end with its cost and gain."""
        await account(request, account_id)
        return await call(db.positions.get_realized_gains, account_id, start, end, method)

    # Valuation, cash and returns -------------------------------------------------------------------------
    @router.get("/accounts/{account_id}/value", operation_id="account_value", tags=["valuation"])
    async def account_value(request: Request, account_id: str, at: str | None = None) -> AccountValuation:
        """What the account was worth at an instant (now by default)."""
        await account(request, account_id)
        if at is None:
            return await call(db.positions.get_portfolio_value, account_id)
        return await call(db.positions.get_account_value_at_date, account_id, at)

    @router.get("/accounts/{account_id}/series", operation_id="account_series", tags=["valuation"])
    async def account_series(request: Request, account_id: str, start: str, end: str,
                             step: str = "1d") -> list[ValuePoint]:
        """Value, cash and net contributions at start, start + step, ... end."""
        await account(request, account_id)
        return await call(db.positions.get_value_series, account_id, start, end, step_of(step))

    @router.get("/users/{user_id}/value", operation_id="user_value", tags=["valuation"])
    async def user_value(request: Request, user_id: str, at: str) -> UserValuation:
        """What all of a user's accounts were worth at an instant."""
        await api.for_user(request, user_id)
        return await call(db.positions.get_user_value_at_date, user_id, at)

    @router.get("/accounts/{account_id}/cash", operation_id="cash_movements", tags=["cash"])
    async def cash_movements(request: Request, account_id: str, start: str | None = None, end: str | None = None,
                             limit: int | None = None, cursor: str | None = None) -> Page[CashMovement]:
        """The ledger's movements in time order."""
        await account(request, account_id)
        return await call(one_page, db.cash.movements, account_id, start, end, limit=limit, cursor=cursor)

    @router.post("/accounts/{account_id}/cash", status_code=201, operation_id="record_cash",
                 openapi_extra=doc(body.CashBody), tags=["cash"])
    async def record_cash(request: Request, account_id: str) -> CashMovement:
        """Record a deposit, withdrawal, dividend, interest, fee, tax or adjustment."""
        await account(request, account_id)
        fields = await json_object(request)
        kind, amount = fields.pop("kind", None), fields.pop("amount", None)
        return await call(db.cash.record, account_id, kind, amount, **only(fields, "at", "symbol", "note"))

    @router.get("/accounts/{account_id}/cash/history", operation_id="cash_history", tags=["cash"])
    async def cash_history(request: Request, account_id: str, start: str | None = None,
                           end: str | None = None) -> list[CashEntry]:
        """Every line of the cash account in time order, trades' cash included, with the running balance."""
        await account(request, account_id)
        return await call(db.cash.history, account_id, start, end)

    @router.get("/accounts/{account_id}/cash/balance", operation_id="cash_balance", tags=["cash"])
    async def cash_balance(request: Request, account_id: str, at: str | None = None) -> dict[str, Decimal]:
        """The cash balance at an instant (now by default)."""
        await account(request, account_id)
        if at is None:
            return {"balance": await call(db.cash.balance, account_id)}
        return {"balance": await call(db.cash.balance_at, account_id, at)}

    @router.get("/accounts/{account_id}/returns", operation_id="account_returns", tags=["returns"])
    async def account_returns(request: Request, account_id: str, start: str, end: str) -> Returns:
        """Flows, income, costs, TWR and MWR between two instants."""
        await account(request, account_id)
        return await call(db.performance.returns, account_id, start, end)

    @router.get("/accounts/{account_id}/returns/series", operation_id="returns_series", tags=["returns"])
    async def returns_series(request: Request, account_id: str, start: str, end: str,
                             step: str = "1d") -> list[ReturnPoint]:
        """Value, contributions and cumulative TWR per step."""
        await account(request, account_id)
        return await call(db.performance.series, account_id, start, end, step_of(step))

    @router.get("/users/{user_id}/returns", operation_id="user_returns", tags=["returns"])
    async def user_returns(request: Request, user_id: str, start: str, end: str) -> Returns:
        """The same over all of a user's accounts as one portfolio."""
        await api.for_user(request, user_id)
        return await call(db.performance.user_returns, user_id, start, end)

    router.include_router(instrument_routes(api, doc))
    return router


def instrument_routes(api: Api, doc: Any) -> APIRouter:
    """Instruments, their prices and splits: read by anyone signed in, written by services."""
    router = APIRouter()
    db = api.db

    @router.get("/instruments", operation_id="list_instruments", tags=["instruments"])
    async def list_instruments(request: Request, instrument_type: str | None = None, q: str | None = None,
                               limit: int | None = None, cursor: str | None = None) -> Page[Instrument]:
        """Instruments by symbol: all, of one type, or whose symbol or name contains q."""
        await api.caller(request)
        if q is not None:
            return await call(one_page, db.instruments.search, q, limit=limit, cursor=cursor)
        if instrument_type is not None:
            return await call(one_page, db.instruments.find_by_type, instrument_type, limit=limit, cursor=cursor)
        return await call(one_page, db.instruments.find_all, limit=limit, cursor=cursor)

    @router.post("/instruments", status_code=201, operation_id="create_instrument",
                 openapi_extra=doc(body.NewInstrumentBody), tags=["instruments"])
    async def create_instrument(request: Request) -> Instrument:
        """Add an instrument (any signed-in caller: a user adds one by holding it)."""
        await api.caller(request)
        return await call(db.instruments.create_instrument, await json_object(request))

    @router.get("/instruments/{symbol}", operation_id="get_instrument", tags=["instruments"])
    async def get_instrument(request: Request, symbol: str) -> Instrument:
        """One instrument with its current price."""
        await api.caller(request)
        return await call(db.instruments.get_instrument, symbol)

    @router.patch("/instruments/{symbol}", operation_id="update_instrument",
                  openapi_extra=doc(body.InstrumentChangesBody), tags=["instruments"])
    async def update_instrument(request: Request, symbol: str) -> Instrument:
        """Change an instrument's description (services)."""
        services_only(await api.caller(request), "an instrument's description")
        return await call(db.instruments.update_instrument, symbol, **await json_object(request))

    @router.get("/instruments/{symbol}/prices", operation_id="price_history", tags=["instruments"])
    async def price_history(request: Request, symbol: str, start: str | None = None, end: str | None = None,
                            limit: int | None = None, cursor: str | None = None) -> Page[PricePoint]:
        """Recorded prices in time order."""
        await api.caller(request)
        return await call(one_page, db.instruments.get_price_history, symbol, start, end, limit=limit, cursor=cursor)

    @router.post("/instruments/{symbol}/prices", status_code=201, operation_id="record_price",
                 openapi_extra=doc(body.PriceBody), tags=["instruments"])
    async def record_price(request: Request, symbol: str) -> PricePoint:
        """Record a price (services)."""
        services_only(await api.caller(request), "a price")
        fields = await json_object(request)
        price = fields.pop("price", None)
        return await call(db.instruments.record_price, symbol, price, **only(fields, "at"))

    @router.get("/instruments/{symbol}/splits", operation_id="list_splits", tags=["instruments"])
    async def list_splits(request: Request, symbol: str) -> list[Split]:
        """A symbol's splits, oldest first."""
        await api.caller(request)
        return await call(db.instruments.get_splits, symbol)

    @router.post("/instruments/{symbol}/splits", status_code=201, operation_id="record_split",
                 openapi_extra=doc(body.SplitBody), tags=["instruments"])
    async def record_split(request: Request, symbol: str) -> Split:
        """Record a split (services); every holder's history applies it on read."""
        services_only(await api.caller(request), "a split")
        fields = await json_object(request)
        numerator, denominator = fields.pop("numerator", None), fields.pop("denominator", None)
        at = fields.pop("at", None)
        return await call(db.instruments.record_split, symbol, numerator, denominator, at, **only(fields, "name"))

    return router
