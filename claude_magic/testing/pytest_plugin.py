"""Pytest fixtures around `LocalServer`: load with `pytest_plugins = ["claude_magic.testing.pytest_plugin"]`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import LocalServer

__all__ = ["claude_env", "claude_server", "claude_server_session"]


@pytest.fixture
def claude_server() -> Iterator[LocalServer]:
    """A started `LocalServer` for one test, stopped afterwards."""
    with LocalServer() as server:
        yield server


@pytest.fixture(scope="session")
def claude_server_session() -> Iterator[LocalServer]:
    """One `LocalServer` for the whole session; call `clear()` where a test needs a clean slate."""
    with LocalServer() as server:
        yield server


@pytest.fixture
def claude_env(claude_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> LocalServer:
    """`claude_server`, with `ANTHROPIC_BASE_URL` / `ANTHROPIC_API_KEY` pointing at it for this test."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", claude_server.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "local-test-key")
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    return claude_server
