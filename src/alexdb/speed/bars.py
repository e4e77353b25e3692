"""One-minute bars built from ticks: what the portfolio store keeps as price history."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from alexdb.domain.ticks import TickRow

MINUTE_MS = 60_000


@dataclass(slots=True)
class Bar:
    """Open, high, low, close and volume of one symbol over one UTC minute."""

    symbol: str
    minute: int  # epoch minutes
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    @property
    def closes_at(self) -> datetime:
        """The bar's last millisecond: its close is the price as of then (nothing later leaks into it)."""
        return datetime.fromtimestamp(((self.minute + 1) * MINUTE_MS - 1) / 1000, UTC)


class BarBuilder:
    """Folds ticks into per-symbol one-minute bars.

    A tick of a later minute closes the symbol's bar; a late tick of a minute already closed is left out
    of the bars (the tick itself is still stored). `drain()` hands over every bar that changed since the
    last call, closed or still open, so the open bar's close (the latest price) is written as it moves.
    """

    def __init__(self) -> None:
        self._open: dict[str, Bar] = {}
        self._changed: dict[tuple[str, int], Bar] = {}

    def add(self, ticks: Iterable[TickRow]) -> None:
        """Fold ticks in, in order."""
        for symbol, price, timestamp, volume, _ in ticks:
            minute = timestamp // MINUTE_MS
            bar = self._open.get(symbol)
            if bar is None or minute > bar.minute:
                bar = self._open[symbol] = Bar(symbol, minute, price, price, price, price, volume)
            elif minute < bar.minute:
                continue
            else:
                if price > bar.high:
                    bar.high = price
                elif price < bar.low:
                    bar.low = price
                bar.close = price
                bar.volume += volume
            self._changed[(symbol, minute)] = bar

    def resume(self, symbol: str, minute: int, open_: Decimal, high: Decimal, low: Decimal, close: Decimal) -> None:
        """Take up the symbol's bar as the store's cursor has it. If another ingestor moved it, the bars of
        the symbol this builder still holds back are stale: that ingestor writes its own."""
        bar = self._open.get(symbol)
        if bar is not None and (bar.minute, bar.open, bar.high, bar.low, bar.close) == (
                minute, open_, high, low, close):
            return
        self._open[symbol] = Bar(symbol, minute, open_, high, low, close, Decimal(0))
        self._changed = {key: held for key, held in self._changed.items() if key[0] != symbol}

    def drain(self, include_open: bool = True) -> list[Bar]:
        """The bars changed since the last drain, oldest minute first: closed ones always, open ones if asked
        (those left out stay pending)."""
        out, pending = [], {}
        for key, bar in self._changed.items():
            if include_open or self._open.get(bar.symbol) is not bar:
                out.append(bar)
            else:
                pending[key] = bar
        self._changed = pending
        return sorted(out, key=lambda bar: bar.minute)
