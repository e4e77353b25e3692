"""Rules every record store shares: optimistic updates retried a bounded number of times."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from alexdb.domain.errors import BackendError

R = TypeVar("R")

ATTEMPTS = 64


def until_written(what: str, attempt: Callable[[], R | None]) -> R:
    """Run attempt (read, build the new state, write it if nobody changed it meanwhile) until it writes.

    attempt returns None when the stored version was no longer the one it read (a concurrent writer
    won): it is run again from the new state, so concurrent updates of different fields all land.
    """
    for number in range(ATTEMPTS):
        result = attempt()
        if result is not None:
            return result
        # Full jitter spreads the writers that lost the same race.
        time.sleep(random.uniform(0, min(0.05, 0.001 * 2 ** number)))
    raise BackendError(f"{what}: changed by others {ATTEMPTS} times while updating, gave up")
