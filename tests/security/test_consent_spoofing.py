"""Consent shows exactly what runs: control, bidi and zero-width characters in a tool call are shown as escapes.

A hostile answer can hide what its code does from the person asked to approve it: `\\x1b[2K\\x1b[1G` erases
the line in a terminal (and ANSI colours hide text in Jupyter's stdout), `\\u202e` reverses what follows, a
zero-width space makes two names look alike. Every place that shows a call before or while it runs (the
console prompt in a real kernel, the chat panel's consent box, the tool cards, the terminal view) must show
those characters as visible escapes and say how many there are.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from claude_magic.session import Session
from claude_magic.testing import LocalServer, Reply, text, tool_use
from claude_magic.tools import ToolCall, default_toolbox
from claude_magic.views.terminal import TerminalView
from claude_magic.views.transcript import Transcript

from ..helpers import LIMIT, wait_until
from ..kernel.kernel_driver import claude_kernel
from ..reliability.conftest import panel_settings
from ..views.helpers import tool_turn

# Every kind of character that may not reach the screen as it is (newline and tab are fine).
HIDDEN = ["\x1b", "\x07", "\r", "\x00", "\x7f", "\x9b", "\u202e", "\u202a", "\u2066", "\u2069", "\u200e", "\u200f",
          "\u061c", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
ESCAPES = ["\\x1b", "\\x07", "\\r", "\\x00", "\\x7f", "\\x9b", "\\u202e", "\\u202a", "\\u2066", "\\u2069",
           "\\u200e", "\\u200f", "\\u061c", "\\u200b", "\\u200c", "\\u200d", "\\u2060", "\\ufeff", "\\xad"]


def spoofing_code(marker: Path) -> str:
    """Code whose first line would be erased in a terminal, leaving only the harmless-looking print."""
    return (f"open({str(marker)!r}, 'w').write('pwned')  #\x1b[2K\x1b[1G    print('hello')\n"
            "x = 1  # " + "".join(HIDDEN) + "\n")


def assert_shown_as_escapes(shown: str, *, count: int) -> None:
    raw = [char for char in HIDDEN if char != "\r" and char in shown] + (["\r"] if "\r" in shown else [])
    assert not raw, f"raw characters reached the user: {[hex(ord(char)) for char in raw]}"
    for escape in ESCAPES:
        assert escape in shown, f"{escape} is not shown"
    assert f"contains {count} hidden/control characters, shown as escapes" in shown, shown


def hidden_in(code: str) -> int:
    return sum(code.count(char) for char in HIDDEN)


def test_the_console_prompt_in_a_real_kernel_shows_escapes(claude_server: LocalServer, tmp_path: Path) -> None:
    """A real kernel asking on stdin: what it prints before `Run run_python? [y/N]` has no raw control
    character, every one is an escape, and a line says how many; the user says no and nothing runs."""
    marker = tmp_path / "pwned.txt"
    code = spoofing_code(marker)
    claude_server.queue(Reply(tool_use("run_python", {"code": code})), Reply(text("Declined.")))
    prompts: list[str] = []

    def answer(request: dict[str, Any]) -> str:
        prompts.append(request["content"]["prompt"])
        return "n"

    with claude_kernel(claude_server.base_url) as kernel:
        messages = kernel.execute("%%claude\nSay hello.", stdin=answer)
    streamed = "".join(message["content"]["text"] for message in messages if message["msg_type"] == "stream")
    assert "Claude wants to run the tool `run_python`" in streamed, streamed
    assert prompts and all(not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", prompt) for prompt in prompts), prompts
    assert_shown_as_escapes(streamed, count=hidden_in(code))
    assert "print('hello')" in streamed and "open(" in streamed
    assert not marker.exists()


def test_the_chat_panel_consent_box_shows_escapes(claude_server: LocalServer, tmp_path: Path) -> None:
    from claude_magic.panel import ChatPanel

    marker = tmp_path / "panel.txt"
    code = spoofing_code(marker)
    chat = ChatPanel(Session(panel_settings(claude_server, max_retries=0), toolbox=default_toolbox()))
    try:
        assert chat.wait(LIMIT)
        claude_server.queue(Reply(tool_use("run_python", {"code": code})), Reply(text("Ok.")))
        chat.send("Say hello.")
        wait_until(lambda: chat.consent.pending, "the consent request")
        shown = chat.consent.request.value
        chat.consent.click(False)
        assert chat.wait(LIMIT)
    finally:
        chat.close()
    assert_shown_as_escapes(shown, count=hidden_in(code))
    assert not marker.exists()


def test_other_arguments_of_a_call_show_escapes_too() -> None:
    from claude_magic.panel.consent import request_html
    from claude_magic.tools.consent import format_request

    call = ToolCall("toolu_1", "write_file", {"path": "notes\u202etxt.exe", "content": "a\x1b[8mhidden\x1b[0m"})
    for shown in (format_request(call), request_html(call)):
        assert "\u202e" not in shown and "\x1b" not in shown, shown
        assert "\\u202e" in shown and ("\\x1b" in shown or "\\u001b" in shown)
        assert "contains 3 hidden/control characters, shown as escapes" in shown


def test_tool_cards_and_the_terminal_view_show_escapes(tmp_path: Path) -> None:
    from claude_magic.views.cards import tool_card_html

    code = spoofing_code(tmp_path / "card.txt")
    events = tool_turn(arguments={"code": code}, output="done\x1b]52;c;ZXZpbA==\x07")
    transcript = Transcript()
    for event in events:
        transcript.apply(event)
    [card] = [part for part in transcript.parts if part.kind == "tool"]
    html = tool_card_html(card, result_open=True)
    assert_shown_as_escapes(html, count=hidden_in(code))
    assert "\\x1b]52" in html                       # the result, too (an OSC 52 clipboard write)

    stream = io.StringIO()
    view = TerminalView(stream, color=False)
    hostile_events = tool_turn(name="run\x1b[2Kpython", arguments={"code": code})
    for event in hostile_events:
        view(event)
    printed = stream.getvalue()
    assert "\x1b" not in printed and "\\x1b[2K" in printed, printed
