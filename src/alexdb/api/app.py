"""The FastAPI application: a thin layer over the library, like the CLI.

Request bodies are parsed with Decimal for every JSON number with a fraction, so a price sent as 501.25
stays exact; the domain validates and names the field of any bad input. Store calls run on the thread
pool, never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, TypeVar

from fastapi import FastAPI, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from alexdb.api.auth import AuthConfig, Authenticator, bearer, owns
from alexdb.api.schemas import AlertChangesBody, ErrorBody, NewAlertBody, TickBody, request_body
from alexdb.database import Database
from alexdb.domain.alerts import Alert
from alexdb.domain.errors import (
    AlexdbError,
    AuthenticationError,
    BackendError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    SchemaError,
    ValidationError,
)
from alexdb.domain.paging import DEFAULT_LIMIT, Results
from alexdb.domain.payloads import read_json
from alexdb.speed.broadcast import WebSocketBroadcaster
from alexdb.speed.pipeline import Ingestor

T = TypeVar("T")
STATUS = [(ValidationError, 422), (NotFoundError, 404), (ConflictError, 409), (BackendError, 503), (SchemaError, 503),
          (AuthenticationError, 401), (PermissionDeniedError, 403)]


def _status(exc: AlexdbError) -> int:
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 400)


def _error(exc: AlexdbError) -> dict[str, Any]:
    body: dict[str, Any] = {"error": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, ValidationError):
        body |= {"field": exc.field, "value": exc.value if isinstance(exc.value, str | int | None) else repr(exc.value),
                 "reason": exc.reason}
    return body


async def _body(request: Request) -> Any:
    raw = await request.body()
    try:
        return read_json(raw or b"null")
    except ValueError as exc:
        raise ValidationError("body", raw[:200].decode("utf-8", "replace"), f"not JSON: {exc}") from exc


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationError("body", body, "expected a JSON object")
    return body


def _page(list_call: Callable[..., Results[Any]], *args: Any, limit: int | None, cursor: str | None) -> dict[str, Any]:
    """One page of a list (DEFAULT_LIMIT items unless limit says otherwise), read whole in the calling thread."""
    page = list_call(*args, limit=DEFAULT_LIMIT if limit is None else limit, cursor=cursor).page()
    return {"items": [item.model_dump(mode="json") for item in page.items], "next_cursor": page.next_cursor}


def create_app(db: Database, ingestor: Ingestor, broadcaster: WebSocketBroadcaster, lifespan: Any = None,
               auth: Authenticator | None = None) -> FastAPI:
    """The service over db; ticks posted go through ingestor, whose websocket notifier is broadcaster.

    With auth, every route but /health needs a bearer token: a user's token reaches only that user's
    alerts, notifications and WebSocket; POST /ticks needs the ingest token. Without it, nothing is checked.
    """
    errors = {code: {"model": ErrorBody, "description": "refused, with the reason"} for code in (404, 409, 422, 503)}
    app = FastAPI(title="alexdb", summary="Alex's speed layer: price alerts, ticks, notifications", lifespan=lifespan,
                  responses=errors)  # type: ignore[arg-type]
    components: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(components)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    async def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await run_in_threadpool(function, *args, **kwargs)

    async def caller(request: Request) -> str | None:
        """The signed-in user (None when authentication is off); key fetches run off the loop."""
        return None if auth is None else await call(auth.user, bearer(request.headers.get("authorization")))

    async def owned_alert(request: Request, alert_id: str) -> Alert:
        user = await caller(request)
        alert = await call(db.alerts.get_alert, alert_id)
        if user is not None and alert.user_id != user:
            raise NotFoundError("alert", alert_id)  # another user's alert: not even its existence is told
        return alert

    @app.exception_handler(AlexdbError)
    async def alexdb_error(request: Request, exc: AlexdbError) -> JSONResponse:
        return JSONResponse(_error(exc), status_code=_status(exc))

    @app.exception_handler(RequestValidationError)
    async def parameter_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        """A path or query parameter FastAPI could not read: the same error body as every other refusal."""
        first = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(part) for part in first.get("loc", ())[1:]) or "request"
        refusal = ValidationError(field, first.get("input") if isinstance(first.get("input"), str | int) else None,
                                  str(first.get("msg", "invalid")))
        return JSONResponse(_error(refusal), status_code=422)

    @app.get("/health")
    async def health() -> dict[str, str]:
        """The service is up."""
        return {"status": "ok"}

    @app.post("/users/{user_id}/alerts", status_code=201, openapi_extra=request_body(NewAlertBody, components))
    async def create_alert(user_id: str, request: Request) -> dict[str, Any]:
        """Create an alert: {"symbol", "condition", "notification_method"?, "enabled"?, "cooldown_seconds"?}."""
        owns(await caller(request), user_id)
        fields = _object(await _body(request))
        symbol, condition = fields.pop("symbol", None), fields.pop("condition", None)
        alert = await call(db.alerts.create_alert, user_id, symbol, condition, **fields)
        await call(ingestor.track, alert)
        return alert.model_dump(mode="json")

    @app.get("/users/{user_id}/alerts")
    async def user_alerts(request: Request, user_id: str, limit: int | None = None,
                          cursor: str | None = None) -> dict[str, Any]:
        """A user's alerts, newest first."""
        owns(await caller(request), user_id)
        return await call(_page, db.alerts.find_by_user, user_id, limit=limit, cursor=cursor)

    @app.get("/alerts/{alert_id}")
    async def get_alert(request: Request, alert_id: str) -> dict[str, Any]:
        """One alert."""
        return (await owned_alert(request, alert_id)).model_dump(mode="json")

    @app.patch("/alerts/{alert_id}", openapi_extra=request_body(AlertChangesBody, components))
    async def update_alert(alert_id: str, request: Request) -> dict[str, Any]:
        """Change an alert's condition, method, cooldown or enabled flag."""
        await owned_alert(request, alert_id)
        alert = await call(db.alerts.update_alert, alert_id, **_object(await _body(request)))
        await call(ingestor.track, alert)
        return alert.model_dump(mode="json")

    @app.delete("/alerts/{alert_id}", status_code=204)
    async def delete_alert(request: Request, alert_id: str) -> Response:
        """Delete an alert."""
        await owned_alert(request, alert_id)
        await call(db.alerts.delete_alert, alert_id)
        await call(ingestor.forget, uuid.UUID(alert_id))
        return Response(status_code=204)

    @app.get("/users/{user_id}/notifications")
    async def notifications(request: Request, user_id: str, limit: int | None = None,
                            cursor: str | None = None) -> dict[str, Any]:
        """A user's notification history, newest first."""
        owns(await caller(request), user_id)
        return await call(_page, db.notifications.find_by_user, user_id, limit=limit, cursor=cursor)

    @app.post("/ticks", openapi_extra=request_body(list[TickBody], components))
    async def post_ticks(request: Request) -> dict[str, Any]:
        """Ingest a JSON array of ticks; each bad one is answered with its index and reason."""
        if auth is not None:
            auth.ingest(bearer(request.headers.get("authorization")))
        body = await _body(request)
        if not isinstance(body, list):
            raise ValidationError("body", body, "expected a JSON array of ticks")
        result = await call(ingestor.ingest, body)
        return {"accepted": result.accepted, "fired": len(result.triggers),
                "rejected": [{"index": r.index, **_error(r.error)} for r in result.rejections]}

    @app.get("/ticks/{symbol}/latest")
    async def latest_tick(request: Request, symbol: str) -> Any:
        """The newest live tick of a symbol (market data: any signed-in user)."""
        await caller(request)
        tick = await call(db.ticks.latest, symbol)
        if tick is None:
            raise NotFoundError("tick", symbol)
        return tick.model_dump(mode="json")

    @app.websocket("/ws/{user_id}")
    async def live_notifications(socket: WebSocket, user_id: str) -> None:
        """The user's price alerts as they fire, one JSON message each. Browsers cannot set headers on a
        WebSocket, so the token may also come as ?token=."""
        if auth is not None:
            token = bearer(socket.headers.get("authorization")) or socket.query_params.get("token")
            try:
                owns(await call(auth.user, token), user_id)
            except AlexdbError as exc:
                await socket.close(code=1008, reason=str(exc)[:120])  # 1008: policy violation
                return
        await socket.accept()
        subscription = broadcaster.subscribe(user_id, asyncio.get_running_loop())

        async def pump() -> None:
            while True:
                await socket.send_json(await subscription.queue.get())

        sender = asyncio.create_task(pump())
        try:
            while (await socket.receive())["type"] != "websocket.disconnect":
                pass  # nothing is expected from the client; reading notices when it goes
        finally:
            sender.cancel()
            broadcaster.unsubscribe(subscription)

    return app


def service(url: str | None = None, env: Mapping[str, str] | None = None) -> FastAPI:
    """The service as deployed: connect(url), notifiers from the environment, WebSocket included."""
    from alexdb import bootstrap

    db = bootstrap.connect(url)
    broadcaster = WebSocketBroadcaster()
    ingestor = bootstrap.ingestor(db, os.environ if env is None else env, websocket=broadcaster)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ingestor.retry_in_background()  # deliveries a crash or a failing channel left due go out again
        yield
        ingestor.close()  # every delivery under way is made and recorded before the process goes
        db.close()

    config = AuthConfig.from_env(os.environ if env is None else env)
    if config is None:
        logging.getLogger("alexdb.api").warning(
            "ALEXDB_AUTH_JWKS_URL is not set: the service checks no credentials; keep it off public networks")
    return create_app(db, ingestor, broadcaster, lifespan, None if config is None else Authenticator(config))
