"""The HTTP service on every backend: alerts, ticks, history over HTTP; live alerts over a real WebSocket."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from websockets.sync.client import connect

from alexdb import Database
from alexdb.api.app import create_app
from alexdb.speed.broadcast import WebSocketBroadcaster
from alexdb.speed.notifiers import Delivery
from alexdb.speed.pipeline import Ingestor
from tests.dynamodb_local import uvicorn_serving

NOW = time.time_ns() // 1_000_000


@pytest.fixture
def service(db: Database) -> Iterator[Any]:
    broadcaster = WebSocketBroadcaster()
    ingestor = Ingestor(db, {"websocket": broadcaster}, Delivery(attempts=1))
    yield create_app(db, ingestor, broadcaster), ingestor, broadcaster
    ingestor.close()


def test_alerts_over_http(service: Any) -> None:
    app, ingestor, _ = service
    client = TestClient(app)
    created = client.post("/users/alice/alerts", content=b'{"symbol": "spy", "condition": {"operator": ">", "threshold": 500.10}}')
    assert created.status_code == 201, created.text
    alert = created.json()
    assert (alert["symbol"], alert["condition"]["threshold"], alert["notification_method"]) == ("SPY", "500.10", "websocket")
    assert client.get(f"/alerts/{alert['alert_id']}").json() == alert
    changed = client.patch(f"/alerts/{alert['alert_id']}", json={"cooldown_seconds": 60})
    assert changed.status_code == 200 and changed.json()["cooldown_seconds"] == 60
    client.post("/users/alice/alerts", json={"symbol": "QQQ", "condition": {"operator": "<", "threshold": "300"}})
    page = client.get("/users/alice/alerts", params={"limit": 1}).json()
    assert [a["symbol"] for a in page["items"]] == ["QQQ"] and page["next_cursor"]
    rest = client.get("/users/alice/alerts", params={"cursor": page["next_cursor"]}).json()
    assert [a["symbol"] for a in rest["items"]] == ["SPY"] and rest["next_cursor"] is None
    assert client.delete(f"/alerts/{alert['alert_id']}").status_code == 204
    assert client.get(f"/alerts/{alert['alert_id']}").status_code == 404
    assert len(ingestor.engine) == 0  # nothing was loaded yet: only QQQ is stored, the engine holds no stale SPY


@pytest.mark.parametrize(("method", "path", "body", "status", "field"), [
    ("post", "/users/alice/alerts", b'{"symbol": "SPY", "condition": {"operator": "~", "threshold": "1"}}', 422, "condition.operator"),
    ("post", "/users/alice/alerts", b'{"symbol": "SPY", "condition": {"operator": ">"}}', 422, "condition"),
    ("post", "/users/alice/alerts", b'{"symbol": "SPY", "condition": {"operator": ">", "threshold": 1}, "colour": 1}', 422, "colour"),
    ("post", "/users/alice/alerts", b"[1, 2", 422, "body"),
    ("post", "/ticks", b'{"symbol": "SPY"}', 422, "body"),
    ("patch", "/alerts/not-an-id", b"{}", 404, None),
    ("get", "/alerts/0190a1f4-0000-7000-8000-000000000000", None, 404, None),
])
def test_bad_requests_get_typed_answers_naming_the_field(service: Any, method: Any, path: Any, body: Any, status: Any, field: Any) -> None:
    client = TestClient(service[0])
    answer = client.request(method.upper(), path, content=body)
    assert answer.status_code == status, answer.text
    if field:
        assert answer.json()["field"] == field
    assert client.get("/users/alice/alerts").json()["items"] == []  # nothing half-written


def test_ticks_over_http_are_answered_per_record(service: Any, db: Database) -> None:
    client = TestClient(service[0])
    answer = client.post("/ticks", content=json.dumps([{"symbol": "SPY", "price": "500.5", "timestamp": NOW},
                                                       {"symbol": "SPY", "price": "x", "timestamp": NOW + 1}]))
    body = answer.json()
    assert answer.status_code == 200 and body["accepted"] == 1
    assert body["rejected"] == [{"index": 1, "error": "ValidationError", "field": "price", "value": "x",
                                 "reason": "not a number", "message": "price='x': not a number"}]
    assert client.get("/ticks/spy/latest").json()["price"] == "500.5"
    assert client.get("/ticks/NONE/latest").status_code == 404


@pytest.fixture
def live(service: Any) -> Iterator[Any]:
    app, ingestor, broadcaster = service
    with uvicorn_serving(app) as address:
        yield address, ingestor, broadcaster


def test_a_fired_alert_reaches_the_users_websocket_and_is_recorded(live: Any, db: Database) -> None:
    address, ingestor, broadcaster = live
    http = httpx.Client(base_url=f"http://{address}")
    alert = http.post("/users/alice/alerts", json={"symbol": "SPY", "condition": {"operator": "crosses_above",
                                                                                 "threshold": "500"}}).json()
    http.post("/users/bob/alerts", json={"symbol": "SPY", "condition": {"operator": ">", "threshold": "100"}})
    with connect(f"ws://{address}/ws/alice") as alice, connect(f"ws://{address}/ws/carol") as carol:
        while broadcaster.connections("alice") < 1 or broadcaster.connections("carol") < 1:
            time.sleep(0.01)
        posted = http.post("/ticks", json=[{"symbol": "SPY", "price": "499.99", "timestamp": NOW},
                                           {"symbol": "SPY", "price": "500.01", "timestamp": NOW + 1}]).json()
        assert posted["accepted"] == 2 and posted["fired"] == 2  # alice's crossing, and bob's level at first sight
        message = json.loads(alice.recv(timeout=10))
        with pytest.raises(TimeoutError):
            carol.recv(timeout=0.3)  # another user's alert never reaches carol
    assert (message["type"], message["alert_id"], message["price"]) == ("price_alert", alert["alert_id"], "500.01")
    ingestor.settle()
    [sent] = db.notifications.find_by_user("alice")
    assert (sent.delivery_status, sent.message_id, sent.current_price) == ("sent", message["message_id"], Decimal("500.01"))
    [unseen] = db.notifications.find_by_user("bob")  # bob has no connection open
    assert unseen.delivery_status == "failed"


def test_alerts_changed_over_http_reach_a_running_engine_at_once(service: Any) -> None:
    app, ingestor, _ = service
    client = TestClient(app)
    client.post("/ticks", json=[{"symbol": "SPY", "price": "400", "timestamp": NOW}])  # SPY's alerts now loaded
    made = client.post("/users/alice/alerts", json={"symbol": "SPY", "condition": {"operator": ">", "threshold": "450"}})
    alert_id = made.json()["alert_id"]
    assert set(map(str, ingestor.engine.held("SPY"))) == {alert_id}  # not after the 30 s re-read: now
    client.patch(f"/alerts/{alert_id}", json={"condition": {"operator": ">", "threshold": "300"}})
    assert ingestor.settle().fired == 1  # the changed alert already holds at 400: it fires on the change
    client.delete(f"/alerts/{alert_id}")
    assert ingestor.engine.held("SPY") == {}


def test_a_body_field_that_names_a_path_parameter_is_a_422_naming_it(service: Any) -> None:
    app, _, _ = service
    client = TestClient(app)
    created = client.post("/users/alice/alerts", content=b'{"symbol": "SPY", "condition": {"operator": ">", '
                                                          b'"threshold": 1}, "user_id": "mallory"}')
    assert created.status_code == 422 and created.json()["field"] == "user_id", created.text
    alert = client.post("/users/alice/alerts", content=b'{"symbol": "SPY", "condition": {"operator": ">", '
                                                        b'"threshold": 1}}').json()
    changed = client.patch(f"/alerts/{alert['alert_id']}", content=b'{"alert_id": "x", "enabled": false}')
    assert changed.status_code == 422 and changed.json()["field"] == "alert_id", changed.text
    assert client.get("/users/a%00b/alerts").status_code == 422


def test_a_body_nested_past_the_parser_is_a_422(service: Any) -> None:
    app, _, _ = service
    response = TestClient(app).post("/ticks", content=b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code == 422 and response.json()["field"] == "body"
