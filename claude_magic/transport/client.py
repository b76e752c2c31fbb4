"""Building (and caching) the SDK client, letting the SDK's own credential chain choose the credential."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from ..core.errors import ClaudeMagicError, ConfigurationError, MissingCredentialError
from ..core.redaction import register_secrets
from ..core.settings import Settings
from .attempts import stop_gate
from .credentials import (
    CREDENTIAL_ENVIRONMENT,
    DEFAULT_BASE_URL,
    CredentialInfo,
    configuration_problem,
    resolve_api_credential,
)

if TYPE_CHECKING:
    import anthropic

__all__ = ["ClientFactory", "resolved_base_url"]

MAX_CLIENTS = 8       # distinct (credential, endpoint, retry policy) combinations kept at once


def resolved_base_url(settings: Settings) -> str:
    """Where requests go: the setting, ANTHROPIC_BASE_URL, the profile's `base_url`, then the public API."""
    explicit = settings.base_url or os.environ.get("ANTHROPIC_BASE_URL")
    if explicit:
        return explicit
    try:
        info = resolve_api_credential(settings)
    except ClaudeMagicError:
        info = None
    return (info.base_url if info is not None else None) or DEFAULT_BASE_URL


class ClientFactory:
    """One `anthropic.Anthropic` per credential source, endpoint and retry policy, reused across turns.

    The SDK resolves the credential (and refreshes a profile's token, writing it back); this factory only
    notices when what the chain would pick changes, through a salted digest that holds no secret in text.
    """

    def __init__(self) -> None:
        self._clients: OrderedDict[tuple[Any, ...], anthropic.Anthropic] = OrderedDict()
        self._salt = secrets.token_bytes(16)
        self._lock = threading.Lock()
        self.built = 0                        # clients built so far (a rebuild per turn would show here)

    def __repr__(self) -> str:
        return f"<ClientFactory {len(self._clients)} client{'s' if len(self._clients) != 1 else ''}>"

    def get(self, settings: Settings) -> anthropic.Anthropic:
        """The client for these settings; raises `MissingCredentialError` when the SDK's chain finds nothing."""
        register_secrets(settings.extra_headers.values())    # Settings built in code skip the magic's check
        info = resolve_api_credential(settings)
        if info is None:
            raise MissingCredentialError()
        key = self._key(settings, info)
        with self._lock:
            client = self._clients.get(key)
            if client is not None:
                self._clients.move_to_end(key)
                return client
            client = self._build(settings)
            self._clients[key] = client
            self.built += 1
            while len(self._clients) > MAX_CLIENTS:   # dropped, not closed: a running turn may still hold it
                self._clients.popitem(last=False)
            return client

    def get_async(self, settings: Settings, middleware: list[Any] | None = None) -> anthropic.AsyncAnthropic:
        """A new `anthropic.AsyncAnthropic` built like `get`'s clients (same chain, errors), for one event loop; the caller closes it."""
        self.get(settings)                      # the same credential check and one-line errors
        import anthropic

        try:
            return anthropic.AsyncAnthropic(
                base_url=settings.base_url, max_retries=settings.max_retries, timeout=settings.timeout,
                default_headers=settings.extra_headers or None, middleware=list(middleware or []),
            )
        except anthropic.AnthropicError as error:
            raise ConfigurationError(configuration_problem(error)) from None

    def close(self) -> None:
        """Close every client (and its token provider's connections)."""
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            client.close()

    def _key(self, settings: Settings, info: CredentialInfo) -> tuple[Any, ...]:
        """What makes a client different: a digest of the credential environment and headers, the endpoint."""
        facts = {
            "environment": [os.environ.get(name) for name in CREDENTIAL_ENVIRONMENT],
            "headers": sorted(settings.extra_headers.items()),
            "credential": [info.kind, info.source, info.detail, info.selected_by],
            "profile": _file_stamp(info.config_path),
        }
        digest = hashlib.sha256(self._salt + json.dumps(facts, default=str).encode()).hexdigest()
        return (digest, settings.base_url, settings.max_retries, settings.timeout)

    @staticmethod
    def _build(settings: Settings) -> anthropic.Anthropic:
        import anthropic


        try:
            # No credential arguments: the SDK's chain applies (key, token, profile, federation).
            # base_url None lets it use ANTHROPIC_BASE_URL, then the profile's base_url.
            return anthropic.Anthropic(
                base_url=settings.base_url, max_retries=settings.max_retries, timeout=settings.timeout,
                default_headers=settings.extra_headers or None, middleware=[stop_gate],
            )
        except anthropic.AnthropicError as error:
            raise ConfigurationError(configuration_problem(error)) from None


def _file_stamp(path: str | None) -> list[int] | None:
    """When a profile's config file last changed (the SDK reads it once per client)."""
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return [stat.st_mtime_ns, stat.st_size, stat.st_ino]
