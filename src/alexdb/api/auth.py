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

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AuthConfig | None:
        """ALEXDB_AUTH_JWKS_URL (e.g. https://<clerk frontend api>/.well-known/jwks.json), ALEXDB_AUTH_ISSUER,
        ALEXDB_AUTH_AUDIENCE, ALEXDB_INGEST_TOKEN; None when no JWKS URL is set (no authentication)."""
        if not env.get("ALEXDB_AUTH_JWKS_URL"):
            return None
        return cls(env["ALEXDB_AUTH_JWKS_URL"], env.get("ALEXDB_AUTH_ISSUER") or None,
                   env.get("ALEXDB_AUTH_AUDIENCE") or None, env.get("ALEXDB_INGEST_TOKEN") or None)


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
