"""A byte-budgeted, least-recently-used keeper of values a service may reuse between calls."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class KeptBytes:
    """Values kept within a byte budget (as their keeper counts them), least recently used out first."""

    def __init__(self, budget: int) -> None:
        self.budget, self.held = budget, 0
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: Hashable) -> bool:
        return name in self._entries

    def get(self, name: Hashable) -> Any:
        """The value kept under name (now the most recently used), or None."""
        with self._lock:
            entry = self._entries.get(name)
            if entry is None:
                return None
            self._entries.move_to_end(name)
            return entry[0]

    def put(self, name: Hashable, value: Any, size: int) -> None:
        """Keep value under name, dropping the least recently used until the budget holds; a value larger
        than the whole budget is not kept."""
        if size > self.budget:
            return
        with self._lock:
            previous = self._entries.pop(name, None)
            if previous is not None:
                self.held -= previous[1]
            self._entries[name] = (value, size)
            self.held += size
            while self.held > self.budget:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.held -= dropped
