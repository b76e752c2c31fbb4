"""The three places a turn runs in the fault matrix: a `%%claude` cell, a tool loop in a cell, the chat panel.

Each place runs one prompt and reports what the user saw (`Seen`): the turn's result, the visible text
(terminal output, or the panel's status line and message list as text), and how many requests reached
the server.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from claude_magic.core.results import TurnResult
from claude_magic.testing import LocalServer, Reply, text, tool_use

from ..helpers import LIMIT
from .conftest import run_cell

__all__ = ["Seen", "Place", "CellPlace", "ToolLoopPlace", "PanelPlace", "TOOL_RESULT"]

TOOL_RESULT = "lookup says 42"
_TAG = re.compile(r"<[^>]+>")


@dataclass
class Seen:
    """What one turn left: its result, the text the user saw, the requests it made."""

    result: TurnResult | None
    shown: str
    requests: int

    def lines_with(self, needle: str) -> list[str]:
        return [line for line in self.shown.splitlines() if needle in line]


class Place:
    """Where a turn runs; `hook` (if set) fires at the failing point: before the request that fails."""

    name = ""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.hook: Callable[[], None] | None = None

    def set_timeout(self, seconds: float) -> None:
        raise NotImplementedError

    def ask(self, prompt: str, *items: Any) -> Seen:
        """Queue `items` for the request(s) that answer this prompt, fire the hook, run the turn."""
        raise NotImplementedError

    def conversation_messages(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _requests(self) -> int:
        return len(self.server.message_requests)


class CellPlace(Place):
    """A `%%claude` cell in a real IPython shell (terminal view: what it prints is what the user sees)."""

    name = "cell"

    def __init__(self, server: LocalServer, shell: Any, capsys: Any) -> None:
        super().__init__(server)
        self.shell = shell
        self.capsys = capsys

    @property
    def magic(self) -> Any:
        return self.shell.magics_manager.registry["ClaudeMagic"]

    def set_timeout(self, seconds: float) -> None:
        self.magic.timeout = seconds

    def session(self) -> Any:
        import claude_magic

        return claude_magic.get_session()

    def ask(self, prompt: str, *items: Any) -> Seen:
        self.capsys.readouterr()
        before = self._requests()
        before_last = self.session().last
        self.server.queue(*items)
        if self.hook is not None:
            self.hook()
        run_cell(self.shell, f"%%claude\n{prompt}")
        out = self.capsys.readouterr()
        last = self.session().last
        return Seen(last if last is not before_last else None, out.out + out.err, self._requests() - before)

    def conversation_messages(self) -> list[dict[str, Any]]:
        return self.session().conversation().messages


class ToolLoopPlace(CellPlace):
    """A `%%claude` cell whose first step calls a tool; the fault hits the step after the tool call."""

    name = "tool loop"

    def ask(self, prompt: str, *items: Any) -> Seen:
        hook, self.hook = self.hook, None
        toolbox = self.session().toolbox

        def lookup(key: str) -> str:
            """Look a key up."""
            if hook is not None:
                hook()
            return TOOL_RESULT

        if "lookup" not in toolbox:
            toolbox.tool(name="lookup")(lookup)
        try:
            return super().ask(prompt, Reply(text("Let me look that up."), tool_use("lookup", {"key": "x"})), *items)
        finally:
            toolbox.remove("lookup")
            self.hook = hook


class PanelPlace(Place):
    """The chat panel, driven in-process; what the user sees is its status line and its message list."""

    name = "panel"

    def __init__(self, server: LocalServer, panel: Any) -> None:
        super().__init__(server)
        self.panel = panel

    def set_timeout(self, seconds: float) -> None:
        from dataclasses import replace

        self.panel.session.settings = replace(self.panel.session.settings, timeout=seconds)

    def ask(self, prompt: str, *items: Any) -> Seen:
        before = self._requests()
        before_last = self.panel.last_result
        self.server.queue(*items)
        if self.hook is not None:
            self.hook()
        self.panel.send(prompt)
        assert self.panel.wait(LIMIT), "the panel's turn did not end"
        entries = [child.value for child in self.panel.messages.children if hasattr(child, "value")]
        shown = "\n".join([self.panel.status.value, *entries])
        visible = html.unescape(_TAG.sub("\n", shown))
        last = self.panel.last_result
        return Seen(last if last is not before_last else None, visible, self._requests() - before)

    def conversation_messages(self) -> list[dict[str, Any]]:
        return self.panel.session.conversation().messages
