"""The instrument items every portfolio view reads, cached for a stated time.

Every holdings view reads each held symbol's META (name, type), PRICE (current price) and SPLITS items.
At a million users, SPY's items are read on nearly every view: thousands of reads a second on one
partition, past its 3,000 RCU. This process-wide cache serves them for a bounded time instead, so a
symbol's items cost each process at most one eventually consistent read (0.5 RRU per item) per period:
a current price or a split list is at most `price_seconds` old (default 5 s), a name or type at most
`meta_seconds` (default 60 s). This process's own writes to an instrument drop its entries at once.
Trades never read through it: they read splits strongly consistently.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from alexdb.adapters.dynamodb import keys
from alexdb.adapters.dynamodb.client import Dynamo

CURRENT_PRICE, SPLITS = keys.INSTRUMENT_PRICE, keys.INSTRUMENT_SPLITS
VIEW = (keys.INSTRUMENT_META, CURRENT_PRICE)
DEFAULT_PRICE_SECONDS = 5.0
DEFAULT_META_SECONDS = 60.0


class HotInstruments:
    """META and PRICE items by symbol, read through a time-bounded cache (0 seconds: always read)."""

    def __init__(self, dynamo: Dynamo, table: str, price_seconds: float = DEFAULT_PRICE_SECONDS,
                 meta_seconds: float = DEFAULT_META_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._dynamo, self._table, self._clock = dynamo, table, clock
        self._ttl = {keys.INSTRUMENT_META: meta_seconds, CURRENT_PRICE: price_seconds, SPLITS: price_seconds}
        # (symbol, sort key) -> (read at, item or None for "no such item")
        self._entries: dict[tuple[str, str], tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()
        # Keys being read now: threads that miss one together read it once (the others wait for it).
        self._flights: dict[tuple[str, str], threading.Event] = {}

    def items(self, symbols: Sequence[str], kinds: Sequence[str] = VIEW) -> dict[tuple[str, str], dict[str, Any]]:
        """Each symbol's items of these kinds (sort keys; those that exist), fresh within their bound."""
        wanted = [(symbol, sk) for symbol in symbols for sk in kinds]
        found, stale = self._fresh(wanted)
        if not stale:
            return found
        if min(self._ttl[kind] for kind in kinds) <= 0:  # caching off: every call reads
            self._read(stale, found)
            return found
        with self._lock:
            theirs = {key: self._flights[key] for key in stale if key in self._flights}
            mine = [key for key in stale if key not in theirs]
            self._flights.update((key, threading.Event()) for key in mine)
        try:
            self._read(mine, found)
        finally:
            with self._lock:
                done = [self._flights.pop(key) for key in mine]
            for event in done:
                event.set()
        for event in theirs.values():
            event.wait(timeout=30)
        more, still = self._fresh(list(theirs))
        found.update(more)
        self._read(still, found)  # another thread's read failed: read them here
        return found

    def _fresh(self, wanted: list[tuple[str, str]]) -> tuple[dict[tuple[str, str], dict[str, Any]],
                                                             list[tuple[str, str]]]:
        """The cached items of wanted still within their bound, and the keys that are not."""
        now = self._clock()
        with self._lock:
            cached = {key: self._entries.get(key) for key in wanted}
        found: dict[tuple[str, str], dict[str, Any]] = {}
        stale: list[tuple[str, str]] = []
        for key, entry in cached.items():
            if entry is not None and now - entry[0] < self._ttl[key[1]]:
                if entry[1] is not None:
                    found[key] = entry[1]
            else:
                stale.append(key)
        return found, stale

    def _read(self, stale: list[tuple[str, str]], found: dict[tuple[str, str], dict[str, Any]]) -> None:
        if stale:
            now = self._clock()
            # Within a bound of seconds an eventually consistent read (half the price) loses nothing more;
            # with caching off, reads stay strongly consistent.
            consistent = min(self._ttl[sk] for _, sk in stale) <= 0
            read = {(item["PK"], item["SK"]): item for item in self._dynamo.batch_get(
                self._table, [{"PK": symbol, "SK": sk} for symbol, sk in stale], consistent=consistent)}
            with self._lock:
                for key in stale:
                    self._entries[key] = (now, read.get(key))
            found.update(read)

    def forget(self, symbols: Iterable[str]) -> None:
        """Drop the entries of instruments this process has just changed."""
        with self._lock:
            for symbol in symbols:
                for kind in self._ttl:
                    self._entries.pop((symbol, kind), None)
