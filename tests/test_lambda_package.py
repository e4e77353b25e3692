"""The Lambda package as deployed: scripts/build-lambda's zip, unpacked, runs the Kinesis handler alone."""

from __future__ import annotations

import base64
import importlib
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import present
from tests.test_terraform import _resources

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_built_package_handles_a_kinesis_event_on_its_own(tmp_path: Path) -> None:
    built = subprocess.run([str(ROOT / "scripts" / "build-lambda"), str(tmp_path / "lambda.zip")],
                           capture_output=True, text=True, timeout=900, env={**os.environ, "PYTHON": sys.executable})
    assert built.returncode == 0, built.stderr
    with zipfile.ZipFile(tmp_path / "lambda.zip") as archive:
        archive.extractall(tmp_path / "task")  # what Lambda puts in /var/task
    now = time.time_ns() // 1_000_000
    event = {"Records": [{"kinesis": {"sequenceNumber": str(n), "data": base64.b64encode(payload).decode()}}
                         for n, payload in enumerate([json.dumps({"symbol": "SPY", "price": "501.5", "timestamp": now}).encode(),
                                                      b"garbage"])]}
    script = ("import json, sys; sys.path.insert(0, sys.argv[1]); import alexdb.speed.kinesis as k; "
              "assert k.__file__.startswith(sys.argv[1]), k.__file__; "
              "print(json.dumps(k.handler(json.loads(sys.argv[2]), None)))")
    # A bare interpreter (-I: no environment, no user or venv packages beyond the standard library's own
    # site), so only the package's contents can satisfy the imports.
    python = shutil.which("python3.11") or sys.executable
    ran = subprocess.run([python, "-I", "-S", "-c", script, str(tmp_path / "task"), json.dumps(event)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path,
                         env={"ALEXDB_URL": f"sqlite:///{tmp_path / 'ticks.db'}", "PATH": os.environ["PATH"]})
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"batchItemFailures": [{"itemIdentifier": "1"}]}
    import alexdb

    with alexdb.connect(f"sqlite:///{tmp_path / 'ticks.db'}") as db:
        assert present(db.ticks.latest("SPY")).price == Decimal("501.5")


def test_the_module_wires_the_handler_the_package_has() -> None:
    resources = _resources()
    function, mapping = resources["aws_lambda_function.ingest"], resources["aws_lambda_event_source_mapping.ticks"]
    module, _, name = function["handler"].rpartition(".")
    assert callable(getattr(importlib.import_module(module), name))
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert mapping["destination_config"][0]["on_failure"][0]["destination_arn"]
