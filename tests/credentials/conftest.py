"""Fixtures for the credential tests: an environment with no key, profiles on disk, a shell on a fresh session."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from claude_magic import session as session_module
from claude_magic.testing import LocalServer
from claude_magic.testing.oauth import IssuedTokens

CLIENT_ID = "claude-magic-tests"
# Everything the SDK's chain reads: removed so each test sets exactly the source it is about.
CHAIN_VARIABLES = (
    "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_PROFILE", "ANTHROPIC_CONFIG_DIR", "ANTHROPIC_BASE_URL",
    "ANTHROPIC_CUSTOM_HEADERS", "ANTHROPIC_FEDERATION_RULE_ID", "ANTHROPIC_ORGANIZATION_ID",
    "ANTHROPIC_IDENTITY_TOKEN", "ANTHROPIC_IDENTITY_TOKEN_FILE", "ANTHROPIC_SERVICE_ACCOUNT_ID",
    "ANTHROPIC_WORKSPACE_ID", "ANTHROPIC_SCOPE",
)
SDK_LOGGERS = ("anthropic", "httpx2", "httpcore2")


@dataclass
class Profiles:
    """A temporary ANTHROPIC_CONFIG_DIR and what was written into it."""

    root: Path

    def write(self, name: str, tokens: IssuedTokens | None, *, base_url: str | None,
              client_id: str | None = CLIENT_ID, auth_type: str = "user_oauth", **extra: Any) -> Path:
        """`configs/NAME.json` and (with `tokens`) `credentials/NAME.json` (0600); returns the credentials path."""
        authentication: dict[str, Any] = {"type": auth_type}
        if client_id is not None:
            authentication["client_id"] = client_id
        config: dict[str, Any] = {"authentication": authentication, **extra}
        if base_url is not None:
            config["base_url"] = base_url
        (self.root / "configs").mkdir(exist_ok=True)
        (self.root / "configs" / f"{name}.json").write_text(json.dumps(config), encoding="utf-8")
        credentials = self.root / "credentials" / f"{name}.json"
        if tokens is not None:
            credentials.parent.mkdir(mode=0o700, exist_ok=True)
            credentials.write_text(json.dumps(tokens.credentials_file()), encoding="utf-8")
            credentials.chmod(0o600)
        return credentials

    def activate(self, name: str) -> None:
        """Point the `active_config` file at NAME (the profile used without ANTHROPIC_PROFILE)."""
        (self.root / "active_config").write_text(name + "\n", encoding="utf-8")

    def credentials(self, name: str) -> dict[str, Any]:
        """The credentials file as the SDK left it."""
        return json.loads((self.root / "credentials" / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No credential anywhere the SDK or the Claude Code CLI looks (an empty CLAUDE_CONFIG_DIR)."""
    for name in CHAIN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CLAUDE_CODE_OAUTH_TOKEN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))                 # no ~/.config/anthropic either
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude-code"))
    (tmp_path / "home").mkdir()
    return tmp_path


@pytest.fixture
def profiles(no_credentials: Path, monkeypatch: pytest.MonkeyPatch) -> Profiles:
    """An empty profile directory as ANTHROPIC_CONFIG_DIR."""
    root = no_credentials / "anthropic"
    root.mkdir()
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(root))
    return Profiles(root)


@pytest.fixture
def oauth_profile(profiles: Profiles, claude_server: LocalServer,
                  monkeypatch: pytest.MonkeyPatch) -> tuple[Profiles, IssuedTokens]:
    """Profile `work` (user_oauth, on the local server) whose access token has expired, chosen by ANTHROPIC_PROFILE.

    The server accepts no API key, only the tokens its token endpoint issues."""
    claude_server.require_api_key = "no-api-key-is-accepted-here"
    tokens = claude_server.oauth.issue(CLIENT_ID, expires_in=-60)
    profiles.write("work", tokens, base_url=claude_server.base_url)
    monkeypatch.setenv("ANTHROPIC_PROFILE", "work")
    return profiles, tokens


@pytest.fixture
def shell(ipython_shell: Any) -> Iterator[Any]:
    """The real IPython shell on a fresh session (no SDK retries); the magic's settings restored afterwards."""
    session_module._session = None
    magic = ipython_shell.magics_manager.registry["ClaudeMagic"]
    saved = {name: copy.copy(getattr(magic, name)) for name in ("model", "max_retries", "headers", "base_url")}
    magic.max_retries = 0
    magic.model = "claude-sonnet-5-5"
    yield ipython_shell
    for name, value in saved.items():
        setattr(magic, name, value)
    session_module._session = None


@pytest.fixture
def sdk_debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The SDK's and its HTTP stack's DEBUG logs, captured (where a secret would show if the SDK logged it)."""
    for name in SDK_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def run(shell: Any, source: str) -> Any:
    """Run a cell like a user would; returns IPython's ExecutionResult."""
    return shell.run_cell(source, store_history=False)


def bearer_tokens(server: LocalServer, path: str = "/v1/messages") -> list[str]:
    """The bearer tokens of the requests to `path`, in order."""
    return [request.headers.get("authorization", "").removeprefix("Bearer ") for request in server.requests
            if request.path.split("?")[0] == path]


def refresh_requests(server: LocalServer) -> list[Any]:
    """The token-endpoint requests the server received."""
    return [request for request in server.requests if request.path == "/v1/oauth/token"]
