"""Fixtures for the core tests: a real IPython shell with the extension loaded, pointed at the local server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from claude_magic import session as session_module


@pytest.fixture
def shell(ipython_shell: Any, claude_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The shell with a fresh session whose requests go to `claude_server`."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", claude_server.base_url)
    session_module._session = None
    magic = ipython_shell.magics_manager.registry["ClaudeMagic"]
    saved = {name: getattr(magic, name) for name in ("model", "system", "max_tokens", "thinking", "effort")}
    magic.max_retries = 0
    yield ipython_shell
    for name, value in saved.items():
        setattr(magic, name, value)
    magic.max_retries = 2
    session_module._session = None


def run(shell: Any, source: str) -> Any:
    """Run a cell like a user would; returns IPython's ExecutionResult."""
    return shell.run_cell(source, store_history=False)
