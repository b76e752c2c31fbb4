"""Fixtures for the rows tests: a real IPython shell on the local server, runs recorded in a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claude_magic import session as session_module
from claude_magic.testing import LocalServer

MODEL = "claude-sonnet-5-5"


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder map runs are recorded in for this test."""
    folder = tmp_path / "runs"
    monkeypatch.setenv("CLAUDE_MAGIC_MAP_DIR", str(folder))
    return folder


@pytest.fixture
def shell(ipython_shell: Any, claude_server: LocalServer, runs: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The shell with a fresh session whose requests go to `claude_server` (extension loaded, model sonnet 5.5)."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", claude_server.base_url)
    session_module._session = None
    magic = ipython_shell.magics_manager.registry["ClaudeMagic"]
    saved = {name: getattr(magic, name) for name in ("model", "max_retries", "map_confirm_above")}
    magic.model, magic.max_retries, magic.map_confirm_above = MODEL, 0, None
    yield ipython_shell
    for name, value in saved.items():
        setattr(magic, name, value)
    session_module._session = None


def requests_for(server: LocalServer, needle: str) -> int:
    """How many POST /v1/messages bodies contain `needle` in their user text."""
    count = 0
    for body in server.message_requests:
        if not isinstance(body, dict):           # a request cut short when its row was canceled
            continue
        text = "".join(b.get("text", "") for m in body["messages"] for b in (m["content"] if isinstance(m["content"], list)
                                                                             else [{"text": m["content"]}]))
        count += needle in text
    return count
