"""The DynamoDB speed cursor's lease: what an ingestor that died holding it leaves behind."""

from __future__ import annotations

from decimal import Decimal

from alexdb import Database
from alexdb.adapters.dynamodb.cursors import CURSOR
from alexdb.domain.instants import now_ms
from alexdb.speed.pipeline import Ingestor
from tests.conftest import dynamo_engine


def test_a_cursor_leased_by_a_dead_ingestor_is_taken_over_when_its_lease_runs_out(dynamo_db: Database) -> None:
    engine = dynamo_engine(dynamo_db)
    # An ingestor died holding SPY's cursor; its lease ran out a second ago.
    engine.dynamo.put(engine.config.instruments_table, {"PK": "SPY", "SK": CURSOR, "lease": "dead",
                                                        "lease_until": now_ms() - 1000})
    dynamo_db.alerts.create_alert("hal", "SPY", {"operator": ">", "threshold": "100"})
    ingestor = Ingestor(dynamo_db, {})
    ingestor.ingest([{"symbol": "SPY", "price": "101", "timestamp": now_ms() - 500}])
    assert ingestor.close().fired == 1
    cursor = dynamo_db.alerts.cursor("SPY")
    assert cursor is not None and cursor.close == Decimal("101")
