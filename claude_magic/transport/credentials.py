"""Which credential the `anthropic` SDK's own chain would use, described without a secret.

The SDK resolves, first match wins: `ANTHROPIC_API_KEY`, `ANTHROPIC_AUTH_TOKEN`, the profile named by
`ANTHROPIC_PROFILE`, workload identity federation (`ANTHROPIC_FEDERATION_RULE_ID` + `..._ORGANIZATION_ID` +
`ANTHROPIC_IDENTITY_TOKEN[_FILE]`), the active profile on disk (under `ANTHROPIC_CONFIG_DIR`). This module
asks the SDK's functions which step matches; it never reads a token, never caches one, never goes online.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.errors import ApiError, ConfigurationError
from ..core.redaction import redact, register_secrets

if TYPE_CHECKING:
    from ..core.settings import Settings

__all__ = ["CredentialInfo", "resolve_api_credential", "checked_headers", "credential_error", "configuration_problem",
           "sent_credentials",
           "CREDENTIAL_ENVIRONMENT", "AUTH_HEADERS", "DEFAULT_BASE_URL", "SETUP_HINT"]

DEFAULT_BASE_URL = "https://api.anthropic.com"
# Every variable the SDK reads to choose or shape a credential (a client is rebuilt when one changes).
CREDENTIAL_ENVIRONMENT = (
    "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_PROFILE", "ANTHROPIC_CONFIG_DIR", "ANTHROPIC_BASE_URL",
    "ANTHROPIC_CUSTOM_HEADERS", "ANTHROPIC_FEDERATION_RULE_ID", "ANTHROPIC_ORGANIZATION_ID",
    "ANTHROPIC_IDENTITY_TOKEN", "ANTHROPIC_IDENTITY_TOKEN_FILE", "ANTHROPIC_SERVICE_ACCOUNT_ID",
    "ANTHROPIC_WORKSPACE_ID", "ANTHROPIC_SCOPE",
)
AUTH_HEADERS = {"x-api-key": "api_key", "authorization": "auth_token"}   # a header that is itself a credential
SETUP_HINT = ('set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN, or an `anthropic` profile via ANTHROPIC_PROFILE), '
              'or log in to Claude Code: `pip install "claude-magic[claude-code]"`, then `claude auth login`')
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")          # an HTTP token (RFC 9110)
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")                         # printable ASCII, tabs; no line breaks
_KIND_WORDS = {"api_key": "API key", "auth_token": "bearer token"}


@dataclass(frozen=True)
class CredentialInfo:
    """Where the API engine's credential comes from; never the credential itself."""

    kind: str                        # "api_key", "auth_token", "profile" or "federation"
    source: str                      # "ANTHROPIC_API_KEY", "profile 'work'", "ANTHROPIC_FEDERATION_RULE_ID" ...
    detail: str = ""                 # a profile's authentication type: "user_oauth", "oidc_federation"
    selected_by: str = ""            # how a profile was chosen: "ANTHROPIC_PROFILE", "active_config", "default"
    config_path: str | None = None   # a profile's (non-secret) config file
    base_url: str | None = None      # the host a profile pins, if it pins one
    refreshed: bool = False          # the SDK refreshes this profile's access token itself

    @property
    def label(self) -> str:
        """A short, secret-free label for the footer and `%claude auth`."""
        if self.kind in _KIND_WORDS:
            return f"{_KIND_WORDS[self.kind]} from {self.source}"
        if self.kind == "profile":
            name = self.source.removeprefix("profile ").strip("'")
            return f"profile {name} ({self.detail})" if self.detail else f"profile {name}"
        return f"workload identity federation ({self.source})"


def resolve_api_credential(settings: Settings) -> CredentialInfo | None:
    """The credential `anthropic.Anthropic(...)` would use with these settings, or None when none resolves.

    Raises `ConfigurationError` (one line) when the configuration the SDK finds is broken, e.g. an
    ANTHROPIC_PROFILE that names no profile: the SDK would refuse to build a client for it too.
    """
    from anthropic import AnthropicError
    from anthropic._client import static_credential_from_env
    from anthropic.lib.credentials import CredentialsFile, WorkloadIdentityCredentials, default_credentials

    # Step 1 of the SDK's chain, with the constructor's own function (it returns the values: we keep none).
    api_key, auth_token = static_credential_from_env(warn=False)
    if api_key is not None or auth_token is not None:
        kind = "api_key" if api_key is not None else "auth_token"
        del api_key, auth_token
        return CredentialInfo(kind, "ANTHROPIC_API_KEY" if kind == "api_key" else "ANTHROPIC_AUTH_TOKEN")
    try:
        result = default_credentials(base_url=_chain_base_url(settings))
    except AnthropicError as error:
        raise ConfigurationError(configuration_problem(error)) from None
    if result is None:
        return _header_credential(settings)
    provider = result.provider
    try:
        if isinstance(provider, CredentialsFile):
            return _profile_info(provider)
        if isinstance(provider, WorkloadIdentityCredentials):
            return CredentialInfo("federation", "ANTHROPIC_FEDERATION_RULE_ID", detail="oidc_federation")
        return CredentialInfo("auth_token", type(provider).__name__)
    except AnthropicError as error:
        raise ConfigurationError(configuration_problem(error)) from None
    finally:
        close = getattr(provider, "close", None)
        if callable(close):
            close()                  # a federation provider opens an HTTP client at construction


