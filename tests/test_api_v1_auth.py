"""Authorisation on every /v1 route, route by route: a user reaches only their own data (another user's
reads as absent), reference data is written by services, and a service token only what it was granted."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

import alexdb
from alexdb.api.app import create_app
from alexdb.api.auth import AuthConfig, Authenticator, ServiceToken
from alexdb.speed.broadcast import WebSocketBroadcaster
from alexdb.speed.pipeline import Ingestor
from tests.test_api_auth import ISSUER, auth, jwks_url, token  # noqa: F401 - jwks_url is a fixture

PLANNER = ServiceToken("planner", "planner-secret", frozenset({"get_job", "update_job_status", "claim_job"}))

# What another signed-in user gets from each operation on bob's data: 404 (as if absent), 403 (reference
# data is written by services), or 200/201 where the route is shared market data. Every /v1 operation is
# listed: a new route fails this test until its rule is stated here.
STRANGER = {
    "create_user": 404, "list_users": 403, "get_user": 404, "update_user": 404, "delete_user": 404,
    "list_accounts": 404, "create_account": 404, "get_account": 404, "update_account": 404, "delete_account": 404,
    "list_positions": 404, "holdings_at": 404, "set_position": 404, "record_trade": 404, "position_history": 404,
    "list_lots": 404, "realized_gains": 404, "account_value": 404, "account_series": 404, "user_value": 404,
    "cash_movements": 404, "cash_history": 404, "record_cash": 404, "cash_balance": 404, "account_returns": 404, "returns_series": 404,
    "user_returns": 404, "list_instruments": 200, "create_instrument": 422, "get_instrument": 200,
    "update_instrument": 403, "price_history": 200, "record_price": 403, "list_splits": 200, "record_split": 403,
    "create_job": 404, "list_jobs": 404, "get_job": 404, "update_job_status": 404, "set_job_payload": 404,
    "delete_job": 404, "claim_job": 403, "create_chat_session": 404, "list_chat_sessions": 404,
    "get_chat_session": 404, "delete_chat_session": 404, "add_chat_message": 404, "add_chat_messages": 404, "chat_messages": 404,
    "create_alert": 404, "list_alerts": 404, "get_alert": 404, "update_alert": 404, "delete_alert": 404,
    "list_notifications": 404, "post_ticks": 403, "latest_tick": 200,
}


@pytest.fixture
def world(jwks_url: str) -> Iterator[dict[str, Any]]:  # noqa: F811 - the fixture imported above
    """bob's user, account, job, chat session and alert; a client with authentication on."""
    db = alexdb.connect("sqlite://")
    db.users.create_user("bob")
    db.instruments.create_instrument({"symbol": "SPY", "name": "SPDR", "instrument_type": "etf",
                                      "allocation_regions": {"north_america": 100},
                                      "allocation_sectors": {"technology": 100},
                                      "allocation_asset_class": {"equity": 100}})
    account = db.accounts.create_account("bob", "401k", cash_balance=100)
    db.positions.add_position(account.id, "SPY", 3)
    job = db.jobs.create_job("bob", "portfolio_analysis")
    session = db.chat.create_session("bob", "Bob's question")
    alert = db.alerts.create_alert("bob", "SPY", {"operator": ">", "threshold": "500"})
    broadcaster = WebSocketBroadcaster()
    ingestor = Ingestor(db, {"websocket": broadcaster})
    ingestor.ingest([{"symbol": "SPY", "price": "450", "timestamp": time.time_ns() // 1_000_000}])  # market data
    authenticator = Authenticator(AuthConfig(jwks_url, issuer=ISSUER, ingest_token="feed", services=(PLANNER,)))
    app = create_app(db, ingestor, broadcaster, auth=authenticator)
    values = {"user_id": "bob", "account_id": str(account.id), "job_id": str(job.id), "session_id": str(session.id),
              "alert_id": str(alert.alert_id), "symbol": "SPY", "payload": "report"}
    yield {"db": db, "client": TestClient(app), "values": values}
    ingestor.close()


def operations(world: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(method, path, operationId) of every documented /v1 route."""
    schema = world["client"].get("/openapi.json").json()
    return [(method.upper(), path, operation["operationId"]) for path, item in schema["paths"].items()
            if path.startswith("/v1") for method, operation in item.items()]


QUERIES = {"holdings_at": {"at": "2030-01-01"}, "account_series": {"start": "2030-01-01", "end": "2030-01-02"},
           "user_value": {"at": "2030-01-01"}, "account_returns": {"start": "2029-01-01", "end": "2030-01-01"},
           "returns_series": {"start": "2029-01-01", "end": "2029-01-02"},
           "user_returns": {"start": "2029-01-01", "end": "2030-01-01"}}
BODIES = {"create_user": {"clerk_user_id": "bob"}, "post_ticks": [], "set_job_payload": {},
          "update_job_status": {"status": "running"}}


def ask(world: dict[str, Any], route: tuple[str, str, str], headers: dict[str, str]) -> Any:
    """Call route on bob's data with headers."""
    method, path, operation = route
    return world["client"].request(method, path.format(**world["values"]), headers=headers,
                                   params=QUERIES.get(operation),
                                   json=None if method in ("GET", "DELETE") else BODIES.get(operation, {}))


def test_every_route_has_its_rule_stated(world: dict[str, Any]) -> None:
    assert sorted(operation for _, _, operation in operations(world)) == sorted(STRANGER)


def test_another_user_reaches_nothing_of_bobs(world: dict[str, Any]) -> None:
    before = world["db"].counts()
    for route in operations(world):
        answer = ask(world, route, auth(token("mallory")))
        assert answer.status_code == STRANGER[route[2]], (route, answer.text)
    assert world["db"].counts() == before  # nothing of bob's changed


def test_every_route_needs_a_token(world: dict[str, Any]) -> None:
    for route in operations(world):
        answer = ask(world, route, {})
        assert answer.status_code in (401, 403), (route, answer.text)


def test_bob_reaches_his_own_data(world: dict[str, Any]) -> None:
    for route in operations(world):
        if route[0] == "GET" and STRANGER[route[2]] == 404:
            answer = ask(world, route, auth(token("bob")))
            assert answer.status_code == 200, (route, answer.text)


def test_a_service_token_reaches_only_what_it_was_granted(world: dict[str, Any]) -> None:
    client, job_id = world["client"], world["values"]["job_id"]
    planner = auth("planner-secret")
    assert client.get(f"/v1/jobs/{job_id}", headers=planner).json()["clerk_user_id"] == "bob"  # any user's job
    assert client.patch(f"/v1/jobs/{job_id}/status", json={"status": "running"}, headers=planner).status_code == 200
    assert client.get("/v1/users/bob", headers=planner).status_code == 403  # not granted
    assert client.delete(f"/v1/jobs/{job_id}", headers=planner).status_code == 403
    assert client.get(f"/v1/jobs/{job_id}", headers=auth("wrong-secret")).status_code == 401


def test_service_tokens_are_read_from_the_environment() -> None:
    tokens = ServiceToken.parse_all("planner=s1:get_job,claim_job; feed = s2:*")
    assert [(t.name, t.token, sorted(t.operations)) for t in tokens] == [
        ("planner", "s1", ["claim_job", "get_job"]), ("feed", "s2", ["*"])]
    with pytest.raises(ValueError, match="expected name=token:operations"):
        ServiceToken.parse_all("planner=s1")
