"""The chat panel on the Claude Code engine (driven without a browser, as tests/panel does): streaming, the consent
buttons for a kernel tool, Stop, and `claude_magic.chat(engine="claude-code")` in a real shell."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from claude_magic import session as session_module
from claude_magic.session import Session
from claude_magic.testing import LocalServer, Reply, text, tool_use
from claude_magic.tools import Toolbox

from ..helpers import LIMIT, MODEL, wait_until
from ..panel.conftest import entry_html, live_text
from .conftest import cc_settings, cli_env

SLOW = " ".join(f"word{number}" for number in range(300))


@pytest.fixture(scope="module")
def panel_session(cc_server: LocalServer, cc_home: str) -> Iterator[Session]:
    """A session whose own engine is the API one: the panel's `engine="claude-code"` must choose Claude Code."""
    toolbox = Toolbox()

    @toolbox.tool(consent="ask")
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    session = Session(cc_settings(cc_server, cc_home, engine="api"), toolbox=toolbox)
    yield session
    session.close()


def test_the_panel_streams_asks_consent_and_stops_on_claude_code(panel_session: Session, script: Any) -> None:
    from claude_magic.panel import ChatPanel

    chat = ChatPanel(panel_session, conversation="panel", engine="claude-code")
    try:
        assert chat.wait(LIMIT)
        script.queue(Reply(tool_use("mcp__claude-magic__add", {"a": 2, "b": 3}, id="toolu_panel_1")),
                     Reply(text("The sum is **5**.")))
        chat.send("Add 2 and 3")
        wait_until(lambda: chat.consent.pending, "the consent request")
        assert "Claude wants to run <code>add</code>" in chat.consent.request.value
        allow, _deny = chat.consent.buttons.children
        allow.click()
        assert chat.wait(LIMIT)
        result = chat.last_result
        assert result is not None and result.status == "complete", chat.error
        assert result.engine == "claude-code" and result.text == "The sum is **5**."
        drawn = entry_html(chat)[-1]
        assert "The sum is <strong>5</strong>." in drawn and "claude-code" in drawn      # footer names the engine
        assert "5" in str(script.main_requests()[-1]["messages"][-1])                   # the tool result went back
        pid = panel_session.engines["claude-code"].clients["panel"].pid

        script.queue(Reply(text(SLOW), chunk=6, delay=0.02))
        chat.send("Count slowly")
        wait_until(lambda: "word5" in live_text(chat), "the answer to stream")
        chat.stop_button.click()
        assert chat.wait(LIMIT)
        assert chat.last_result is not None and chat.last_result.status == "interrupted"
        assert "word5" in entry_html(chat)[-1]                                           # the partial answer stays

        chat.send("Still there?")
        assert chat.wait(LIMIT)
        assert chat.last_result is not None and chat.last_result.status == "complete", chat.error
        assert panel_session.engines["claude-code"].clients["panel"].pid == pid          # one CLI throughout
        assert "Add 2 and 3" in str(script.main_requests()[-1]["messages"])
        assert "api" not in panel_session.engines                                        # nothing went to the API
    finally:
        chat.close()


@pytest.fixture
def configured_shell(ipython_shell: Any, cc_server: LocalServer, cc_home: str) -> Iterator[Any]:
    """The real shell with `%config ClaudeMagic.claude_code_env` (the engine itself left at auto)."""
    session_module._session = None
    magic = ipython_shell.magics_manager.registry["ClaudeMagic"]
    saved = {name: copy.copy(getattr(magic, name)) for name in ("model", "claude_code_env")}
    magic.model, magic.claude_code_env = MODEL, cli_env(cc_server, cc_home)
    yield ipython_shell
    for name, value in saved.items():
        setattr(magic, name, value)
    if session_module._session is not None:
        session_module._session.close()
    session_module._session = None


def test_chat_with_engine_claude_code_in_a_shell(configured_shell: Any, script: Any) -> None:
    """`claude_magic.chat(engine="claude-code")` as a notebook's first cell, then a `%%claude` cell sharing it."""
    configured_shell.run_cell("import claude_magic\npanel = claude_magic.chat(engine='claude-code')")
    panel = configured_shell.user_ns["panel"]
    try:
        assert panel.wait(LIMIT)
        script.queue(Reply(text("Answered from the panel.")))
        panel.send("Hello from the panel")
        assert panel.wait(LIMIT)
        assert panel.last_result is not None and panel.last_result.status == "complete", panel.error
        assert panel.last_result.engine == "claude-code"
        assert configured_shell.run_cell("%%claude --engine claude-code\nAnd from a cell?").success
        session = session_module._session
        assert session is not None and session.last.engine == "claude-code"
        assert [turn.prompt for turn in session.conversation().turns] == ["Hello from the panel", "And from a cell?"]
        assert "Hello from the panel" in str(script.main_requests()[-1]["messages"])  # one Claude Code session
    finally:
        panel.close()
        configured_shell.user_ns.pop("panel", None)
