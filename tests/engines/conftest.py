"""The Claude Code engine against the local server: the real bundled CLI, a temporary HOME, no real login."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claude_magic.core.settings import Settings
from claude_magic.session import Session
from claude_magic.testing import LocalServer
from claude_magic.testing.responder import echo_reply
from claude_magic.tools import Toolbox

from ..helpers import MODEL

LOCAL_KEY = "local-test-key"


def is_main_request(body: dict[str, Any]) -> bool:
    """A turn's own request, not a side request (a session title, a small model's summary): only the agent
    loop's requests carry `context_management`."""
    return "context_management" in body


class Script:
    """Scripted answers for the turn's own requests; side requests get the default echo."""

    def __init__(self, server: LocalServer) -> None:
        self.items: deque[Any] = deque()
        self.server = server
        server.default = self

    def __call__(self, body: dict[str, Any]) -> Any:
        if is_main_request(body) and self.items:
            return self.items.popleft()
        return echo_reply(body)

    def queue(self, *items: Any) -> None:
        self.items.extend(items)

    def main_requests(self) -> list[dict[str, Any]]:
        return [body for body in self.server.message_requests if is_main_request(body)]


def cli_env(server: LocalServer, home: str) -> dict[str, str]:
    return {"HOME": home, "ANTHROPIC_BASE_URL": server.base_url, "ANTHROPIC_API_KEY": LOCAL_KEY,
            "CLAUDE_CODE_MAX_RETRIES": "0", "DISABLE_AUTOUPDATER": "1"}


@pytest.fixture(scope="module")
def cc_server() -> Iterator[LocalServer]:
    with LocalServer() as server:
        yield server


@pytest.fixture(scope="module")
def cc_home() -> Iterator[str]:
    """A HOME for the CLI. A CLI whose kernel was killed exits when its stdin closes, writing its session files
    (`~/.claude`) meanwhile: the folder is removed once it is done, within 10 s."""
    home = tempfile.mkdtemp(prefix="cc-home-")
    yield home
    deadline = time.monotonic() + 10
    while True:
        try:
            shutil.rmtree(home)
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture
def script(cc_server: LocalServer) -> Iterator[Script]:
    cc_server.clear()
    yield Script(cc_server)
    assert cc_server.rejections == []


def cc_settings(server: LocalServer, home: str, **changes: Any) -> Settings:
    values: dict[str, Any] = {"engine": "claude-code", "model": MODEL, "claude_code_env": cli_env(server, home),
                              "tool_timeout": 30.0}
    values.update(changes)
    return Settings(**values)


@pytest.fixture(scope="module")
def cc_session(cc_server: LocalServer, cc_home: str) -> Iterator[Session]:
    """One session (one CLI per conversation) shared by a module's tests."""
    toolbox = Toolbox()

    @toolbox.tool(consent="ask")
    def double(x: int) -> int:
        """Double a number."""
        return 2 * x

    session = Session(cc_settings(cc_server, cc_home), toolbox=toolbox)
    yield session
    session.close()


def helper_home(server: LocalServer) -> str:
    """A HOME whose Claude Code is 'logged in' through an apiKeyHelper (no key in the kernel's environment)."""
    home = tempfile.mkdtemp(prefix="cc-helper-home-")
    settings = {"apiKeyHelper": f"echo {LOCAL_KEY}", "env": {"ANTHROPIC_BASE_URL": server.base_url}}
    (Path(home) / ".claude").mkdir()
    (Path(home) / ".claude" / "settings.json").write_text(json.dumps(settings))
    return home
