"""No index key carries a whole population or a whole status on DynamoDB, and tables of the earlier design
(GSI1/GSI2 with every user under USERS and every job under JOB#<status>, SymbolIndex projecting ALL) are
brought to it by `alexdb migrate`."""

from __future__ import annotations

import dataclasses
import uuid
from decimal import Decimal
from typing import Any

import pytest

import alexdb
from alexdb import Database
from alexdb.adapters.dynamodb import keys
from alexdb.adapters.dynamodb.tables import ALERTS, USERS, Index
from alexdb.adapters.dynamodb.upgrade import SHARDS_KEY
from alexdb.domain.alerts import Trigger
from alexdb.domain.errors import SchemaError
from tests.conftest import dynamo_engine

pytestmark = pytest.mark.dynamodb

OLD_USERS = dataclasses.replace(USERS, indexes=(
    Index("GSI1", "GSI1PK", "GSI1SK"), Index("GSI2", "GSI2PK", "GSI2SK"),
    *(i for i in USERS.indexes if i.name in ("LSI1", "HoldersIndex"))))
OLD_ALERTS = dataclasses.replace(ALERTS, indexes=(
    Index("SymbolIndex", "symbol", "user_id"), *(i for i in ALERTS.indexes if i.name == "UserIndex")))


def _index_copies(db: Database, index: str, table: str) -> list[dict[str, Any]]:
    engine = dynamo_engine(db)
    return list(engine.dynamo.scan(engine.config.table_names()[table], IndexName=index))


def test_users_and_jobs_spread_over_shards_and_list_whole(dynamo_db: Database) -> None:
    db = dynamo_db
    users = [f"user_{n:02d}" for n in range(40)]
    for user in users:
        db.users.create_user(user)
    assert len({item["DIRPK"] for item in _index_copies(db, "Directory", "users")}) > 8
    assert [u.clerk_user_id for u in db.users.find_all(limit=7)] == users[:7]
    assert [u.clerk_user_id for u in db.users.find_all()] == users
    jobs = [db.jobs.create_job(users[n % 3], "portfolio_analysis", {"n": n}) for n in range(30)]
    db.jobs.update_report(jobs[4].id, {"big": "x" * 5000})
    assert len({item["QPK"] for item in _index_copies(db, "JobQueue", "users")}) > 8
    # The index copies leave the agents' payloads out; lists read those jobs whole.
    assert all("report_payload" not in item for item in _index_copies(db, "JobQueue", "users"))
    pending = list(db.jobs.find_by_status("pending"))
    assert [job.id for job in pending] == [job.id for job in jobs]
    assert pending[4].report_payload == {"big": "x" * 5000}
    mine = {job.id: job for job in db.jobs.find_by_user(users[1], status="pending")}
    assert mine[jobs[4].id].report_payload == {"big": "x" * 5000} and mine[jobs[1].id].report_payload is None
    claimed = db.jobs.claim_next()
    assert claimed is not None and claimed.id == jobs[0].id


def test_recording_a_trigger_leaves_the_symbol_index_copy_alone(dynamo_db: Database) -> None:
    db = dynamo_db
    alert = db.alerts.create_alert("u", "SPY", {"operator": ">", "threshold": "100"})
    [before] = _index_copies(db, "AlertsBySymbol", "alerts")
    db.alerts.record_trigger(Trigger(alert_id=alert.alert_id, user_id="u", symbol="SPY", price=Decimal("101"),
                                     threshold=Decimal("100"), price_type="last", notification_method="websocket",
                                     timestamp=1_780_000_000_000), "sent")
    [after] = _index_copies(db, "AlertsBySymbol", "alerts")
    assert after == before and "last_triggered" not in after  # nothing the trigger changed is projected
    assert db.alerts.get_alert(alert.alert_id).trigger_count == 1
    assert db.alerts.find_by_symbol("SPY")[0].trigger_count == 1  # the listing is read whole
    assert [s.alert_id for s in db.alerts.settings_for_symbol("SPY")] == [alert.alert_id]


