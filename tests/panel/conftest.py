"""Fixtures for the panel tests: a session on the local Messages API server and a panel on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from claude_magic.panel import ChatPanel
from claude_magic.session import Session
from claude_magic.testing import LocalServer
from claude_magic.tools import Toolbox

from ..helpers import local_settings, open_panel


@pytest.fixture
def toolbox() -> Toolbox:
    return Toolbox()


@pytest.fixture
def session(claude_server: LocalServer, toolbox: Toolbox) -> Session:
    return Session(local_settings(claude_server), toolbox=toolbox)


@pytest.fixture
def panel(session: Session) -> Iterator[ChatPanel]:
    with open_panel(session) as chat:
        yield chat


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
