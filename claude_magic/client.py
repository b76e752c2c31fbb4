"""Building (and caching) the SDK client from the environment."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from .errors import MissingCredentialError
from .settings import Settings

if TYPE_CHECKING:
    import anthropic

__all__ = ["ClientFactory", "resolved_base_url", "retries_taken"]


def resolved_base_url(settings: Settings) -> str:
    """Where requests go: the setting, then ANTHROPIC_BASE_URL, then the public API."""
    return settings.base_url or os.environ.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com"


class ClientFactory:
    """One `anthropic.Anthropic` per (credential, endpoint, retry policy); never stores the key in text."""

    def __init__(self) -> None:
        self._clients: dict[tuple[Any, ...], anthropic.Anthropic] = {}
        self._lock = threading.Lock()

    def get(self, settings: Settings) -> anthropic.Anthropic:
        """The client for these settings; raises `MissingCredentialError` when there is no key."""
        api_key = os.environ.get("ANTHROPIC_API_KEY") or None
        auth_token = None if api_key else (os.environ.get("ANTHROPIC_AUTH_TOKEN") or None)
        if not api_key and not auth_token:
            raise MissingCredentialError()
        base_url = resolved_base_url(settings)
        key = (hash(api_key), hash(auth_token), base_url, settings.max_retries, settings.timeout,
               tuple(sorted(settings.extra_headers.items())))
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self._build(settings, api_key, auth_token, base_url)
            return client

    def _build(self, settings: Settings, api_key: str | None, auth_token: str | None,
               base_url: str) -> anthropic.Anthropic:
        import anthropic

        from .stream import stop_gate

        return anthropic.Anthropic(
            api_key=api_key, auth_token=auth_token, base_url=base_url, max_retries=settings.max_retries,
            timeout=settings.timeout, default_headers=settings.extra_headers or None, middleware=[stop_gate],
        )


def retries_taken(request: Any) -> int:
    """How many retries the SDK made before sending `request` (its `x-stainless-retry-count` header)."""
    try:
        return int(request.headers.get("x-stainless-retry-count", 0))
    except (AttributeError, TypeError, ValueError):
        return 0
