"""Who is calling: Clerk session tokens (any issuer's RS256/ES256 JWTs) verified against its JWKS.

Clerk handles sign-in for Alex; its token's `sub` is the Clerk user id the store is keyed by. Market data
(`POST /ticks`) comes from a feed, not a user, and presents a shared ingest token instead.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

import jwt

from alexdb.domain.errors import AuthenticationError, PermissionDeniedError

ALGORITHMS = ["RS256", "ES256"]


@dataclass(frozen=True)
class AuthConfig:
    """Where the signing keys are and what a token must say."""

    jwks_url: str
    issuer: str | None = None
    audience: str | None = None
    ingest_token: str | None = None
    services: tuple[ServiceToken, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AuthConfig | None:
        """ALEXDB_AUTH_JWKS_URL (e.g. https://<clerk frontend api>/.well-known/jwks.json), ALEXDB_AUTH_ISSUER,
        ALEXDB_AUTH_AUDIENCE, ALEXDB_INGEST_TOKEN, ALEXDB_SERVICE_TOKENS; None when no JWKS URL is set (no
        authentication)."""
        if not env.get("ALEXDB_AUTH_JWKS_URL"):
            return None
        return cls(env["ALEXDB_AUTH_JWKS_URL"], env.get("ALEXDB_AUTH_ISSUER") or None,
                   env.get("ALEXDB_AUTH_AUDIENCE") or None, env.get("ALEXDB_INGEST_TOKEN") or None,
                   ServiceToken.parse_all(env.get("ALEXDB_SERVICE_TOKENS", "")))


@dataclass(frozen=True)
class ServiceToken:
    """A token an agent or a feed presents instead of a user's: it acts for any user, on named operations."""

    name: str
    token: str
    operations: frozenset[str]
    """operationIds of the routes it may call; "*" for every route."""

    @classmethod
    def parse_all(cls, text: str) -> tuple[ServiceToken, ...]:
        """`name=token:operation,operation;name=token:*` (ALEXDB_SERVICE_TOKENS) as tokens."""
        found = []
        for entry in filter(None, (part.strip() for part in text.split(";"))):
            name, _, rest = entry.partition("=")
            token, _, operations = rest.partition(":")
            if not name or not token or not operations:
                raise ValueError(f"ALEXDB_SERVICE_TOKENS entry {name or entry!r}: expected name=token:operations")
            found.append(cls(name.strip(), token.strip(), frozenset(op.strip() for op in operations.split(","))))
        return tuple(found)

    def matches(self, token: str) -> bool:
        """True when token is this service's (compared in constant time)."""
        return hmac.compare_digest(token.encode(), self.token.encode())


class Authenticator:
    """Verifies bearer tokens; the signing keys are fetched from the JWKS URL and cached."""

    def __init__(self, config: AuthConfig) -> None:
        self.config = config
        self._keys = jwt.PyJWKClient(config.jwks_url, cache_keys=True, lifespan=300, timeout=10)

    def user(self, token: str | None) -> str:
        """The Clerk user id a valid, unexpired token names; AuthenticationError otherwise."""
        if not token:
            raise AuthenticationError("a bearer token is required")
        try:
            key = self._keys.get_signing_key_from_jwt(token)
            claims = jwt.decode(token, key.key, algorithms=ALGORITHMS, issuer=self.config.issuer,
                                audience=self.config.audience, options={"require": ["exp", "sub"],
                                                                        "verify_aud": self.config.audience is not None})
        except jwt.PyJWKClientError as exc:
            raise AuthenticationError(f"the token's signing key could not be found: {exc}") from exc
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError(f"the token does not verify: {exc}") from exc
        return str(claims["sub"])

    def service(self, token: str | None, operation: str) -> str | None:
        """The service a token belongs to, if it may call operation; None when it is no service's token;
        PermissionDeniedError when the service was not granted operation."""
        if not token:
            return None
        service = next((s for s in self.config.services if s.matches(token)), None)
        if service is None:
            return None
        if "*" not in service.operations and operation not in service.operations:
            raise PermissionDeniedError(f"service {service.name} may not call {operation}")
        return service.name

    def ingest(self, token: str | None) -> None:
        """A feed's shared token; PermissionDeniedError unless it matches the configured one."""
        expected = self.config.ingest_token
        # compare_digest: the time taken must not tell how much of a guessed token was right.
        if expected is None or token is None or not hmac.compare_digest(token.encode(), expected.encode()):
            raise PermissionDeniedError("posting ticks needs the ingest token")


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def owns(caller: str | None, user_id: str) -> None:
    """Refuse a signed-in caller another user's data (None: authentication is off)."""
    if caller is not None and caller != user_id:
        raise PermissionDeniedError(f"user {caller} may not reach the data of user {user_id}")
