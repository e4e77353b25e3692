"""The HTTP service under schemathesis: every operation of its OpenAPI schema, fuzzed against a live
`alexdb serve` on a SQLite file and on PostgreSQL. No 5xx, no response outside the schema."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import _params, prepare
from tests.dynamodb_local import free_port

EXAMPLES = 50  # per operation: bounded so the whole run stays well inside CI's time


@pytest.fixture(params=_params(["sqlite_file", "postgresql"]))
def api_schema(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A real `alexdb serve` process on the backend, and the OpenAPI schema it publishes."""
    url = prepare(request, request.param, tmp_path)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "alexdb", "serve", "--host", "127.0.0.1", "--port", str(port),
                               "--url", url], env={**os.environ, "ALEXDB_AUTH_JWKS_URL": ""},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "alexdb serve did not start"
            time.sleep(0.1)
        yield schemathesis.openapi.from_url(f"{base}/openapi.json")
    finally:
        server.terminate()
        server.wait(10)


def test_every_operation_answers_within_its_schema(api_schema: Any) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 56  # every route of the service, the WebSocket aside
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def answers_within_schema(case: Any) -> None:
            # Every check but "schema-valid data is accepted": the domain refuses more than JSON Schema can
            # say (a symbol's pattern, an alert that could never fire, at most 8 decimal places), and says why.
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        answers_within_schema()
