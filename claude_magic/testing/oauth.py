"""The local server's OAuth token endpoint: `refresh_token` grants, the tokens it issued, scripted failures.

A `user_oauth` profile whose `base_url` is the local server refreshes here (`POST /v1/oauth/token`, the body
as the SDK sends it: JSON, or a form). Refresh tokens rotate on use, as Anthropic's do. Access tokens it
issued are accepted as `Authorization: Bearer` on the API routes (with the `oauth-2025-04-20` beta the API
requires), until they expire or are revoked.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from .rendering import dumps
from .transmit import Response

__all__ = ["IssuedTokens", "OAuthIssuer", "TOKEN_PATH", "OAUTH_BETA"]

TOKEN_PATH = "/v1/oauth/token"
OAUTH_BETA = "oauth-2025-04-20"


@dataclass(frozen=True)
class IssuedTokens:
    """What the token endpoint hands out (the shape of a profile's `credentials/NAME.json`)."""

    access_token: str
    refresh_token: str
    expires_at: int          # Unix seconds

    def credentials_file(self) -> dict[str, Any]:
        """The `credentials/NAME.json` content the SDK reads."""
        return {"version": "1.0", "type": "oauth_token", "access_token": self.access_token,
                "expires_at": self.expires_at, "refresh_token": self.refresh_token}


@dataclass(frozen=True)
class _Failure:
    status: int
    error: str
    description: str


class OAuthIssuer:
    """Token state of one `LocalServer`: `server.oauth`."""

    def __init__(self) -> None:
        self.expires_in = 3600                     # lifetime of tokens minted by a refresh
        self.refreshes = 0                         # refresh grants answered with new tokens
        self._access: dict[str, float] = {}        # access token -> expiry (Unix seconds)
        self._refresh: dict[str, str] = {}         # live refresh token -> client_id
        self._failures: list[_Failure] = []
        self._lock = threading.Lock()

    def issue(self, client_id: str, *, expires_in: int | None = None) -> IssuedTokens:
        """Mint a token pair as an interactive login would (negative `expires_in`: already expired)."""
        lifetime = self.expires_in if expires_in is None else expires_in
        access = f"sk-ant-oat01-local-{secrets.token_urlsafe(24)}"
        refresh = f"sk-ant-ort01-local-{secrets.token_urlsafe(24)}"
        expires_at = int(time.time()) + lifetime
        with self._lock:
            self._access[access] = expires_at
            self._refresh[refresh] = client_id
        return IssuedTokens(access, refresh, expires_at)

    def fail_next_refresh(self, status: int = 400, error: str = "invalid_grant",
                          description: str = "Refresh token has been revoked") -> None:
        """Answer the next refresh grant with this OAuth error (queue several for several grants)."""
        with self._lock:
            self._failures.append(_Failure(status, error, description))

    def revoke(self, access_token: str) -> None:
        """Reject this access token from now on (as a logout elsewhere would)."""
        with self._lock:
            self._access[access_token] = 0.0

    def recognizes(self, token: str) -> bool:
        """Whether this server issued `token` (valid or not)."""
        with self._lock:
            return token in self._access

    def bearer_problem(self, token: str, beta: str) -> str | None:
        """Why the API would refuse this issued access token, or None when it is good."""
        if OAUTH_BETA not in {flag.strip() for flag in beta.split(",")}:
            return "OAuth authentication is currently not supported."
        with self._lock:
            expires_at = self._access.get(token, 0.0)
        if expires_at <= 0:
            return "Invalid bearer token"
        if time.time() >= expires_at:
            return "OAuth token has expired. Please obtain a new token or refresh your existing token."
        return None

    def clear(self) -> None:
        """Forget every token and scripted failure."""
        with self._lock:
            self._access.clear()
            self._refresh.clear()
            self._failures.clear()
            self.refreshes = 0

    def token_endpoint(self, method: str, headers: dict[str, str], raw: bytes | None) -> Response:
        """Answer `POST /v1/oauth/token`."""
        if method != "POST":
            return _oauth_error(405, "invalid_request", "use POST")
        grant = _grant(headers.get("content-type", ""), raw)
        if grant is None:
            return _oauth_error(400, "invalid_request", "the body must be JSON or a form")
        if grant.get("grant_type") != "refresh_token":
            return _oauth_error(400, "unsupported_grant_type",
                                f"grant_type {grant.get('grant_type')!r} is not supported here")
        refresh, client_id = grant.get("refresh_token"), grant.get("client_id")
        if not isinstance(refresh, str) or not isinstance(client_id, str) or not client_id:
            return _oauth_error(400, "invalid_request", "refresh_token and client_id are required")
        with self._lock:
            if self._failures:
                failure = self._failures.pop(0)
                return _oauth_error(failure.status, failure.error, failure.description)
            owner = self._refresh.get(refresh)
            if owner is None:
                return _oauth_error(400, "invalid_grant", "Refresh token not found or invalid")
            if owner != client_id:
                return _oauth_error(400, "invalid_grant", "Refresh token was issued to another client")
            del self._refresh[refresh]              # rotation: a refresh token works once
            self.refreshes += 1
        tokens = self.issue(client_id)
        return Response(200, [dumps({"access_token": tokens.access_token, "token_type": "Bearer",
                                     "expires_in": self.expires_in, "refresh_token": tokens.refresh_token,
                                     "scope": "user:inference"}).encode()], headers=_headers())


def _grant(content_type: str, raw: bytes | None) -> dict[str, Any] | None:
    """The grant's parameters from a JSON or `application/x-www-form-urlencoded` body."""
    text = (raw or b"").decode("utf-8", "replace")
    if "application/x-www-form-urlencoded" in content_type:
        return {name: values[0] for name, values in parse_qs(text).items()}
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _oauth_error(status: int, error: str, description: str) -> Response:
    """An RFC 6749 error response."""
    return Response(status, [dumps({"error": error, "error_description": description}).encode()],
                    headers=_headers())


def _headers() -> dict[str, str]:
    """Token responses are never cached, and carry a request id like every API response."""
    return {"cache-control": "no-store", "request-id": f"req_local_{secrets.token_hex(12)}"}
