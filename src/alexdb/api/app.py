"""The FastAPI application: a thin layer over the library, like the CLI; its routes live in v1_*.py.

Request bodies are parsed with Decimal for every JSON number with a fraction, so a price sent as 501.25
stays exact; the domain validates and names the field of any bad input. Store calls run on the thread
pool, never on the event loop.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from alexdb.api.auth import AuthConfig, Authenticator
from alexdb.api.common import Api, error_body, status_of
from alexdb.api.docs import mount_dashboard, mount_docs
from alexdb.api.schemas import ErrorBody
from alexdb.api.v1_agents import agent_routes
from alexdb.api.v1_portfolio import portfolio_routes
from alexdb.api.v1_speed import speed_routes
from alexdb.database import Database
from alexdb.domain.errors import AlexdbError, ValidationError
from alexdb.speed.broadcast import WebSocketBroadcaster
from alexdb.speed.pipeline import Ingestor


def create_app(db: Database, ingestor: Ingestor, broadcaster: WebSocketBroadcaster, lifespan: Any = None,
               auth: Authenticator | None = None) -> FastAPI:
    """The service over db; ticks posted go through ingestor, whose websocket notifier is broadcaster.

    With auth, every route but /health needs a bearer token: a user's token reaches only that user's data
    (another user's reads as not found), a service token the operations it was granted, and POST /ticks the
    ingest token. Without it, nothing is checked.
    """
    errors = {code: {"model": ErrorBody, "description": "refused, with the reason"}
              for code in (401, 403, 404, 409, 422, 503)}
    app = FastAPI(title="alexdb", summary="Alex's data platform: portfolio, ledger, jobs, chat and price alerts",
                  lifespan=lifespan, responses=errors, docs_url=None, redoc_url=None)  # type: ignore[arg-type]
    api = Api(db, auth)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(api.components)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(AlexdbError)
    async def alexdb_error(request: Request, exc: AlexdbError) -> JSONResponse:
        return JSONResponse(error_body(exc), status_code=status_of(exc))

    @app.exception_handler(RequestValidationError)
    async def parameter_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        """A path or query parameter FastAPI could not read: the same error body as every other refusal."""
        first = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(part) for part in first.get("loc", ())[1:]) or "request"
        refusal = ValidationError(field, first.get("input") if isinstance(first.get("input"), str | int) else None,
                                  str(first.get("msg", "invalid")))
        return JSONResponse(error_body(refusal), status_code=422)

    @app.get("/health", operation_id="health")
    async def health() -> dict[str, str]:
        """The service is up."""
        return {"status": "ok"}

    app.include_router(portfolio_routes(api))
    app.include_router(agent_routes(api))
    app.include_router(speed_routes(api, ingestor, broadcaster, "/v1"))
    app.include_router(speed_routes(api, ingestor, broadcaster, ""), deprecated=True,
                       include_in_schema=False)
    mount_docs(app)
    mount_dashboard(app)
    return app


def service(url: str | None = None, env: Mapping[str, str] | None = None) -> FastAPI:
    """The service as deployed: connect(url), notifiers from the environment, WebSocket included."""
    from alexdb import bootstrap

    db = bootstrap.connect(url)
    broadcaster = WebSocketBroadcaster()
    ingestor = bootstrap.ingestor(db, os.environ if env is None else env, websocket=broadcaster)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Store calls are mostly Python work under the GIL: 40 threads (anyio's default) fighting for it halved
        # throughput under 16 clients in benchmarks.api; a few threads keep the CPU busy and wait less.
        anyio.to_thread.current_default_thread_limiter().total_tokens = int(os.environ.get("ALEXDB_THREADS", "4"))
        ingestor.retry_in_background()  # deliveries a crash or a failing channel left due go out again
        yield
        ingestor.close()  # every delivery under way is made and recorded before the process goes
        db.close()

    config = AuthConfig.from_env(os.environ if env is None else env)
    if config is None:
        logging.getLogger("alexdb.api").warning(
            "ALEXDB_AUTH_JWKS_URL is not set: the service checks no credentials; keep it off public networks")
    return create_app(db, ingestor, broadcaster, lifespan, None if config is None else Authenticator(config))
