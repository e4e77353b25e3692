"""Rules record stores share: optimistic updates retried a bounded number of times; an account that must exist."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

from alexdb.domain.errors import BackendError, NotFoundError
from alexdb.domain.models import Account
from alexdb.domain.validate import parse_id
from alexdb.ports import AccountRecords

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


def existing_account(records: AccountRecords, account_id: uuid.UUID | str) -> Account:
    """The account as stored (its cash_balance not brought up to date); NotFoundError if there is none."""
    account = records.get_account(parse_id("account", account_id))
    if account is None:
        raise NotFoundError("account", account_id)
    return account
