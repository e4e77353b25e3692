"""db.cash: an account's cash over time, over any backend's CashRecords and PositionStore.

Cash has two sources and one balance. Deposits, withdrawals, income, fees, taxes and adjustments are
movements of the account's ledger, appended in time order under the account's lock. The cash of a BUY or
SELL with a price is kept with the trade itself (each history record carries its symbol's running trade
cash), so a trade and its cash are one write and trades of different symbols never queue on the account.
Cash at an instant is the ledger's balance then plus every symbol's trade cash then.
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from alexdb.domain.errors import NotFoundError, ValidationError
from alexdb.domain.instants import optional_instant, to_instant, utcnow
from alexdb.domain.ledger import (
    CASH_KINDS,
    COSTS,
    INCOME,
    CashEntry,
    CashMovement,
    CashPlan,
    NewCashMovement,
    PlannedCash,
    running_total,
    signed,
)
from alexdb.domain.models import PositionChange
from alexdb.domain.paging import Bookmark, Cursors, Results, scope
from alexdb.domain.trading import HeldState, change_instant, trade_cash
from alexdb.domain.validate import build, one_of, parse_id
from alexdb.ports import AccountRecords, CashRecords, InstrumentStore, PositionStore, Rows
from alexdb.services.records import existing_account

ZERO = Decimal(0)
SYMBOL_KINDS = INCOME | COSTS  # a dividend, interest, a fee or a withholding tax may name its security
PAGE = 1000


class _UnchangedError(Exception):
    """The balance already is the one asked for: nothing to append."""


def opening_deposit(amount: Decimal, at: datetime) -> PlannedCash | None:
    """The movement that opens an account with amount of cash (None for none)."""
    return PlannedCash("DEPOSIT", amount, amount, at, None, "opening balance") if amount else None


class LedgerReader:
    """Cash at an instant, for the services that report it (no account lookup: callers have done it)."""

    def __init__(self, records: CashRecords, positions: PositionStore, cursors: Cursors) -> None:
        self._records, self._positions, self._cursors = records, positions, cursors

    def movements(self, account_id: uuid.UUID, start: datetime | None = None,
                  end: datetime | None = None) -> Results[CashMovement]:
        """The ledger's own movements between start and end inclusive, in time order, every page as iterated."""
        return Results(lambda after, size: self._records.cash_page(account_id, start, end, after, PAGE),
                       scope("cash", account_id, start, end), self._cursors)

    def trade_cash_at(self, account_id: uuid.UUID, at: datetime) -> Decimal:
        """The cash every symbol's trades moved up to an instant."""
        return sum((state.cash for state in self._positions.holdings_at(account_id, at).values()), ZERO)

    def cash_at(self, account_id: uuid.UUID, at: datetime) -> Decimal:
        """The account's cash at an instant: ledger plus trades."""
        return self.cash_with(account_id, at, self._positions.holdings_at(account_id, at))

    def cash_with(self, account_id: uuid.UUID, at: datetime, states: Mapping[str, HeldState]) -> Decimal:
        """The account's cash at an instant, given its holdings then (already read)."""
        return self._records.cash_balance_at(account_id, at) + sum((state.cash for state in states.values()), ZERO)


