"""Whether Claude Code is logged in, asked of the CLI itself (`claude auth status`); no credential is read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

__all__ = ["LoginStatus", "login_status", "bundled_cli", "sdk_installed", "INSTALL_HINT"]

INSTALL_HINT = 'pip install "claude-magic[claude-code]"'


@dataclass(frozen=True)
class LoginStatus:
    """What `claude auth status` reports (never a secret)."""

    logged_in: bool
    method: str | None = None          # claude.ai, api_key, api_key_helper, oauth_token, none ...
    provider: str | None = None        # firstParty, bedrock, vertex ...
    source: str | None = None          # e.g. ANTHROPIC_API_KEY, apiKeyHelper
    error: str | None = None           # why the CLI could not be asked

    @property
    def label(self) -> str:
        """The footer's credential label, e.g. "Claude Code login (claude.ai)"."""
        method = self.method or "unknown"
        if self.source:
            return f"Claude Code login ({method} from {self.source})"
        return f"Claude Code login ({method})"


def sdk_installed() -> bool:
    """Whether `claude-agent-sdk` can be imported (without importing it)."""
    return bool(_sdk_folders())


def _sdk_folders() -> list[str]:
    """Where the claude_agent_sdk package is: from the imported module once it is (every warm turn asks, and a
    `find_spec` walks sys.path), else found without importing it."""
    module = sys.modules.get("claude_agent_sdk")
    if module is not None and getattr(module, "__path__", None):
        return list(module.__path__)
    import importlib.util

    spec = importlib.util.find_spec("claude_agent_sdk")
    return list(spec.submodule_search_locations or []) if spec is not None else []


def bundled_cli() -> str | None:
    """The CLI bundled with claude-agent-sdk, or `claude` on PATH."""
    import shutil

    for folder in _sdk_folders():
        candidate = os.path.join(folder, "_bundled", "claude")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("claude")


def login_status(timeout: float = 10.0, *, cli_path: str | None = None,
                 env: dict[str, str] | None = None) -> LoginStatus | None:
    """Ask the CLI whether it is logged in; None when claude-agent-sdk is not installed."""
    if not sdk_installed():
        return None
    cli = cli_path or bundled_cli()
    if not cli:
        return LoginStatus(False, error="the Claude Code CLI was not found")
    environment = {**os.environ, **(env or {})}
    environment.pop("CLAUDECODE", None)
    try:
        completed = subprocess.run([cli, "auth", "status", "--json"], capture_output=True, text=True,
                                   timeout=timeout, env=environment, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        return LoginStatus(False, error=f"the Claude Code CLI was not found at {cli}")
    except (OSError, subprocess.TimeoutExpired) as error:
        return LoginStatus(False, error=f"`claude auth status` failed ({type(error).__name__})")
    try:
        data = json.loads(completed.stdout)
    except ValueError:
        return LoginStatus(False, error="`claude auth status` printed something that is not JSON")
    if not isinstance(data, dict):
        return LoginStatus(False, error="`claude auth status` printed something unexpected")
    method = data.get("authMethod")
    return LoginStatus(bool(data.get("loggedIn")), method=method if method != "none" else None,
                       provider=data.get("apiProvider"), source=data.get("apiKeySource"))
