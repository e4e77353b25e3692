"""Contract: accounts."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from alexdb import Database, NotFoundError, ValidationError


def test_create_find_update_delete(db: Database) -> None:
    db.users.create_user("user_1")
    account = db.accounts.create_account("user_1", "Roth IRA", "Tax-free retirement savings",
                                         cash_balance="1000.00", cash_interest="0.04", account_type="roth_ira")
    assert db.accounts.find_by_id(account.id) == account
    assert db.accounts.find_by_id(str(account.id)) == account
    assert account.cash_balance == Decimal("1000.00") and account.cash_interest == Decimal("0.04")
    updated = db.accounts.update_account(account.id, cash_balance=Decimal("1.50"), account_name="Roth")
    assert db.accounts.get_account(account.id) == updated
    assert updated.cash_balance == Decimal("1.50")
    db.accounts.delete_account(account.id)
    assert db.accounts.find_by_id(account.id) is None
    with pytest.raises(NotFoundError):
        db.accounts.delete_account(account.id)


def test_unknown_ids(db: Database) -> None:
    assert db.accounts.find_by_id(uuid.uuid4()) is None
    assert db.accounts.find_by_id("not-a-uuid") is None
    with pytest.raises(NotFoundError):
        db.accounts.get_account("not-a-uuid")
    with pytest.raises(NotFoundError, match="user"):
        db.accounts.create_account("nobody", "x")


def test_find_by_user_pages_in_creation_order(db: Database) -> None:
    db.users.create_user("user_1")
    names = [f"acct {i}" for i in range(5)]
    for name in names:
        db.accounts.create_account("user_1", name)
    first = db.accounts.find_by_user("user_1", limit=2)
    seen = [a.account_name for a in first]
    cursor = first.next_cursor
    while cursor:
        page = db.accounts.find_by_user("user_1", limit=2, cursor=cursor)
        seen += [a.account_name for a in page]
        cursor = page.next_cursor
    assert seen == names


def test_update_is_validated(db: Database) -> None:
    db.users.create_user("user_1")
    account = db.accounts.create_account("user_1", "A")
    with pytest.raises(ValidationError) as info:
        db.accounts.update_account(account.id, cash_interest="1.5")
    assert info.value.field == "cash_interest"
    assert db.accounts.get_account(account.id).cash_interest == 0