class CashService:
    """The public cash API; owns the kinds, signs, time order and the merged history."""

    def __init__(self, records: CashRecords, ledger: LedgerReader, accounts: AccountRecords,
                 positions: PositionStore, instruments: InstrumentStore, cursors: Cursors) -> None:
        self._records, self._ledger, self._accounts = records, ledger, accounts
        self._positions, self._instruments, self._cursors = positions, instruments, cursors

    def deposit(self, account_id: uuid.UUID | str, amount: Any, at: datetime | date | str | None = None,
                note: str | None = None) -> CashMovement:
        """Money paid into the account (an external flow)."""
        return self.record(account_id, "DEPOSIT", amount, at=at, note=note)

    def withdraw(self, account_id: uuid.UUID | str, amount: Any, at: datetime | date | str | None = None,
                 note: str | None = None) -> CashMovement:
        """Money taken out of the account (an external flow)."""
        return self.record(account_id, "WITHDRAWAL", amount, at=at, note=note)

    def record(self, account_id: uuid.UUID | str, kind: str, amount: Any, at: datetime | date | str | None = None,
               symbol: str | None = None, note: str | None = None) -> CashMovement:
        """Record a movement of kind (DEPOSIT, WITHDRAWAL, DIVIDEND, INTEREST, FEE, TAX, ADJUSTMENT).

        amount is > 0 and the kind gives the sign (an ADJUSTMENT is signed and not 0). Movements are
        recorded in time order per account: one dated before the ledger's last is refused.
        """
        movement = build(NewCashMovement, {"kind": one_of("kind", kind, CASH_KINDS), "amount": amount,
                                           "symbol": symbol, "note": note})
        if movement.kind == "ADJUSTMENT" and movement.amount == 0:
            raise ValidationError("amount", amount, "an adjustment must not be 0")
        if movement.kind != "ADJUSTMENT" and movement.amount <= 0:
            raise ValidationError("amount", amount, f"must be > 0 (a {movement.kind} gives the sign)")
        if movement.symbol is not None:
            if movement.kind not in SYMBOL_KINDS:
                raise ValidationError("symbol", symbol, "only a DIVIDEND, INTEREST, FEE or TAX names a symbol")
            if self._instruments.get_instrument(movement.symbol) is None:
                raise NotFoundError("instrument", movement.symbol)
        key = parse_id("account", account_id)
        instant = None if at is None else to_instant(at)
        effect = signed(movement.kind, movement.amount)

        def plan(balance: Decimal, last: datetime | None, now: datetime) -> PlannedCash:
            return PlannedCash(movement.kind, effect, running_total(balance + effect, "amount", amount),
                               change_instant("the cash ledger", instant, last, now), movement.symbol, movement.note)

        return self._append(key, plan)

    def _append(self, key: uuid.UUID, plan: CashPlan) -> CashMovement:
        written = self._records.append_cash(key, plan)
        if written is None:
            raise NotFoundError("account", str(key))
        return written

    def set_balance(self, account_id: uuid.UUID | str, target: Decimal, note: str | None = None) -> CashMovement | None:
        """Record the ADJUSTMENT that brings the cash now to target; None when it already is."""
        key = parse_id("account", account_id)
        now = utcnow()
        trades = self._ledger.trade_cash_at(key, now)

        def plan(balance: Decimal, last: datetime | None, at: datetime) -> PlannedCash:
            difference = target - trades - balance
            if not difference:
                raise _UnchangedError
            return PlannedCash("ADJUSTMENT", difference, running_total(balance + difference, "cash_balance", target),
                               change_instant("the cash ledger", None, last, at), None, note)

        try:
            return self._append(key, plan)
        except _UnchangedError:
            return None

    def balance(self, account_id: uuid.UUID | str) -> Decimal:
        """Cash now."""
        return self.balance_at(account_id, utcnow())

    def balance_at(self, account_id: uuid.UUID | str, at: datetime | date | str) -> Decimal:
        """Cash at an instant (a date means the end of that UTC day): ledger movements plus trades' cash."""
        return self._ledger.cash_at(existing_account(self._accounts, account_id).id, to_instant(at))

    def movements(self, account_id: uuid.UUID | str, start: Any = None, end: Any = None, limit: int | None = None,
                  cursor: str | None = None) -> Results[CashMovement]:
        """The ledger's own movements (not trades) in time order, between start and end inclusive."""
        key = existing_account(self._accounts, account_id).id
        begin, finish = optional_instant(start, "start"), optional_instant(end, "end")

        def read(after: Bookmark | None, size: int) -> Rows:
            return self._records.cash_page(key, begin, finish, after, size)

        return Results(read, scope("cash", key, begin, finish), self._cursors, limit, cursor)

    def history(self, account_id: uuid.UUID | str, start: Any = None, end: Any = None) -> list[CashEntry]:
        """Every change of cash between start and end inclusive, movements and trades merged in time order,
        each with the balance it left (complete: it reads every page)."""
        key = existing_account(self._accounts, account_id).id
        begin, finish = optional_instant(start, "start"), optional_instant(end, "end")
        balance = ZERO if begin is None else self._ledger.cash_at(key, begin - timedelta(microseconds=1))
        entries: list[CashEntry] = []
        for at, _, kind, amount, symbol, note, fee in heapq.merge(
                self._movement_rows(key, begin, finish), self._trade_rows(key, begin, finish), key=lambda row: row[:2]):
            balance += amount
            entries.append(CashEntry(at=at, kind=kind, amount=amount, balance=balance, symbol=symbol, note=note,
                                     fee=fee))
        return entries

    def _movement_rows(self, key: uuid.UUID, begin: datetime | None,
                       finish: datetime | None) -> Iterator[tuple[Any, ...]]:
        for m in self._ledger.movements(key, begin, finish):
            yield m.at, 0, m.kind, m.amount, m.symbol, m.note, None

    def _trade_rows(self, key: uuid.UUID, begin: datetime | None,
                    finish: datetime | None) -> Iterator[tuple[Any, ...]]:
        changes: Results[PositionChange] = Results(
            lambda after, size: self._positions.history_page(key, None, begin, finish, after, PAGE),
            scope("history", key), self._cursors)
        for change in changes:
            amount = trade_cash(change.action, -change.delta if change.delta < 0 else change.delta, change.price,
                                change.fee)
            if amount is not None:
                yield change.at, 1, change.action, amount, change.symbol, None, change.fee
