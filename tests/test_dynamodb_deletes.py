"""DynamoDB: deleting a user or an account is never seen half done, and a delete cut short is finished
by deleting again (DynamoDB has no transaction for any number of items, so the delete is marked first)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from alexdb import BackendError, Database, NotFoundError
from alexdb.adapters.dynamodb.client import Dynamo
from tests.conftest import dynamo_engine, instrument

pytestmark = pytest.mark.dynamodb
AT = datetime(2024, 1, 2, tzinfo=UTC)


@pytest.fixture
def owned(dynamo_db: Database) -> dict[str, Any]:
    """A user with two accounts holding positions, and two jobs; another user beside it."""
    db = dynamo_db
    db.users.create_user("doomed")
    db.users.create_user("bystander")
    db.instruments.create_instrument(instrument("SPY"))
    accounts = [db.accounts.create_account("doomed", name) for name in ("a", "b")]
    for account in accounts:
        db.positions.record_trades(account.id, [("SPY", "BUY", n + 1, AT) for n in range(30)])
    jobs = [db.jobs.create_job("doomed", "portfolio_analysis") for _ in range(2)]
    kept = db.accounts.create_account("bystander", "kept")
    return {"accounts": accounts, "jobs": jobs, "kept": kept}


@pytest.fixture
def crash_after_marking(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process dies (an error here) at the first batch delete, after the delete has been marked."""
    def crash(self: Dynamo, *args: Any, **kwargs: Any) -> None:
        raise BackendError("crashed mid-delete")

    with monkeypatch.context() as patch:
        patch.setattr(Dynamo, "batch_write", crash)
        yield


def _gone_for_readers(db: Database, owned: dict[str, Any]) -> None:
    assert db.users.find_by_clerk_id("doomed") is None
    assert [u.clerk_user_id for u in db.users.find_all()] == ["bystander"]
    assert list(db.accounts.find_by_user("doomed")) == []
    for account in owned["accounts"]:
        assert db.accounts.find_by_id(account.id) is None
        with pytest.raises(NotFoundError):
            db.positions.find_by_account(account.id)
        with pytest.raises(NotFoundError):
            db.positions.get_position_history(account.id)
    for job in owned["jobs"]:
        assert db.jobs.find_by_id(job.id) is None
    with pytest.raises(NotFoundError):
        db.accounts.create_account("doomed", "late")
    with pytest.raises(NotFoundError):
        db.jobs.create_job("doomed", "portfolio_analysis")
    assert db.accounts.get_account(owned["kept"].id).account_name == "kept"


def test_a_user_delete_cut_short_reads_as_done_and_finishes_when_run_again(
    dynamo_db: Database, owned: dict[str, Any], crash_after_marking: None,
) -> None:
    db = dynamo_db
    with pytest.raises(BackendError):
        db.users.delete_user("doomed")
    _gone_for_readers(db, owned)
    left_before = db.counts()
    assert left_before["accounts"] == 3 and left_before["position_history"] == 60  # only marked so far


def test_running_the_delete_again_removes_everything(dynamo_db: Database, owned: dict[str, Any],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    db = dynamo_db
    with monkeypatch.context() as patch:
        patch.setattr(Dynamo, "batch_write", lambda *a, **k: (_ for _ in ()).throw(BackendError("crash")))
        with pytest.raises(BackendError):
            db.users.delete_user("doomed")
    db.users.delete_user("doomed")  # resumes the marked delete
    counts = db.counts()
    assert counts["users"] == 1 and counts["accounts"] == 1 and counts["jobs"] == 0
    assert counts["positions"] == 0 and counts["position_history"] == 0
    with pytest.raises(NotFoundError):
        db.users.delete_user("doomed")
    items = list(dynamo_engine(db).dynamo.scan(dynamo_engine(db).config.users_table))
    assert all("doomed" not in str(item.get("PK")) for item in items)


def test_an_account_delete_cut_short_reads_as_done_and_finishes_when_run_again(
    dynamo_db: Database, owned: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = dynamo_db
    account = owned["accounts"][0]
    with monkeypatch.context() as patch:
        patch.setattr(Dynamo, "batch_write", lambda *a, **k: (_ for _ in ()).throw(BackendError("crash")))
        with pytest.raises(BackendError):
            db.accounts.delete_account(account.id)
    assert db.accounts.find_by_id(account.id) is None
    assert [a.id for a in db.accounts.find_by_user("doomed")] == [owned["accounts"][1].id]
    with pytest.raises(NotFoundError):
        db.positions.record_trade(account.id, "SPY", "BUY", 1)
    db.accounts.delete_account(account.id)  # resumes
    assert db.counts()["position_history"] == 30
    with pytest.raises(NotFoundError):
        db.accounts.delete_account(account.id)


def test_a_user_delete_finishes_an_account_delete_that_was_cut_short(
    dynamo_db: Database, owned: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = dynamo_db
    with monkeypatch.context() as patch:
        patch.setattr(Dynamo, "batch_write", lambda *a, **k: (_ for _ in ()).throw(BackendError("crash")))
        with pytest.raises(BackendError):
            db.accounts.delete_account(owned["accounts"][0].id)
    db.users.delete_user("doomed")
    counts = db.counts()
    assert counts["accounts"] == 1 and counts["positions"] == 0 and counts["position_history"] == 0
