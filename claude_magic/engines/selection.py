"""Which engine answers a turn: the setting, or for "auto" the API when a credential resolves, else Claude Code."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..core.errors import MissingCredentialError
from ..core.settings import ENGINE_NAMES, Settings, check_choice

__all__ = ["choose_engine", "cached_login_status", "forget_login_status", "NOTHING_RESOLVES"]

NOTHING_RESOLVES = (
    "No Anthropic credential: set ANTHROPIC_API_KEY (`%env ANTHROPIC_API_KEY=sk-ant-...`; ANTHROPIC_AUTH_TOKEN or an "
    "`anthropic` profile via ANTHROPIC_PROFILE work too), or use a Claude subscription through Claude Code: "
    "{claude_code}; `%claude auth` shows what was found."
)
CLAUDE_CODE_SETUP = "run `claude` in a terminal and log in, then re-run"
LOGIN_CACHE_SECONDS = 300.0

_cache: dict[tuple[object, ...], tuple[float, object]] = {}
_cache_lock = threading.Lock()


def _api_credential(settings: Settings) -> bool:
    from .messages_api import credential_label

    return bool(credential_label(settings))


def _cache_key(settings: Settings) -> tuple[object, ...]:
    return (settings.claude_code_cli, tuple(sorted(settings.claude_code_env.items())))


def cached_login_status(settings: Settings) -> object:
    """What `claude auth status` reports (a login is cached a few minutes); None when claude-agent-sdk is missing."""
    from .claude_code.auth import login_status

    key = _cache_key(settings)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < LOGIN_CACHE_SECONDS:
        return cached[1]
    status = login_status(cli_path=settings.claude_code_cli, env=dict(settings.claude_code_env))
    if status is not None and getattr(status, "logged_in", False):
        with _cache_lock:
            _cache[key] = (time.monotonic(), status)
    return status


def claude_code_logged_in(settings: Settings) -> bool | None:
    """Whether the CLI reports a login (cached a few minutes); None when claude-agent-sdk is missing."""
    from .claude_code.warmup import warm_up

    warm_up()       # most likely the engine in use: import the Agent SDK while the CLI answers
    status = cached_login_status(settings)
    return None if status is None else bool(getattr(status, "logged_in", False))


def forget_login_status() -> None:
    """Drop cached login answers (after a login fault, so the next turn asks again)."""
    with _cache_lock:
        _cache.clear()


def choose_engine(settings: Settings, *, api_available: Callable[[Settings], bool] = _api_credential,
                  logged_in: Callable[[Settings], bool | None] = claude_code_logged_in) -> str:
    """"api" or "claude-code" for these settings; a one-line error when "auto" finds neither."""
    engine = settings.engine
    check_choice("engine", engine, ENGINE_NAMES)
    if engine != "auto":
        return engine
    if api_available(settings):
        return "api"
    if logged_in(settings):
        return "claude-code"
    from .claude_code.auth import INSTALL_HINT, sdk_installed

    setup = CLAUDE_CODE_SETUP if sdk_installed() else f"`{INSTALL_HINT}`, then {CLAUDE_CODE_SETUP}"
    raise MissingCredentialError(NOTHING_RESOLVES.format(claude_code=setup))
