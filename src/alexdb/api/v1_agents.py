"""/v1: the analysis jobs the agents work on, and the advisor's conversation memory."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from alexdb.api import schemas as body
from alexdb.api.common import Api, call, json_object, one_page, only
from alexdb.api.v1_portfolio import services_only
from alexdb.domain.chat import PART_FIELDS, ChatMessage, ChatSession
from alexdb.domain.errors import ValidationError
from alexdb.domain.models import Job
from alexdb.domain.paging import Page

PAYLOADS = {"report": "update_report", "charts": "update_charts", "retirement": "update_retirement",
            "summary": "update_summary"}


def agent_routes(api: Api) -> APIRouter:
    """Jobs and chat."""
    router = APIRouter(prefix="/v1")
    db = api.db

    doc = api.doc
    async def job(request: Request, job_id: str) -> Job:
        return await api.owned(request, "job", job_id, db.jobs.get_job, lambda found: found.clerk_user_id)

    @router.post("/users/{user_id}/jobs", status_code=201, operation_id="create_job",
                 openapi_extra=doc(body.NewJobBody), tags=["jobs"])
    async def create_job(request: Request, user_id: str) -> Job:
        """Queue a pending analysis job."""
        await api.for_user(request, user_id)
        fields = await json_object(request)
        job_type = fields.pop("job_type", None)
        return await call(db.jobs.create_job, user_id, job_type, **only(fields, "request_payload"))

    @router.get("/users/{user_id}/jobs", operation_id="list_jobs", tags=["jobs"])
    async def list_jobs(request: Request, user_id: str, status: str | None = None, limit: int | None = None,
                        cursor: str | None = None) -> Page[Job]:
        """A user's jobs, newest first (of one status)."""
        await api.for_user(request, user_id)
        return await call(one_page, db.jobs.find_by_user, user_id, status=status, limit=limit, cursor=cursor)

    @router.get("/jobs/{job_id}", operation_id="get_job", tags=["jobs"])
    async def get_job(request: Request, job_id: str) -> Job:
        """One job with every agent's payload."""
        return await job(request, job_id)

    @router.patch("/jobs/{job_id}/status", operation_id="update_job_status", openapi_extra=doc(body.JobStatusBody),
                  tags=["jobs"])
    async def update_job_status(request: Request, job_id: str) -> Job:
        """Move a job through its lifecycle (a failed or stalled one may start again)."""
        await job(request, job_id)
        fields = await json_object(request)
        status = fields.pop("status", None)
        return await call(db.jobs.update_status, job_id, status, **only(fields, "error_message"))

    @router.put("/jobs/{job_id}/{payload}", operation_id="set_job_payload", tags=["jobs"],
                openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"type": "object", "description": "the agent's result (any JSON object)"}}}}})
    async def set_job_payload(request: Request, job_id: str, payload: str) -> Job:
        """Store one agent's result: report, charts, retirement or summary."""
        if payload not in PAYLOADS:
            raise ValidationError("payload", payload, f"one of {', '.join(PAYLOADS)}")
        await job(request, job_id)
        return await call(getattr(db.jobs, PAYLOADS[payload]), job_id, await json_object(request))

    @router.delete("/jobs/{job_id}", status_code=204, operation_id="delete_job", tags=["jobs"])
    async def delete_job(request: Request, job_id: str) -> Response:
        """Delete a job."""
        await job(request, job_id)
        await call(db.jobs.delete_job, job_id)
        return Response(status_code=204)

    @router.post("/jobs/claim", operation_id="claim_job", openapi_extra=doc(body.ClaimBody), tags=["jobs"],
                 response_model=Job, responses={204: {"description": "no pending job"}})
    async def claim_job(request: Request) -> Any:
        """Move the oldest pending job (of a type) to running for a worker (services)."""
        services_only(await api.caller(request), "claiming work")
        fields = only(await json_object(request), "job_type")
        claimed = await call(db.jobs.claim_next, fields.get("job_type"))
        return Response(status_code=204) if claimed is None else claimed

    # Chat -----------------------------------------------------------------------------------------------
    @router.post("/users/{user_id}/chat/sessions", status_code=201, operation_id="create_chat_session",
                 openapi_extra=doc(body.NewSessionBody), tags=["chat"])
    async def create_session(request: Request, user_id: str) -> ChatSession:
        """Open a conversation."""
        await api.for_user(request, user_id)
        fields = only(await json_object(request), "title", "pedagogy_mode")
        return await call(db.chat.create_session, user_id, **fields)

    @router.get("/users/{user_id}/chat/sessions", operation_id="list_chat_sessions", tags=["chat"])
    async def list_sessions(request: Request, user_id: str, limit: int | None = None,
                            cursor: str | None = None) -> Page[ChatSession]:
        """The user's live conversations, most recent first."""
        await api.for_user(request, user_id)
        return await call(one_page, db.chat.list_sessions, user_id, limit=limit, cursor=cursor)

    @router.get("/users/{user_id}/chat/sessions/{session_id}", operation_id="get_chat_session", tags=["chat"])
    async def get_session(request: Request, user_id: str, session_id: str) -> ChatSession:
        """One conversation (another user's reads as not found)."""
        await api.for_user(request, user_id)
        return await call(db.chat.get_session, session_id, user_id=user_id)

    @router.delete("/users/{user_id}/chat/sessions/{session_id}", status_code=204,
                   operation_id="delete_chat_session", tags=["chat"])
    async def delete_session(request: Request, user_id: str, session_id: str) -> Response:
        """Delete a conversation with its messages."""
        await api.for_user(request, user_id)
        await call(db.chat.delete_session, session_id, user_id=user_id)
        return Response(status_code=204)

    @router.post("/users/{user_id}/chat/sessions/{session_id}/messages", status_code=201,
                 operation_id="add_chat_message", openapi_extra=doc(body.NewMessageBody), tags=["chat"])
    async def add_message(request: Request, user_id: str, session_id: str) -> ChatMessage:
        """Append a message; the session's counts change with it."""
        await api.for_user(request, user_id)
        fields = await json_object(request)
        role, content = fields.pop("role", None), fields.pop("content", None)
        return await call(db.chat.add_message, session_id, role, content, user_id=user_id,
                          **only(fields, "tokens", "context_ids", *PART_FIELDS))

    @router.post("/users/{user_id}/chat/sessions/{session_id}/messages/batch", status_code=201,
                 operation_id="add_chat_messages", openapi_extra=doc(body.NewMessagesBody), tags=["chat"])
    async def add_messages(request: Request, user_id: str, session_id: str) -> list[ChatMessage]:
        """Append several messages in order, all or none."""
        await api.for_user(request, user_id)
        fields = await json_object(request)
        return await call(db.chat.add_messages, session_id, fields.get("messages"), user_id=user_id)

    @router.get("/users/{user_id}/chat/sessions/{session_id}/messages", operation_id="chat_messages",
                tags=["chat"])
    async def messages(request: Request, user_id: str, session_id: str, limit: int | None = None,
                       before: int | None = None) -> list[ChatMessage]:
        """Messages oldest first: all, or the last limit before seq before (page backwards)."""
        await api.for_user(request, user_id)
        return await call(db.chat.get_history, session_id, user_id=user_id, limit=limit, before=before)

    return router

