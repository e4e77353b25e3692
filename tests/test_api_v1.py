"""The whole store over HTTP (/v1), on every backend: each family of routes end to end, money exact."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import alexdb
from alexdb import Database
from alexdb.api.app import create_app
from alexdb.speed.broadcast import WebSocketBroadcaster
from alexdb.speed.pipeline import Ingestor

ALLOC = {"allocation_regions": {"north_america": 100}, "allocation_sectors": {"technology": 100},
         "allocation_asset_class": {"equity": 100}}


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    """The service over the parametrized backend, authentication off (the auth tests turn it on)."""
    broadcaster = WebSocketBroadcaster()
    ingestor = Ingestor(db, {"websocket": broadcaster})
    yield TestClient(create_app(db, ingestor, broadcaster))
    ingestor.close()


D = Decimal


def numbers(values: Any) -> Any:
    """Money and quantities as numbers: the JSON text is exact, its scale is the backend's (DynamoDB drops
    trailing zeros)."""
    if isinstance(values, dict):
        return {key: Decimal(value) for key, value in values.items()}
    return [Decimal(value) for value in values]


@pytest.fixture(scope="module")
def schema_client() -> Iterator[TestClient]:
    """The service on in-memory SQLite, for what does not depend on the backend (its pages and schema)."""
    database = alexdb.connect("sqlite://")
    broadcaster = WebSocketBroadcaster()
    ingestor = Ingestor(database, {"websocket": broadcaster})
    yield TestClient(create_app(database, ingestor, broadcaster))
    ingestor.close()
    database.close()


def ok(answer: Any, status: int = 200) -> Any:
    """The JSON of an answer that has status."""
    assert answer.status_code == status, answer.text
    return answer.json() if answer.content else None


@pytest.fixture
def holder(client: TestClient) -> dict[str, Any]:
    """alice with a 401k ($10,000 deposited on 2024-01-02) that bought 10 SPY at 400.25 on 2024-01-03."""
    ok(client.post("/v1/users", json={"clerk_user_id": "alice", "display_name": "Alice"}), 201)
    ok(client.post("/v1/instruments", json={"symbol": "SPY", "name": "SPDR", "instrument_type": "etf", **ALLOC}), 201)
    for day, price in (("2024-01-02", "400.00"), ("2024-01-03", "400.25"), ("2024-01-04", "410.50")):
        ok(client.post("/v1/instruments/SPY/prices", json={"price": price, "at": f"{day}T21:00:00Z"}), 201)
    account = ok(client.post("/v1/users/alice/accounts", json={"account_name": "401k"}), 201)
    ok(client.post(f"/v1/accounts/{account['id']}/cash",
                   json={"kind": "DEPOSIT", "amount": "10000", "at": "2024-01-02T12:00:00Z"}), 201)
    ok(client.post(f"/v1/accounts/{account['id']}/trades", json={
        "symbol": "SPY", "action": "BUY", "quantity": 10, "price": 400.25, "fee": "1.00",
        "at": "2024-01-03T21:00:00Z"}), 201)
    return {"account": account["id"]}


def test_users_and_accounts(client: TestClient, holder: dict[str, Any]) -> None:
    assert ok(client.get("/v1/users/alice"))["display_name"] == "Alice"
    changed_user = ok(client.patch("/v1/users/alice", content=b'{"target_retirement_income": 80000.10}'))
    assert Decimal(changed_user["target_retirement_income"]) == Decimal("80000.10")
    accounts = ok(client.get("/v1/users/alice/accounts", params={"limit": 10}))
    assert [a["id"] for a in accounts["items"]] == [holder["account"]] and accounts["next_cursor"] is None
    account = ok(client.get(f"/v1/accounts/{holder['account']}"))
    assert D(account["cash_balance"]) == D("5996.50")  # 10,000 - 10 x 400.25 - 1.00, sent as text
    changed = ok(client.patch(f"/v1/accounts/{holder['account']}", json={"account_name": "Main", "cash_balance": 6000}))
    assert (changed["account_name"], D(changed["cash_balance"])) == ("Main", D(6000))
    assert [u["clerk_user_id"] for u in ok(client.get("/v1/users"))["items"]] == ["alice"]


def test_positions_history_lots_and_gains(client: TestClient, holder: dict[str, Any]) -> None:
    account = holder["account"]
    positions = ok(client.get(f"/v1/accounts/{account}/positions"))
    assert [(p["symbol"], D(p["quantity"]), D(p["cost_basis"])) for p in positions] == [("SPY", D(10), D("4003.50"))]
    ok(client.post(f"/v1/accounts/{account}/trades", json={"symbol": "SPY", "action": "SELL", "quantity": "4",
                                                            "price": "410.50", "at": "2024-01-04T21:00:00Z"}), 201)
    assert numbers(ok(client.get(f"/v1/accounts/{account}/holdings", params={"at": "2024-01-03T22:00:00Z"}))) == {
        "SPY": 10}
    history = ok(client.get(f"/v1/accounts/{account}/history", params={"limit": 1}))
    assert [c["action"] for c in history["items"]] == ["BUY"] and history["next_cursor"]
    rest = ok(client.get(f"/v1/accounts/{account}/history", params={"cursor": history["next_cursor"]}))
    assert [c["action"] for c in rest["items"]] == ["SELL"]
    assert [D(lot["quantity"]) for lot in ok(client.get(f"/v1/accounts/{account}/lots"))] == [6]
    gains = ok(client.get(f"/v1/accounts/{account}/realized-gains"))
    assert [D(g["gain"]) for g in gains] == [D("1642.00") - D("1601.40")]
    ok(client.put(f"/v1/accounts/{account}/positions/SPY", json={"quantity": 7}))
    assert D(ok(client.get(f"/v1/accounts/{account}/positions"))[0]["quantity"]) == 7


def test_valuation_series_cash_and_returns(client: TestClient, holder: dict[str, Any]) -> None:
    account = holder["account"]
    value = ok(client.get(f"/v1/accounts/{account}/value", params={"at": "2024-01-04T22:00:00Z"}))
    assert numbers([value["cash"], value["holdings_value"], value["total"]]) == [D("5996.50"), D("4105.00"),
                                                                                  D("10101.50")]
    series = ok(client.get(f"/v1/accounts/{account}/series",
                           params={"start": "2024-01-02T22:00:00Z", "end": "2024-01-04T22:00:00Z", "step": "1d"}))
    assert numbers([p["total"] for p in series]) == [10000, 9999, D("10101.50")]
    assert numbers([p["contributions"] for p in series]) == [10000, 10000, 10000]
    assert D(ok(client.get("/v1/users/alice/value", params={"at": "2024-01-04T22:00:00Z"}))["total"]) == D("10101.5")
    movements = ok(client.get(f"/v1/accounts/{account}/cash"))
    assert [(m["kind"], D(m["amount"])) for m in movements["items"]] == [("DEPOSIT", D(10000))]
    assert numbers(ok(client.get(f"/v1/accounts/{account}/cash/balance", params={"at": "2024-01-02T23:00:00Z"}))) == {
        "balance": 10000}
    returns = ok(client.get(f"/v1/accounts/{account}/returns",
                            params={"start": "2024-01-02T22:00:00Z", "end": "2024-01-04T22:00:00Z"}))
    assert D(returns["absolute_gain"]) == D("101.50") and returns["twr"]["value"] is not None
    points = ok(client.get(f"/v1/accounts/{account}/returns/series",
                           params={"start": "2024-01-02T22:00:00Z", "end": "2024-01-04T22:00:00Z"}))
    assert len(points) == 3
    together = ok(client.get("/v1/users/alice/returns", params={"start": "2024-01-02T22:00:00Z",
                                                                 "end": "2024-01-04T22:00:00Z"}))
    assert D(together["absolute_gain"]) == D("101.5")


def test_instruments_prices_and_splits(client: TestClient, holder: dict[str, Any]) -> None:
    assert [i["symbol"] for i in ok(client.get("/v1/instruments", params={"q": "spd"}))["items"]] == ["SPY"]
    assert D(ok(client.get("/v1/instruments/spy"))["current_price"]) == D("410.50")
    prices = ok(client.get("/v1/instruments/SPY/prices", params={"start": "2024-01-03", "limit": 5}))
    assert numbers([p["price"] for p in prices["items"]]) == [D("410.5")]  # a date: the end of that UTC day
    ok(client.post("/v1/instruments/SPY/splits", json={"numerator": 2, "denominator": 1,
                                                       "at": "2024-01-05T00:00:00Z"}), 201)
    assert ok(client.get("/v1/instruments/SPY/splits"))[0]["numerator"] == 2
    assert D(ok(client.get(f"/v1/accounts/{holder['account']}/positions"))[0]["quantity"]) == 20
    assert ok(client.patch("/v1/instruments/SPY", json={"name": "SPDR S&P 500"}))["name"] == "SPDR S&P 500"


def test_jobs_through_their_lifecycle(client: TestClient, holder: dict[str, Any]) -> None:
    job = ok(client.post("/v1/users/alice/jobs", json={"job_type": "portfolio_analysis",
                                                        "request_payload": {"risk": 0.3}}), 201)
    assert job["request_payload"] == {"risk": "0.3"}  # exact: a JSON fraction is a Decimal, sent back as text
    claimed = ok(client.post("/v1/jobs/claim", json={}))
    assert claimed["id"] == job["id"] and claimed["status"] == "running"
    assert client.post("/v1/jobs/claim", json={}).status_code == 204
    ok(client.put(f"/v1/jobs/{job['id']}/report", json={"markdown": "# Report"}))
    done = ok(client.patch(f"/v1/jobs/{job['id']}/status", json={"status": "completed"}))
    assert done["status"] == "completed" and done["report_payload"] == {"markdown": "# Report"}
    listed = ok(client.get("/v1/users/alice/jobs", params={"status": "completed"}))
    assert [j["id"] for j in listed["items"]] == [job["id"]]
    assert client.put(f"/v1/jobs/{job['id']}/verdict", json={}).status_code == 422
    assert client.delete(f"/v1/jobs/{job['id']}").status_code == 204
    assert client.get(f"/v1/jobs/{job['id']}").status_code == 404


def test_chat_sessions_and_messages(client: TestClient, holder: dict[str, Any]) -> None:
    session = ok(client.post("/v1/users/alice/chat/sessions", json={"title": "Index funds"}), 201)
    base = f"/v1/users/alice/chat/sessions/{session['id']}"
    for role, content in (("user", "Why index funds?"), ("assistant", "Low cost."), ("user", "And bonds?")):
        ok(client.post(f"{base}/messages", json={"role": role, "content": content, "tokens": 3}), 201)
    assert ok(client.get(base))["message_count"] == 3
    last = ok(client.get(f"{base}/messages", params={"limit": 2}))
    assert [m["seq"] for m in last] == [2, 3]
    earlier = ok(client.get(f"{base}/messages", params={"limit": 2, "before": last[0]["seq"]}))
    assert [m["content"] for m in earlier] == ["Why index funds?"]
    assert [s["title"] for s in ok(client.get("/v1/users/alice/chat/sessions"))["items"]] == ["Index funds"]
    turn = [{"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "name": "quote", "args": {"s": "VTI"}}],
             "metadata": {"temperature": 0.7}},
            {"role": "tool", "content": "245.10", "tool_call_id": "c1", "name": "quote"}]
    added = ok(client.post(f"{base}/messages/batch", json={"messages": turn}), 201)
    assert [m["seq"] for m in added] == [4, 5]
    read = ok(client.get(f"{base}/messages", params={"limit": 2}))
    assert read[0]["tool_calls"] == [{"id": "c1", "name": "quote", "args": {"s": "VTI"}}]
    assert read[0]["metadata"] == {"temperature": 0.7} and read[1]["tool_call_id"] == "c1"
    refused = client.post(f"{base}/messages/batch", json={"messages": [turn[1], {"role": "user"}]})
    assert refused.status_code == 422 and "messages[1].content" in refused.text
    assert ok(client.get(base))["message_count"] == 5
    assert client.get(f"/v1/users/bob/chat/sessions/{session['id']}").status_code == 404
    assert client.delete(base).status_code == 204 and client.get(base).status_code == 404


def test_speed_routes_under_v1(client: TestClient, holder: dict[str, Any]) -> None:
    alert = ok(client.post("/v1/users/alice/alerts", json={"symbol": "SPY", "condition": {"operator": ">",
                                                                                           "threshold": "500"}}), 201)
    assert ok(client.get(f"/v1/alerts/{alert['alert_id']}"))["symbol"] == "SPY"
    assert [a["alert_id"] for a in ok(client.get("/v1/users/alice/alerts"))["items"]] == [alert["alert_id"]]
    assert ok(client.get("/v1/users/alice/notifications"))["items"] == []


@pytest.mark.parametrize(("method", "path", "json", "field"), [
    ("post", "/v1/users/alice/accounts", {"account_name": "x", "colour": "red"}, "colour"),
    ("post", "/v1/users/alice/jobs", {"job_type": "horoscope"}, "job_type"),
    ("get", "/v1/users/alice/accounts?limit=0", None, "limit"),
    ("get", "/v1/accounts/{account}/series?start=2024-01-02&end=2024-01-04&step=1y", None, "step"),
    ("post", "/v1/accounts/{account}/trades", {"symbol": "SPY", "action": "SELL", "quantity": "1e400"}, "quantity"),
])
def test_bad_requests_name_the_field(client: TestClient, holder: dict[str, Any], method: str, path: str,
                                     json: Any, field: str) -> None:
    answer = getattr(client, method)(path.format(account=holder["account"]), **({} if json is None else {"json": json}))
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field


def test_the_api_docs_render_from_local_assets(schema_client: TestClient) -> None:
    for page, script in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = schema_client.get(page).text
        assert f"/assets/docs/{script}" in html and "cdn" not in html.lower() and "googleapis" not in html
        assert schema_client.get(f"/assets/docs/{script}").status_code == 200


def test_the_readme_documents_every_route(schema_client: TestClient) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    schema = schema_client.get("/openapi.json").json()
    missing = [f"{method.upper()} {path}" for path, item in schema["paths"].items() for method, operation in
               item.items() if f"| {method.upper()} | `{path}` | `{operation['operationId']}` |" not in readme]
    assert missing == []


def test_every_documented_body_has_an_example(schema_client: TestClient) -> None:
    schema = schema_client.get("/openapi.json").json()
    bare = [operation["operationId"] for item in schema["paths"].values() for operation in item.values()
            if "requestBody" in operation and operation["operationId"] not in ("set_job_payload", "post_ticks")
            and "examples" not in operation["requestBody"]["content"]["application/json"]["schema"]
            and "$ref" not in operation["requestBody"]["content"]["application/json"]["schema"]]
    assert bare == []
