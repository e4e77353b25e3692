"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright, against a live uvicorn
serving the test portfolio with authentication on. Screenshots of the main views go to tests/artifacts/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

import alexdb
from alexdb.api.app import create_app
from alexdb.api.auth import AuthConfig, Authenticator
from alexdb.services import seeding
from alexdb.speed.broadcast import WebSocketBroadcaster
from alexdb.speed.pipeline import Ingestor
from tests.conftest import unavailable
from tests.dynamodb_local import free_port, uvicorn_serving
from tests.test_api_auth import ISSUER, auth, jwks_url, token  # noqa: F401 - jwks_url is a fixture

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
USER = seeding.TEST_USER
INGEST = "feed-secret"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium from Debian's packages."""
    executable = shutil.which("chromium")
    if executable is None:
        unavailable("chromium", "Debian's chromium is not installed (scripts/ensure-chromium installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def site(jwks_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # noqa: F811
    """The service on a SQLite file with the test portfolio, authentication on, on a free port."""
    db = alexdb.connect(f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'alex.db'}")
    seeding.seed_instruments(db)
    seeding.load_test_data(db)
    db.users.create_user("bob", "Bob")
    broadcaster = WebSocketBroadcaster()
    ingestor = Ingestor(db, {"websocket": broadcaster})
    authenticator = Authenticator(AuthConfig(jwks_url, issuer=ISSUER, ingest_token=INGEST))
    with uvicorn_serving(create_app(db, ingestor, broadcaster, auth=authenticator)) as address:
        yield f"http://{address}"
    ingestor.close()
    db.close()


def money(text: str) -> str:
    """The API's exact text as the dashboard shows it."""
    value = Decimal(text).quantize(Decimal("0.01"))
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def open_page(browser: Any, url: str) -> tuple[Any, list[str]]:
    """A page at url and the console errors it logs."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    return page, errors


def api(site: str, path: str, user: str = USER) -> Any:
    """A /v1 answer as user."""
    answer = httpx.get(f"{site}/v1{path}", headers=auth(token(user)), timeout=30)
    answer.raise_for_status()
    return answer.json()


def test_the_page_shows_the_apis_numbers_with_no_console_error(browser: Any, site: str) -> None:
    page, errors = open_page(browser, f"{site}/?user={USER}&token={token(USER)}")
    page.wait_for_selector("body[data-loaded=yes]", timeout=30_000)
    account = api(site, f"/users/{USER}/accounts")["items"][0]
    value = api(site, f"/accounts/{account['id']}/value")
    assert page.text_content("#total") == money(value["total"])
    assert page.text_content("#cash") == money(value["cash"])
    symbols = [row.split("\t")[0] for row in page.locator("#holdings tbody tr").all_inner_texts()]
    assert symbols == [h["symbol"] for h in value["holdings"]] + [h["symbol"] for h in value["unpriced"]]
    shown = page.locator("#holdings tbody tr").first.locator("td").nth(3).text_content()
    assert shown == money(value["holdings"][0]["value"])
    assert page.locator("#alloc-asset .bar").count() >= 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert errors == []
    page.close()


def test_the_value_chart_has_one_point_per_day_of_the_range(browser: Any, site: str) -> None:
    page, errors = open_page(browser, f"{site}/?user={USER}&token={token(USER)}")
    page.wait_for_selector("body[data-loaded=yes]", timeout=30_000)
    assert page.get_attribute("#chart", "data-points") == "366"  # 1Y: a point a day, both ends included
    page.click("#ranges button[data-range='1M']")
    page.wait_for_function("document.getElementById('chart').dataset.points === '31'", timeout=30_000)
    page.fill("#at", "2026-01-15T12:00:00")
    page.dispatch_event("#at", "change")
    page.wait_for_function("document.getElementById('status').textContent.includes('2026-01-15 12:00')",
                           timeout=30_000)
    account = api(site, f"/users/{USER}/accounts")["items"][0]
    then = api(site, f"/accounts/{account['id']}/value?at=2026-01-15T12:00:00Z")
    page.wait_for_function(f"document.getElementById('total').textContent === '{money(then['total'])}'",
                           timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "dashboard-as-of.png"), full_page=True)
    assert errors == []
    page.close()


def test_a_tick_that_fires_an_alert_appears_without_a_reload(browser: Any, site: str) -> None:
    alert = httpx.post(f"{site}/v1/users/{USER}/alerts", headers=auth(token(USER)),
                       json={"symbol": "SPY", "condition": {"operator": ">", "threshold": "900"}}, timeout=30)
    assert alert.status_code == 201, alert.text
    page, errors = open_page(browser, f"{site}/?user={USER}&token={token(USER)}")
    page.wait_for_selector("body[data-live=yes]", timeout=30_000)
    page.wait_for_selector("#alerts tbody tr", timeout=30_000)
    assert page.locator("#alerts tbody tr").all_inner_texts() == ["SPY\tprice > 900\tarmed\t0"]
    now = time.time_ns() // 1_000_000
    posted = httpx.post(f"{site}/v1/ticks", headers=auth(INGEST), timeout=30,
                        json=[{"symbol": "SPY", "price": "899.50", "timestamp": now},
                              {"symbol": "SPY", "price": "901.25", "timestamp": now + 1}])
    assert posted.json()["fired"] == 1, posted.text
    page.wait_for_selector("#notifications li.new", timeout=30_000)
    assert "SPY at $901.25" in page.text_content("#notifications li.new")
    page.screenshot(path=str(ARTIFACTS / "dashboard-live-alert.png"), full_page=True)
    assert errors == []
    page.close()


def test_another_users_data_never_appears(browser: Any, site: str) -> None:
    page, _ = open_page(browser, f"{site}/?user={USER}&token={token('bob')}")  # bob asks for the test user
    page.wait_for_function("document.getElementById('status').textContent !== ''", timeout=30_000)
    assert page.text_content("#status") == f"No user {USER}"
    assert page.text_content("#total") == "\u2013" and page.locator("#holdings tbody tr").count() == 0
    assert page.locator("#account option").count() == 0
    page.close()
    own, errors = open_page(browser, f"{site}/?user=bob&token={token('bob')}")
    own.wait_for_function("document.getElementById('status').textContent === 'No accounts'", timeout=30_000)
    assert own.locator("#holdings tbody tr").count() == 0 and own.locator("#alerts tbody tr").count() == 0
    assert errors == []
    own.close()


def test_demo_serve_resets_and_serves_the_dashboard(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "alexdb", "demo", "--serve", "--port", str(port), "--url",
                               f"sqlite:///{tmp_path / 'demo.db'}"], env={**os.environ, "ALEXDB_AUTH_JWKS_URL": ""},
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and server.poll() is None, "alexdb demo --serve did not serve"
                time.sleep(0.2)
        assert page.status_code == 200 and "<title>alexdb dashboard</title>" in page.text
        accounts = httpx.get(f"http://127.0.0.1:{port}/v1/users/{USER}/accounts", timeout=10).json()
        assert len(accounts["items"]) == 3
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0].decode()
    assert f"http://127.0.0.1:{port}/?user={USER}" in output
