"""Allow / Deny buttons in the panel: the consent approver of tool calls whose policy is "ask".

`ask(call)` runs on the worker thread (inside the turn) and blocks until a button is clicked (main
thread) or the turn is stopped; it never answers "yes" by itself.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from ..core.cancellation import Cancellation
from ..core.hidden_text import hidden_notice, reveal
from ..tools.consent import requester
from ..tools.context import ToolCall
from ..views.render import code_block, escape
from ..views.widgets import close_widget

__all__ = ["ConsentBox"]

_POLL = 0.1
_WARNING = "color: #b60; margin: 0.3em 0"
_BOX = "border: 1px solid #d9a400; border-radius: 4px; padding: 0.3em 0.6em; background: rgba(255, 200, 0, 0.08)"


def request_html(call: ToolCall) -> str:
    """The call as the user reads it before deciding: the tool's name, then every argument in full."""
    arguments = dict(call.input)
    code = arguments.pop("code", None)
    body = code_block(code, "python") if isinstance(code, str) else ""
    if arguments or not body:
        body += code_block(json.dumps(arguments, indent=2, ensure_ascii=False, default=repr), "json")
    notice = hidden_notice(call.input, "This code" if isinstance(code, str) else "This call")
    warning = f'<div style="{_WARNING}"><b>{escape(notice)}</b></div>' if notice else ""
    return (f'<div style="{_BOX}"><b>{escape(requester(call))} wants to run <code>{escape(reveal(call.name))}</code>'
            f"</b> — allow it?{warning}{body}</div>")


class ConsentBox:
    """A hidden box that shows one request at a time with Allow / Deny (fresh buttons per request, so a
    late second click on an old request can never answer the next one)."""

    def __init__(self) -> None:
        import ipywidgets

        self._widgets = ipywidgets
        self.request = ipywidgets.HTML()
        self.buttons = ipywidgets.HBox([])
        self.widget = ipywidgets.VBox([self.request, self.buttons], layout=ipywidgets.Layout(display="none"))
        self.widget.add_class("claude-magic-consent")
        self._lock = threading.Lock()
        self._current: _Request | None = None

    @property
    def pending(self) -> bool:
        return self._current is not None

    def approver(self, cancellation: Cancellation | None) -> Any:
        """The `ToolContext.approver` for one turn."""
        return lambda call: self.ask(call, cancellation)

    def ask(self, call: ToolCall, cancellation: Cancellation | None = None) -> bool:
        """Show the request and wait for a click; Stop raises KeyboardInterrupt (the turn ends)."""
        request = _Request(self._widgets)
        old = self.buttons.children
        self.request.value = request_html(call)
        self.buttons.children = (request.allow, request.deny)
        for button in old:
            close_widget(button)
        self.widget.layout.display = "flex"
        with self._lock:
            self._current = request       # pending from here on: the request and its buttons are shown
        try:
            while not request.answered.wait(_POLL):
                if cancellation is not None and cancellation.cancelled:
                    raise KeyboardInterrupt
            return request.answer is True
        finally:
            with self._lock:
                self._current = None
            self.widget.layout.display = "none"

    def click(self, answer: bool) -> bool:
        """Answer the request on show (as its button would); returns whether one was waiting."""
        with self._lock:
            request = self._current
        return request is not None and request.decide(answer)

    def close(self) -> None:
        self.click(False)
        for widget in (*self.buttons.children, self.buttons, self.request, self.widget):
            close_widget(widget)


class _Request:
    """One request's buttons and answer."""

    def __init__(self, widgets: Any) -> None:
        self.answer: bool | None = None
        self.answered = threading.Event()
        self._lock = threading.Lock()
        self.allow = widgets.Button(description="Allow", button_style="success", icon="check",
                                    tooltip="Run this tool call")
        self.deny = widgets.Button(description="Deny", button_style="danger", icon="times",
                                   tooltip="Do not run it; Claude is told you declined")
        self.allow.add_class("claude-magic-allow")
        self.deny.add_class("claude-magic-deny")
        self.allow.on_click(lambda _button: self.decide(True))
        self.deny.on_click(lambda _button: self.decide(False))

    def decide(self, answer: bool) -> bool:
        """The first click wins (main thread); returns whether it was the first."""
        with self._lock:
            if self.answered.is_set():
                return False
            self.answer = answer
            self.answered.set()
        self.allow.disabled = self.deny.disabled = True
        return True
