"""Recorded API streams (every block type the fixtures hold) through the real SDK and agent into each view:
something sensible is shown and the turn ends with the static output, never an exception."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from claude_magic.core.settings import Settings
from claude_magic.session import Session
from claude_magic.testing import LocalServer, Replay
from claude_magic.views.display import DisplayView
from claude_magic.views.live import LiveView
from claude_magic.views.terminal import TerminalView

from .helpers import assert_inert

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "anthropic-sdk-python"
STREAMS = sorted([*FIXTURES.glob("streaming/*.txt"), *FIXTURES.glob("fable-fallback/*.sse")])


@pytest.fixture
def session(claude_server: LocalServer) -> Session:
    return Session(Settings(base_url=claude_server.base_url, max_retries=0, max_steps=1,
                            context_window_check=False))


@pytest.mark.parametrize("stream", STREAMS, ids=[path.name for path in STREAMS])
def test_every_recorded_stream_ends_with_a_static_output(stream: Path, session: Session, shell: Any,
                                                         claude_server: LocalServer) -> None:
    for make in (lambda: LiveView(interval=0, shell=shell), lambda: DisplayView(interval=0)):
        claude_server.queue(Replay(stream))
        shell.display_pub.outputs.clear()
        result = session.ask("Tell me something.", emit=make())
        final = shell.display_pub.outputs[-1]
        assert final["update"] and "text/html" in final["data"]
        html = final["data"]["text/html"]
        assert html.startswith('<div class="claude-magic-output">')
        assert (result.stop_reason or result.status) in html            # the footer
        for block in result.content:
            if block.get("type") == "text" and block["text"].strip():
                assert block["text"].split()[0] in html
        assert_inert(html)
    claude_server.queue(Replay(stream))
    printed = io.StringIO()
    session.ask("Tell me something.", emit=TerminalView(printed, color=False))
    assert printed.getvalue().strip()
