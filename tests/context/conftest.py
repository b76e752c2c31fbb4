"""Fixtures for the notebook-context tests: the real IPython test shell and a tracker hooked to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from claude_magic.notebook.failed_cells import ErrorTracker


@pytest.fixture(scope="session")
def ipython() -> Any:
    """The real (terminal flavour) IPython shell that IPython's own test suite uses."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.testing.globalipapp import start_ipython

    start_ipython()  # returns the shell only on its first call in a process (other suites may come first)
    return InteractiveShell.instance()


@pytest.fixture
def tracker(ipython: Any) -> Iterator[ErrorTracker]:
    """A fresh error tracker listening to the shell for one test."""
    tracker = ErrorTracker()
    tracker.register(ipython)
    yield tracker
    tracker.unregister()


@pytest.fixture
def claude_shell(ipython_shell: Any, claude_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The shared shell with claude-magic loaded and a fresh session whose requests go to `claude_server`."""
    from claude_magic import session as session_module

    monkeypatch.setenv("ANTHROPIC_BASE_URL", claude_server.base_url)
    session_module._session = None
    magic = ipython_shell.magics_manager.registry["ClaudeMagic"]
    magic.max_retries = 0
    yield ipython_shell
    magic.max_retries = 2
    session_module._session = None
