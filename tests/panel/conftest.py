"""Fixtures for the panel tests: a session on the local Messages API server and a panel on it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from claude_magic.panel import ChatPanel
from claude_magic.session import Session
from claude_magic.settings import Settings
from claude_magic.testing import LocalServer
from claude_magic.tools import Toolbox

MODEL = "claude-sonnet-5-5"
LIMIT = 30.0          # seconds: a safety net for waits, never a timing assertion


@pytest.fixture
def toolbox() -> Toolbox:
    return Toolbox()


@pytest.fixture
def session(claude_server: LocalServer, toolbox: Toolbox) -> Session:
    settings = Settings(base_url=claude_server.base_url, model=MODEL, max_retries=0, tool_timeout=30.0)
    return Session(settings, toolbox=toolbox)


@pytest.fixture
def panel(session: Session) -> Iterator[ChatPanel]:
    chat = ChatPanel(session)
    assert chat.wait(LIMIT)
    yield chat
    chat.close()


def wait_until(condition: Callable[[], object], what: str) -> None:
    """Poll `condition` until true (fails after LIMIT seconds: a hang, not a slow run)."""
    deadline = time.monotonic() + LIMIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def live_text(chat: ChatPanel) -> str:
    """The running turn's answer so far ("" between turns)."""
    view = chat.live_view
    if view is None:
        return ""
    with view.pacer.lock:        # the stream thread folds deltas in under this lock
        return view.transcript.text


def entry_html(chat: ChatPanel) -> list[str]:
    """The HTML of each turn drawn in the message list."""
    return [widget.value for widget in chat.messages.children if hasattr(widget, "value")]
