"""Indicators updated incrementally, one bar close at a time, in exact Decimal arithmetic."""

from __future__ import annotations

from collections import deque
from decimal import Decimal

ZERO, HUNDRED = Decimal(0), Decimal(100)


class SimpleMovingAverage:
    """Mean of the last `period` closes: O(1) per close with a running sum."""

    def __init__(self, period: int) -> None:
        self.period = period
        self._window: deque[Decimal] = deque()
        self._sum = ZERO

    def update(self, close: Decimal) -> Decimal | None:
        """Add a close; the average once `period` closes have been seen."""
        self._window.append(close)
        self._sum += close
        if len(self._window) > self.period:
            self._sum -= self._window.popleft()
        return self._sum / self.period if len(self._window) == self.period else None


class ExponentialMovingAverage:
    """EMA with alpha = 2 / (period + 1), seeded with the SMA of the first `period` closes."""

    def __init__(self, period: int) -> None:
        self.period = period
        self._alpha = Decimal(2) / (period + 1)
        self._seed = SimpleMovingAverage(period)
        self.value: Decimal | None = None

    def update(self, close: Decimal) -> Decimal | None:
        """Add a close; the EMA once `period` closes have been seen."""
        if self.value is None:
            self.value = self._seed.update(close)
        else:
            self.value += self._alpha * (close - self.value)
        return self.value


class RelativeStrengthIndex:
    """Wilder's RSI over `period` closes (0-100): average gain and loss smoothed by 1/period."""

    def __init__(self, period: int) -> None:
        self.period = period
        self._previous: Decimal | None = None
        self._gains: list[Decimal] = []
        self._losses: list[Decimal] = []
        self._avg_gain: Decimal | None = None
        self._avg_loss = ZERO

    def update(self, close: Decimal) -> Decimal | None:
        """Add a close; the RSI once `period` changes have been seen."""
        if self._previous is None:
            self._previous = close
            return None
        change, self._previous = close - self._previous, close
        gain, loss = max(change, ZERO), max(-change, ZERO)
        if self._avg_gain is None:
            self._gains.append(gain)
            self._losses.append(loss)
            if len(self._gains) < self.period:
                return None
            self._avg_gain = sum(self._gains, ZERO) / self.period
            self._avg_loss = sum(self._losses, ZERO) / self.period
        else:
            self._avg_gain = (self._avg_gain * (self.period - 1) + gain) / self.period
            self._avg_loss = (self._avg_loss * (self.period - 1) + loss) / self.period
        if self._avg_loss == ZERO:
            return HUNDRED
        return HUNDRED - HUNDRED / (1 + self._avg_gain / self._avg_loss)


def make_indicator(kind: str, period: int) -> SimpleMovingAverage | ExponentialMovingAverage | RelativeStrengthIndex:
    """A fresh indicator of kind sma, ema or rsi."""
    if kind == "sma":
        return SimpleMovingAverage(period)
    if kind == "ema":
        return ExponentialMovingAverage(period)
    return RelativeStrengthIndex(period)