def _chain_base_url(settings: Settings) -> str:
    """The base URL the SDK's constructor hands to `default_credentials` (its argument or ANTHROPIC_BASE_URL)."""
    return settings.base_url or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL


def _profile_info(provider: Any) -> CredentialInfo:
    """A profile's name, how it was chosen and its authentication type, from the SDK's parsed config."""
    from anthropic.lib.credentials._constants import _has_explicit_active_config

    # `_auth_block()` is the SDK's own parse of configs/NAME.json (env values filled in); it holds no secret.
    auth = provider._auth_block()
    auth_type = str(auth.get("type") or "")
    selected_by = ("ANTHROPIC_PROFILE" if os.environ.get("ANTHROPIC_PROFILE")
                   else "active_config" if _has_explicit_active_config() else "default")
    return CredentialInfo(
        "profile", f"profile '{provider.profile}'", detail=auth_type, selected_by=selected_by,
        config_path=str(provider.config_path), base_url=provider.resolved_base_url,
        refreshed=auth_type == "oidc_federation" or (auth_type == "user_oauth" and bool(auth.get("client_id"))),
    )


def _header_credential(settings: Settings) -> CredentialInfo | None:
    """With no credential in the chain, a header that is one (`x-api-key`, `authorization`) still authenticates."""
    from_settings = {name.lower() for name in settings.extra_headers}
    from_environment = {line.split(":", 1)[0].strip().lower()
                        for line in (os.environ.get("ANTHROPIC_CUSTOM_HEADERS") or "").split("\n") if ":" in line}
    for name, kind in AUTH_HEADERS.items():
        if name in from_settings:
            return CredentialInfo(kind, f"ClaudeMagic.headers[{name!r}]")
        if name in from_environment:
            return CredentialInfo(kind, f"ANTHROPIC_CUSTOM_HEADERS ({name})")
    return None


def configuration_problem(error: BaseException) -> str:
    """The one-line message for a credential configuration the SDK refuses (paths and names only)."""
    first_line = redact(str(error)).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return (f"The Anthropic credential configuration cannot be used: {first_line.rstrip('.')[:400]}. "
            "Fix it or unset the variable that selects it; `%claude auth` shows what was found.")


def sent_credentials(error: BaseException) -> tuple[str, ...]:
    """The credential values the failed request carried, to scrub an error body that echoes them (not kept).

    A profile's or federation's token is known only to the SDK; the request it signed is the one place
    claude-magic sees it, and only for the moment an error is translated."""
    try:
        request = getattr(getattr(error, "response", None), "request", None) or getattr(error, "request", None)
    except RuntimeError:                     # an httpx response built without a request
        return ()
    headers = getattr(request, "headers", None)
    if headers is None:
        return ()
    values: list[str] = []
    for name in AUTH_HEADERS:
        value = headers.get(name)
        if isinstance(value, str) and value:
            values += [value, value.split(" ", 1)[-1]]
    return tuple(values)


def credential_error(error: BaseException) -> ApiError | None:
    """A one-line error for the SDK failing to get a token mid-turn (a refresh refused, a file gone)."""
    from anthropic import AnthropicError, APIError, CredentialsError
    from anthropic.lib.credentials import WorkloadIdentityError

    if not isinstance(error, (CredentialsError, WorkloadIdentityError)) or isinstance(error, APIError):
        return None
    assert isinstance(error, AnthropicError)
    text = str(error).strip()
    detail = redact(text.splitlines()[0] if text else type(error).__name__).rstrip(".")[:400]
    return ApiError(f"Could not get an access token for the API: {detail}. Sign in again to renew the "
                    "profile's tokens, or use another credential; `%claude auth` shows which one is in use. "
                    "The conversation is unchanged — re-run the cell afterwards.",
                    kind="credentials", status=getattr(error, "status_code", None))


def checked_headers(headers: Mapping[Any, Any]) -> dict[str, str]:
    """`ClaudeMagic.headers` as a plain dict, refused in one line if not sendable; values become secrets."""
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            shown = repr(name) if isinstance(name, str) and len(name) < 60 else type(name).__name__
            raise ConfigurationError(f"ClaudeMagic.headers: {shown} is not a header name (letters, digits and "
                                     "-_.!#$%&'*+^`|~ only)")
        if not isinstance(value, str):
            raise ConfigurationError(f"ClaudeMagic.headers[{name!r}] must be a string, not {type(value).__name__}")
        if not _HEADER_VALUE.fullmatch(value):
            raise ConfigurationError(f"ClaudeMagic.headers[{name!r}]: the value must be printable ASCII on one "
                                     "line (the value is not shown: header values are treated as secrets)")
        checked[name] = value
    register_secrets(checked.values())
    return checked
