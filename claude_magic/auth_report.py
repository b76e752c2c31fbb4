"""What `%claude auth` shows: the API credential the SDK would use, the Claude Code login, the engine `auto` picks.

Every line names where a credential comes from, never the credential.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from .core.errors import ClaudeMagicError
from .core.settings import Settings
from .transport.credentials import SETUP_HINT, CredentialInfo, resolve_api_credential

__all__ = ["auth_report"]


def auth_report(settings: Settings) -> str:
    """The `%claude auth` text (Markdown bullets)."""
    info, api_line = _api_engine(settings)
    status, code_line = _claude_code_engine(settings)
    lines = [f"- **API engine**: {api_line}", f"- **Claude Code engine**: {code_line}",
             f"- **Engine**: {_engine_choice(settings, info, status)}"]
    headers = _header_names(settings)
    if headers:
        lines.append(f"- **Extra headers**: {headers} (values hidden)")
    if info is None and not getattr(status, "logged_in", False):
        lines.append(f"- **To set up**: {SETUP_HINT}.")
    return "\n".join(lines)


def _api_engine(settings: Settings) -> tuple[CredentialInfo | None, str]:
    from .transport.client import resolved_base_url

    try:
        info = resolve_api_credential(settings)
    except ClaudeMagicError as error:
        return None, f"cannot be used — {error}"
    if info is None:
        return None, "no credential found (no ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN, profile or federation)."
    parts = [f"{info.label}"]
    if info.kind == "profile":
        chosen = {"ANTHROPIC_PROFILE": "chosen by ANTHROPIC_PROFILE", "active_config": "the active profile "
                  "(active_config)", "default": "the default profile"}.get(info.selected_by, info.selected_by)
        parts.append(f"{chosen}, config `{info.config_path}`")
        if info.refreshed:
            parts.append("the SDK refreshes its access token and writes it back")
        elif info.detail == "user_oauth":
            parts.append("no client_id: the token file is re-read on every request (rotated elsewhere)")
    elif info.kind == "federation":
        parts.append("the SDK exchanges the identity token for an access token")
    return info, "; ".join(parts) + f". Requests go to {resolved_base_url(settings)}."


def _claude_code_engine(settings: Settings) -> tuple[Any, str]:
    """The CLI's own login report (`claude auth status`), or why it cannot be asked."""
    try:
        from .engines.claude_code.auth import INSTALL_HINT, login_status
    except ImportError:
        return None, "not installed/available."
    # cli_path / env: the Claude Code engine's settings (its CLI and extra environment), if configured.
    status = login_status(cli_path=getattr(settings, "claude_code_cli", None),
                          env=dict(getattr(settings, "claude_code_env", None) or {}))
    if status is None:
        return None, f"not installed (`{INSTALL_HINT}`)."
    if getattr(status, "error", None):
        return status, f"not available: {status.error}."
    if status.logged_in:
        where = ", ".join(part for part in (status.method, status.provider) if part)
        source = f" from {status.source}" if getattr(status, "source", None) else ""
        return status, f"logged in ({where}{source})."
    return status, "not logged in (`claude auth login` in a terminal)."


def _engine_choice(settings: Settings, info: CredentialInfo | None, status: Any) -> str:
    """Which engine answers: the setting, or for "auto" the engine selection's own rule on the facts above."""
    configured = getattr(settings, "engine", "auto")
    logged_in = getattr(status, "logged_in", None) if status is not None else None
    try:
        from .engines.selection import choose_engine
    except ImportError:
        choice = "api" if info is not None else None
    else:
        try:
            as_auto = settings if configured == "auto" else replace(settings, engine="auto")
            choice = choose_engine(as_auto, api_available=lambda _s: info is not None,
                                   logged_in=lambda _s: logged_in)
        except ClaudeMagicError:
            choice = None
    picked = f"`auto` picks **{choice}**" if choice else "`auto` finds no credential and no Claude Code login"
    if configured != "auto":
        return f"`ClaudeMagic.engine` is {configured!r} ({picked} when set to 'auto')."
    return f"{picked}."


def _header_names(settings: Settings) -> str:
    names = [f"`{name}`" for name in settings.extra_headers]
    names += [f"`{line.split(':', 1)[0].strip()}` (ANTHROPIC_CUSTOM_HEADERS)"
              for line in (os.environ.get("ANTHROPIC_CUSTOM_HEADERS") or "").split("\n") if ":" in line]
    return ", ".join(names)
