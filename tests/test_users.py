"""Contract: users."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alexdb import ConflictError, Database, NotFoundError, ValidationError
from alexdb.domain.models import Account


def test_create_and_find_with_defaults(db: Database) -> None:
    user = db.users.create_user("user_1", "Test User", years_until_retirement=25,
                                target_retirement_income=Decimal("100000.00"))
    found = db.users.find_by_clerk_id("user_1")
    assert found == user
    assert found.asset_class_targets == {"equity": 70, "fixed_income": 30}
    assert found.region_targets == {"north_america": 50, "international": 50}
    assert found.created_at.tzinfo is not None
    assert found.target_retirement_income == Decimal("100000.00")


def test_missing_user_is_none(db: Database) -> None:
    assert db.users.find_by_clerk_id("nobody") is None
    with pytest.raises(NotFoundError):
        db.users.get_user("nobody")


def test_duplicate_user_is_a_conflict(db: Database) -> None:
    db.users.create_user("user_1", "A")
    with pytest.raises(ConflictError, match="user_1"):
        db.users.create_user("user_1", "B")
    assert db.users.get_user("user_1").display_name == "A"


def test_prefix_ids_do_not_collide(db: Database) -> None:
    db.users.create_user("user_1")
    db.users.create_user("user_10")
    db.accounts.create_account("user_10", "Other")
    assert len(db.accounts.find_by_user("user_1")) == 0
    assert len(db.accounts.find_by_user("user_10")) == 1


def test_update_user_validates_the_result(db: Database) -> None:
    db.users.create_user("user_1", "A")
    updated = db.users.update_user("user_1", display_name="B", region_targets={"europe": 60, "asia": 40})
    assert updated.display_name == "B"
    assert db.users.get_user("user_1").region_targets == {"europe": 60, "asia": 40}
    with pytest.raises(ValidationError) as info:
        db.users.update_user("user_1", region_targets={"europe": 10})
    assert info.value.field == "region_targets"
    with pytest.raises(ValidationError, match="created_at"):
        db.users.update_user("user_1", created_at="2020-01-01")
    with pytest.raises(NotFoundError):
        db.users.update_user("nobody", display_name="x")


def test_delete_user_removes_everything_owned(db: Database, account: Account) -> None:
    db.instruments.record_price("SPY", "10", "2024-01-01T00:00:00Z")
    db.positions.record_trade(account.id, "SPY", "BUY", 5, at="2024-01-02")
    db.jobs.create_job("user_1", "portfolio_analysis")
    db.users.delete_user("user_1")
    counts = db.counts()
    assert counts["users"] == counts["accounts"] == counts["positions"] == 0
    assert counts["position_history"] == counts["jobs"] == 0
    assert counts["instruments"] == 3 and counts["price_history"] == 1
    with pytest.raises(NotFoundError):
        db.users.delete_user("user_1")


def test_names_with_sql_metacharacters_are_stored_verbatim(db: Database) -> None:
    name = "Robert'); DROP TABLE users;-- O'Brien \"%_\\"
    db.users.create_user("user_1", name)
    assert db.users.get_user("user_1").display_name == name
    assert db.counts()["users"] == 1


def test_users_page(db: Database) -> None:
    for i in range(7):
        db.users.create_user(f"user_{i}")
    first = db.users.find_all(limit=3)
    second = db.users.find_all(limit=3, cursor=first.next_cursor)
    third = db.users.find_all(limit=3, cursor=second.next_cursor)
    ids = [u.clerk_user_id for page in (first, second, third) for u in page]
    assert ids == [f"user_{i}" for i in range(7)]
    assert third.next_cursor is None
