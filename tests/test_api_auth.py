"""The HTTP service with authentication on: Clerk-style RS256 tokens checked against a local JWKS server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

import alexdb
from alexdb.api.app import create_app
from alexdb.api.auth import AuthConfig, Authenticator
from alexdb.speed.broadcast import WebSocketBroadcaster
from alexdb.speed.pipeline import Ingestor

ISSUER = "https://clerk.alex.test"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
STRANGER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[Any]:
    jwk = {**jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True), "kid": "k1", "use": "sig"}

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"keys": [jwk]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()


def token(sub: str, key: Any = KEY, issuer: str = ISSUER, expires_in: int = 300) -> str:
    claims = {"sub": sub, "iss": issuer, "exp": int(time.time()) + expires_in, "iat": int(time.time())}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


def auth(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture
def client(jwks_url: str) -> Iterator[Any]:
    db = alexdb.connect("sqlite://")
    broadcaster = WebSocketBroadcaster()
    ingestor = Ingestor(db, {"websocket": broadcaster})
    authenticator = Authenticator(AuthConfig(jwks_url, issuer=ISSUER, ingest_token="feed-secret"))
    yield TestClient(create_app(db, ingestor, broadcaster, auth=authenticator))
    ingestor.close()


ALERT = {"symbol": "SPY", "condition": {"operator": ">", "threshold": "500"}}


@pytest.mark.parametrize(("headers", "status"), [
    ({}, 401),
    (auth("not-a-jwt"), 401),
    (auth(token("alice", key=STRANGER)), 401),  # signed by a key the issuer does not publish
    (auth(token("alice", issuer="https://evil.test")), 401),
    (auth(token("alice", expires_in=-60)), 401),
    (auth(token("bob")), 404),  # a valid token, for another user: reads as absent
    (auth(token("alice")), 201),
])
def test_a_user_reaches_only_their_own_alerts(client: Any, headers: Any, status: Any) -> None:
    answer = client.post("/users/alice/alerts", json=ALERT, headers=headers)
    assert answer.status_code == status, answer.text
    assert client.get("/users/alice/alerts", headers=auth(token("alice"))).json()["items"] == (
        [answer.json()] if status == 201 else [])


def test_another_users_alert_is_not_found_and_cannot_be_changed(client: Any) -> None:
    made = client.post("/users/alice/alerts", json=ALERT, headers=auth(token("alice"))).json()
    for method in ("GET", "PATCH", "DELETE"):
        answer = client.request(method, f"/alerts/{made['alert_id']}", json={"enabled": False},
                                headers=auth(token("bob")))
        assert answer.status_code == 404, (method, answer.text)
    assert client.get(f"/alerts/{made['alert_id']}", headers=auth(token("alice"))).json()["enabled"] is True
    assert client.get("/users/alice/notifications", headers=auth(token("bob"))).status_code == 404
    assert client.get("/health").status_code == 200  # the one open route


def test_ticks_need_the_ingest_token(client: Any) -> None:
    ticks = [{"symbol": "SPY", "price": "501", "timestamp": time.time_ns() // 1_000_000}]
    assert client.post("/ticks", json=ticks).status_code == 403
    assert client.post("/ticks", json=ticks, headers=auth(token("alice"))).status_code == 403
    assert client.post("/ticks", json=ticks, headers=auth("feed-secret")).json()["accepted"] == 1
    assert client.get("/ticks/SPY/latest").status_code == 401
    assert client.get("/ticks/SPY/latest", headers=auth(token("alice"))).json()["price"] == "501"


def test_the_websocket_takes_the_token_from_the_query_and_refuses_others(client: Any) -> None:
    with client.websocket_connect(f"/ws/alice?token={token('alice')}") as socket:
        client.post("/users/alice/alerts", json=ALERT, headers=auth(token("alice")))
        client.post("/ticks", json=[{"symbol": "SPY", "price": "501", "timestamp": time.time_ns() // 1_000_000}],
                    headers=auth("feed-secret"))
        assert socket.receive_json()["price"] == "501"
    for url in ("/ws/alice", f"/ws/alice?token={token('bob')}"):
        with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(url) as socket:
            socket.receive_json()
        assert refused.value.code == 1008


def test_the_deployed_service_reads_its_authentication_from_the_environment(jwks_url: str, caplog: pytest.LogCaptureFixture) -> None:
    from alexdb.api.app import service

    with TestClient(service("sqlite://", env={"ALEXDB_AUTH_JWKS_URL": jwks_url, "ALEXDB_AUTH_ISSUER": ISSUER})) as guarded:
        assert guarded.get("/users/alice/alerts").status_code == 401
        assert guarded.get("/users/alice/alerts", headers=auth(token("alice"))).status_code == 200
    with TestClient(service("sqlite://", env={})) as open_service:
        assert open_service.get("/users/alice/alerts").status_code == 200
    assert "checks no credentials" in caplog.text
