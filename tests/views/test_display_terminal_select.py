"""display.py, terminal.py and select.py: the views for front ends without widgets, and choosing a view."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

from claude_magic.views.display import DisplayView
from claude_magic.views.live import LiveView
from claude_magic.views.select import frontend_kind, make_view
from claude_magic.views.terminal import TerminalView

from .helpers import XSS_TEXT, assert_inert, text_turn, tool_turn


def test_display_view_ends_with_the_static_bundle(shell: Any) -> None:
    view = DisplayView(interval=0)
    assert shell.display_pub.outputs == []
    for event in text_turn(XSS_TEXT + "\n\nDone.", thinking="Hmm."):
        view(event)
    outputs = shell.display_pub.outputs
    assert outputs[0]["data"] == {"text/plain": "Claude is answering…"}
    assert any("Answer start." in output["data"].get("text/markdown", "") for output in outputs[1:-1])
    final = outputs[-1]
    assert final["update"] and set(final["data"]) == {"text/html", "text/markdown", "text/plain"}
    assert "Done." in final["data"]["text/html"] and "claude-magic-thinking" in final["data"]["text/html"]
    assert final["metadata"]["claude_magic"]["usage"]["output_tokens"] == 345
    assert_inert(final["data"]["text/html"])


def test_terminal_view_prints_text_marks_thinking_and_ends_with_the_footer() -> None:
    stream = io.StringIO()
    view = TerminalView(stream, color=False)
    for event in text_turn("Hello *there*.", thinking="Pondering.", size=3):
        view(event)
    for event in tool_turn():
        view(event)
    printed = stream.getvalue()
    assert "[thinking] Pondering." in printed
    assert "Hello *there*." in printed
    assert "[tool call: run_python]" in printed and "[run_python: done, 0.25 s]" in printed
    assert "345 out" in printed and "end_turn" in printed


def test_terminal_view_dims_thinking_on_a_colour_terminal() -> None:
    stream = io.StringIO()
    view = TerminalView(stream, color=True)
    for event in text_turn("Answer", thinking="Pondering."):
        view(event)
    printed = stream.getvalue()
    assert printed.startswith("\x1b[2m[thinking] ")
    assert "Pondering." in printed.replace("\x1b[0m", "").replace("\x1b[2m", "")
    assert "\x1b[2m" not in printed.split("Answer")[1].split("\n\n")[0]       # the answer is not dimmed


def test_select_picks_a_view_for_each_front_end(shell: Any) -> None:
    assert frontend_kind(shell) == "terminal"
    assert isinstance(make_view(shell), TerminalView)
    interactive = SimpleNamespace(kernel=SimpleNamespace(_allow_stdin=True), events=shell.events)
    headless = SimpleNamespace(kernel=SimpleNamespace(_allow_stdin=False))
    assert frontend_kind(interactive) == "widgets"
    assert frontend_kind(headless) == "kernel"
    assert isinstance(make_view(interactive), LiveView)
    assert isinstance(make_view(interactive, live=False), DisplayView)
    assert isinstance(make_view(headless), DisplayView)
