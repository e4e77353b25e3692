"""Contract: analysis jobs."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal
from typing import Any

import pytest

from alexdb import Database, InvalidTransitionError, NotFoundError, ValidationError
from tests.conftest import present


@pytest.fixture
def user(db: Database) -> Any:
    return db.users.create_user("user_1")


def test_lifecycle_stamps_times(db: Database, user: Any) -> None:
    job = db.jobs.create_job("user_1", "portfolio_analysis", {"note": "hi", "amount": Decimal("0.10")})
    assert job.status == "pending" and job.started_at is None
    running = db.jobs.update_status(job.id, "running")
    assert running.started_at is not None and running.completed_at is None
    done = db.jobs.update_status(job.id, "completed")
    assert done.completed_at is not None and done.started_at is not None and done.completed_at >= done.started_at
    assert present(db.jobs.find_by_id(job.id)).request_payload == {"note": "hi", "amount": Decimal("0.10")}


def test_failure_keeps_the_message(db: Database, user: Any) -> None:
    job = db.jobs.create_job("user_1", "risk_assessment")
    db.jobs.update_status(job.id, "running")
    failed = db.jobs.update_status(str(job.id), "failed", error_message="agent timed out")
    assert failed.error_message == "agent timed out" and failed.completed_at is not None


@pytest.mark.parametrize("path", [["running", "pending"], ["running", "completed", "running"],
                                  ["completed", "failed"], ["failed", "completed"]])
def test_invalid_transitions(db: Database, user: Any, path: Any) -> None:
    job = db.jobs.create_job("user_1", "portfolio_analysis")
    *allowed, refused = path
    for status in allowed:
        db.jobs.update_status(job.id, status)
    before = db.jobs.get_job(job.id)
    with pytest.raises(InvalidTransitionError):
        db.jobs.update_status(job.id, refused)
    assert db.jobs.get_job(job.id) == before


def test_a_redelivered_job_starts_again_and_counts_its_attempts(db: Database, user: Any) -> None:
    job = db.jobs.create_job("user_1", "portfolio_analysis")
    assert job.attempts == 0
    first = db.jobs.update_status(job.id, "running")
    failed = db.jobs.update_status(job.id, "failed", error_message="agent timed out")
    again = db.jobs.update_status(job.id, "running")
    assert (first.attempts, failed.attempts, again.attempts) == (1, 1, 2)
    assert again.completed_at is None and present(again.started_at) >= present(first.started_at)
    stalled = db.jobs.update_status(job.id, "running")  # the worker died mid-run: SQS delivers the message again
    done = db.jobs.update_status(job.id, "completed")
    assert stalled.attempts == 3 and done.attempts == 3 and done.completed_at is not None
    listed = list(db.jobs.find_by_user("user_1", status="completed")) + list(db.jobs.find_by_status("completed"))
    assert [found.attempts for found in listed] == [3, 3]


def test_an_agent_may_complete_a_pending_job_directly(db: Database, user: Any) -> None:
    job = db.jobs.create_job("user_1", "instrument_research")
    done = db.jobs.update_status(job.id, "completed")
    assert done.status == "completed" and done.attempts == 0 and done.completed_at is not None


def test_a_deleted_job_is_gone(db: Database, user: Any) -> None:
    kept, gone = (db.jobs.create_job("user_1", "portfolio_analysis") for _ in range(2))
    db.jobs.delete_job(str(gone.id))
    assert db.jobs.find_by_id(gone.id) is None and present(db.jobs.find_by_id(kept.id)) == kept
    assert [job.id for job in db.jobs.find_by_user("user_1")] == [kept.id]
    assert [job.id for job in db.jobs.find_by_status("pending")] == [kept.id]
    with pytest.raises(NotFoundError):
        db.jobs.delete_job(gone.id)


def test_payload_per_agent(db: Database, user: Any) -> None:
    job = db.jobs.create_job("user_1", "portfolio_analysis")
    db.jobs.update_report(job.id, {"markdown": "# Report"})
    db.jobs.update_charts(job.id, {"charts": [{"type": "pie", "values": [Decimal("60.5"), 39.5]}]})
    db.jobs.update_retirement(job.id, {"success_rate": Decimal("0.87")})
    db.jobs.update_summary(job.id, {"summary": "ok"})
    found = db.jobs.get_job(job.id)
    assert found.report_payload == {"markdown": "# Report"}
    assert present(found.charts_payload)["charts"][0]["values"][0] == Decimal("60.5")
    assert found.retirement_payload == {"success_rate": Decimal("0.87")}
    with pytest.raises(ValidationError):
        db.jobs.update_report(job.id, ["not", "an", "object"])  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        db.jobs.update_report("00000000-0000-0000-0000-000000000000", {})


def test_lists_order_and_page(db: Database, user: Any) -> None:
    db.users.create_user("user_10")
    ids = [db.jobs.create_job("user_1", "portfolio_analysis").id for _ in range(5)]
    db.jobs.create_job("user_10", "tax_optimization")
    db.jobs.update_status(ids[0], "running")
    newest = db.jobs.find_by_user("user_1", limit=3)
    rest = db.jobs.find_by_user("user_1", limit=3, cursor=newest.next_cursor)
    assert [j.id for j in newest] + [j.id for j in rest] == ids[::-1]
    assert [j.id for j in db.jobs.find_by_user("user_1", status="running")] == [ids[0]]
    assert [j.id for j in db.jobs.find_by_status("pending", limit=10)][:4] == ids[1:]
    with pytest.raises(ValidationError):
        db.jobs.find_by_status("lost")


def test_claim_next_takes_the_oldest_pending(db: Database, user: Any) -> None:
    first = db.jobs.create_job("user_1", "portfolio_analysis")
    second = db.jobs.create_job("user_1", "tax_optimization")
    assert present(db.jobs.claim_next("tax_optimization")).id == second.id
    claimed = present(db.jobs.claim_next())
    assert claimed.id == first.id and claimed.status == "running"
    assert db.jobs.claim_next() is None


def test_concurrent_workers_never_share_a_job(db: Database, user: Any) -> None:
    created = {db.jobs.create_job("user_1", "portfolio_analysis").id for _ in range(24)}
    claimed: list[uuid.UUID] = []
    lock = threading.Lock()

    def worker() -> None:
        while (job := db.jobs.claim_next()) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(created)
