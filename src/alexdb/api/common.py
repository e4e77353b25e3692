"""What every route of the service shares: the caller, ownership, bodies, pages and error bodies.

Ownership reads as absence: a signed-in user asking for another user's account, job, session or alert
gets 404, exactly as for one that does not exist, so ids cannot be probed. A service token (an agent, the
ingest path) acts for any user, but only on the operations it was granted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from alexdb.api.auth import Authenticator, bearer
from alexdb.api.schemas import request_body
from alexdb.database import Database
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
from alexdb.domain.paging import DEFAULT_LIMIT, Page, Results
from alexdb.domain.payloads import read_json

T = TypeVar("T")
STATUS = [(ValidationError, 422), (NotFoundError, 404), (ConflictError, 409), (BackendError, 503), (SchemaError, 503),
          (AuthenticationError, 401), (PermissionDeniedError, 403)]


def status_of(exc: AlexdbError) -> int:
    """The HTTP status of a refusal."""
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 400)


def error_body(exc: AlexdbError) -> dict[str, Any]:
    """The one error body: kind and message; for bad input, field, value and reason."""
    body: dict[str, Any] = {"error": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, ValidationError):
        body |= {"field": exc.field, "value": exc.value if isinstance(exc.value, str | int | None) else repr(exc.value),
                 "reason": exc.reason}
    return body


async def json_body(request: Request) -> Any:
    """The request's JSON, every number with a fraction read as an exact Decimal."""
    raw = await request.body()
    try:
        return read_json(raw or b"null")
    except ValueError as exc:
        raise ValidationError("body", raw[:200].decode("utf-8", "replace"), f"not JSON: {exc}") from exc


async def json_object(request: Request) -> dict[str, Any]:
    """The request's JSON object (ValidationError for anything else)."""
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ValidationError("body", body, "expected a JSON object")
    return body


async def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A store call on the thread pool: nothing blocks the event loop."""
    return await run_in_threadpool(function, *args, **kwargs)


def one_page(list_call: Callable[..., Results[T]], *args: Any, limit: int | None, cursor: str | None,
             **kwargs: Any) -> Page[T]:
    """One explicit page of a list (DEFAULT_LIMIT items unless limit says otherwise)."""
    return list_call(*args, limit=DEFAULT_LIMIT if limit is None else limit, cursor=cursor, **kwargs).page()


@dataclass(frozen=True)
class Caller:
    """Who is calling: a user, a service with its granted operations, or anyone (authentication off)."""

    user: str | None = None
    service: str | None = None

    def reaches(self, owner: str) -> bool:
        """True when this caller may see the data of user owner."""
        return self.user is None or self.user == owner


@dataclass
class Api:
    """The service's store and how it knows its callers."""

    db: Database
    auth: Authenticator | None = None
    components: dict[str, Any] = field(default_factory=dict)
    """Schemas the request bodies refer to, added to the OpenAPI document."""

    def doc(self, model: Any) -> dict[str, Any]:
        """openapi_extra documenting a route's JSON body as model."""
        return request_body(model, self.components)

    async def caller(self, request: Request) -> Caller:
        """The caller of this request; a service token only on the operations it was granted."""
        if self.auth is None:
            return Caller()
        token = bearer(request.headers.get("authorization"))
        route = request.scope.get("route")
        operation = str(getattr(route, "operation_id", None) or getattr(route, "name", ""))
        service = self.auth.service(token, operation)
        if service is not None:
            return Caller(service=service)
        return Caller(user=await call(self.auth.user, token))

    async def for_user(self, request: Request, user_id: str) -> Caller:
        """The caller, if it may reach user_id's data; NotFoundError (404) if that is another user's."""
        caller = await self.caller(request)
        if not caller.reaches(user_id):
            raise NotFoundError("user", user_id)
        return caller

    async def owned(self, request: Request, entity: str, key: str, read: Callable[[str], T],
                    owner: Callable[[T], str]) -> T:
        """The record read(key), if the caller may reach its owner; NotFoundError as if absent otherwise."""
        caller = await self.caller(request)
        record = await call(read, key)
        if not caller.reaches(owner(record)):
            raise NotFoundError(entity, key)
        return record


def only(fields: dict[str, Any], *allowed: str) -> dict[str, Any]:
    """fields, if every name in it is allowed; ValidationError naming the first that is not."""
    for name, value in fields.items():
        if name not in allowed:
            raise ValidationError(name, value, f"not a field here (expected {', '.join(allowed) or 'none'})")
    return fields
