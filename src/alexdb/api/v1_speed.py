"""The speed layer's routes: alerts, notifications, ticks and the live WebSocket (under /v1, and at their
first paths, which stay for existing clients)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response, WebSocket

from alexdb.api.auth import bearer, owns
from alexdb.api.common import Api, call, error_body, json_body, json_object, one_page
from alexdb.api.schemas import AlertChangesBody, NewAlertBody, TickBody
from alexdb.domain.alerts import Alert, Notification, Tick
from alexdb.domain.errors import AlexdbError, NotFoundError, ValidationError
from alexdb.domain.paging import Page
from alexdb.speed.broadcast import WebSocketBroadcaster
from alexdb.speed.pipeline import Ingestor


def speed_routes(api: Api, ingestor: Ingestor, broadcaster: WebSocketBroadcaster, prefix: str) -> APIRouter:
    """The speed layer's routes under prefix (operationIds only under /v1: the old paths are not documented)."""
    router = APIRouter(prefix=prefix)
    db = api.db

    def op(name: str) -> str:
        return name if prefix else f"unversioned_{name}"

    async def owned_alert(request: Request, alert_id: str) -> Alert:
        return await api.owned(request, "alert", alert_id, db.alerts.get_alert, lambda found: found.user_id)

    @router.post("/users/{user_id}/alerts", status_code=201, operation_id=op("create_alert"), tags=["alerts"],
                 openapi_extra=api.doc(NewAlertBody))
    async def create_alert(user_id: str, request: Request) -> Alert:
        """Create an alert: {"symbol", "condition", "notification_method"?, "enabled"?, "cooldown_seconds"?}."""
        await api.for_user(request, user_id)
        fields = await json_object(request)
        symbol, condition = fields.pop("symbol", None), fields.pop("condition", None)
        alert = await call(db.alerts.create_alert, user_id, symbol, condition, **fields)
        await call(ingestor.track, alert)
        return alert

    @router.get("/users/{user_id}/alerts", operation_id=op("list_alerts"), tags=["alerts"])
    async def user_alerts(request: Request, user_id: str, limit: int | None = None,
                          cursor: str | None = None) -> Page[Alert]:
        """A user's alerts, newest first."""
        await api.for_user(request, user_id)
        return await call(one_page, db.alerts.find_by_user, user_id, limit=limit, cursor=cursor)

    @router.get("/alerts/{alert_id}", operation_id=op("get_alert"), tags=["alerts"])
    async def get_alert(request: Request, alert_id: str) -> Alert:
        """One alert with its state."""
        return await owned_alert(request, alert_id)

    @router.patch("/alerts/{alert_id}", operation_id=op("update_alert"), tags=["alerts"],
                  openapi_extra=api.doc(AlertChangesBody))
    async def update_alert(alert_id: str, request: Request) -> Alert:
        """Change an alert's condition, method, cooldown or enabled flag."""
        await owned_alert(request, alert_id)
        alert = await call(db.alerts.update_alert, alert_id, **await json_object(request))
        await call(ingestor.track, alert)
        return alert

    @router.delete("/alerts/{alert_id}", status_code=204, operation_id=op("delete_alert"), tags=["alerts"])
    async def delete_alert(request: Request, alert_id: str) -> Response:
        """Delete an alert."""
        await owned_alert(request, alert_id)
        await call(db.alerts.delete_alert, alert_id)
        await call(ingestor.forget, uuid.UUID(alert_id))
        return Response(status_code=204)

    @router.get("/users/{user_id}/notifications", operation_id=op("list_notifications"), tags=["alerts"])
    async def notifications(request: Request, user_id: str, limit: int | None = None,
                            cursor: str | None = None) -> Page[Notification]:
        """A user's notification history, newest first."""
        await api.for_user(request, user_id)
        return await call(one_page, db.notifications.find_by_user, user_id, limit=limit, cursor=cursor)

    @router.post("/ticks", operation_id=op("post_ticks"), tags=["ticks"],
                 openapi_extra=api.doc(list[TickBody]))
    async def post_ticks(request: Request) -> dict[str, Any]:
        """Ingest a JSON array of ticks; each bad one is answered with its index and reason."""
        if api.auth is not None:
            api.auth.ingest(bearer(request.headers.get("authorization")))
        body = await json_body(request)
        if not isinstance(body, list):
            raise ValidationError("body", body, "expected a JSON array of ticks")
        result = await call(ingestor.ingest, body)
        return {"accepted": result.accepted, "fired": len(result.triggers),
                "rejected": [{"index": r.index, **error_body(r.error)} for r in result.rejections]}

    @router.get("/ticks/{symbol}/latest", operation_id=op("latest_tick"), tags=["ticks"])
    async def latest_tick(request: Request, symbol: str) -> Tick:
        """The newest live tick of a symbol (market data: any signed-in caller)."""
        await api.caller(request)
        tick = await call(db.ticks.latest, symbol)
        if tick is None:
            raise NotFoundError("tick", symbol)
        return tick

    @router.websocket("/ws/{user_id}")
    async def live_notifications(socket: WebSocket, user_id: str) -> None:
        """The user's price alerts as they fire, one JSON message each. Browsers cannot set headers on a
        WebSocket, so the token may also come as ?token=."""
        if api.auth is not None:
            token = bearer(socket.headers.get("authorization")) or socket.query_params.get("token")
            try:
                owns(await call(api.auth.user, token), user_id)
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

    return router