def test_migrate_moves_users_jobs_and_alerts_to_the_sharded_indexes(own_endpoint: str) -> None:
    url = f"dynamodb://{own_endpoint}?region=us-east-1&prefix=sh{uuid.uuid4().hex[:8]}-"
    db = alexdb.connect(url)
    engine = dynamo_engine(db)
    names = engine.config.table_names()
    engine.dynamo.client.create_table(**OLD_USERS.create_request(names["users"]))
    engine.dynamo.client.create_table(**OLD_ALERTS.create_request(names["alerts"]))
    engine.create_tables(pitr=False)
    with pytest.raises(SchemaError, match="Directory"):
        db.check_schema()
    table, dynamo = names["users"], engine.dynamo
    # Items as the earlier design wrote them: every user under USERS, every job under its status.
    for n in range(5):
        dynamo.put(table, {"PK": keys.user_pk(f"u{n}"), "SK": keys.META, "clerk_user_id": f"u{n}",
                           "display_name": None, "created_at": "2024-01-01T00:00:00.000000Z",
                           "updated_at": "2024-01-01T00:00:00.000000Z", "GSI2PK": "USERS", "GSI2SK": f"u{n}"})
    for n in range(6):
        job_id, created = str(uuid.uuid4()), f"2024-01-0{n + 1}T00:00:00.000000Z"
        status = "pending" if n < 4 else "completed"
        dynamo.put(table, {"PK": keys.user_pk("u1"), "SK": keys.job_sk(created, job_id), "id": job_id,
                           "clerk_user_id": "u1", "job_type": "portfolio_analysis", "status": status,
                           "request_payload": None, "report_payload": {"n": n} if n == 5 else None,
                           "created_at": created, "updated_at": created, "GSI1PK": f"JOB#{status}",
                           "GSI1SK": f"USER#u1#{created}", "GSI2PK": f"JOBS#{status}", "GSI2SK": f"{created}#{job_id}"})
        dynamo.put(table, {"PK": keys.job_pointer_pk(job_id), "SK": "POINTER", "user_pk": keys.user_pk("u1"),
                           "job_sk": keys.job_sk(created, job_id)})
    assert db.migrate() == "dynamodb-5"
    db.check_schema()
    users_table = engine.dynamo.describe(table) or {}
    assert {i["IndexName"] for i in users_table["GlobalSecondaryIndexes"]} == {
        "Directory", "JobQueue", "UserJobs", "HoldersIndex"}
    alerts_table = engine.dynamo.describe(names["alerts"]) or {}
    assert {i["IndexName"] for i in alerts_table["GlobalSecondaryIndexes"]} == {"AlertsBySymbol", "UserIndex"}
    assert [u.clerk_user_id for u in db.users.find_all()] == [f"u{n}" for n in range(5)]
    assert [j.created_at.day for j in db.jobs.find_by_status("pending")] == [1, 2, 3, 4]
    [done, _] = db.jobs.find_by_user("u1", status="completed")
    assert done.report_payload == {"n": 5}
    assert dynamo.get(table, SHARDS_KEY) is not None
    assert db.migrate() == "dynamodb-5"  # again: nothing to do
    db.close()


def test_a_notification_expires_and_a_conversation_moves_its_recency_key_once_a_minute(dynamo_db: Database) -> None:
    db = dynamo_db
    alert = db.alerts.create_alert("u", "SPY", {"operator": ">", "threshold": "100"})
    recorded = db.alerts.record_trigger(Trigger(alert_id=alert.alert_id, user_id="u", symbol="SPY",
                                                price=Decimal("101"), threshold=Decimal("100"), price_type="last",
                                                notification_method="websocket", timestamp=1_780_000_000_000), "sent")
    engine = dynamo_engine(db)
    [history] = list(engine.dynamo.scan(engine.config.table_names()["notifications"]))
    days = (int(history["ttl"]) - recorded.triggered_at.timestamp()) / 86_400
    assert history["notification_id"] == str(recorded.notification_id) and days > 399
    older, newer = db.chat.create_session("alice"), db.chat.create_session("alice")

    def recency(session_id: uuid.UUID) -> str:
        item = engine.dynamo.get(engine.config.chat_table, {"PK": f"SESSION#{session_id}", "SK": "METADATA"})
        assert item is not None
        return str(item["GSI1SK"])

    db.chat.add_message(older.id, "user", "first", user_id="alice")  # another session was ahead: it moves
    moved = recency(older.id)
    assert moved > recency(newer.id)
    db.chat.add_message(older.id, "user", "second", user_id="alice")  # now the newest, within a minute: it stays
    assert recency(older.id) == moved
    assert [s.id for s in db.chat.list_sessions("alice")] == [older.id, newer.id]
