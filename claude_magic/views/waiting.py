"""The first paint of a cell: the header and spinner, shown before the turn's heavy imports.

A new kernel's first `%%claude` cell imports the SDK, ipywidgets and the Markdown renderer before the view
can show anything (over a second). `paint_waiting` shows the waiting header at once with a plain
`display(..., display_id=True)` (no widgets); the view that shows the turn takes that output over
(`show`), so the cell still ends with one output. Once a turn has been shown, cells paint fast by
themselves and nothing is painted ahead. This module imports nothing heavy.
"""

from __future__ import annotations

import contextlib
import html
import sys
from typing import Any

__all__ = ["SPINNER", "MUTED", "waiting_header_html", "paint_waiting", "show"]

MUTED = "opacity: 0.7"
SPINNER = (
    "<style>@keyframes claude-magic-spin { to { transform: rotate(360deg) } }</style>"
    '<span class="claude-magic-spinner" style="display: inline-block; width: 0.8em; height: 0.8em; '
    "margin-right: 0.4em; vertical-align: -0.1em; border: 2px solid rgba(128, 128, 128, 0.6); "
    'border-top-color: transparent; border-radius: 50%; animation: claude-magic-spin 0.8s linear infinite">'
    "</span>"
)
# Imported by every view of a notebook turn: once they are loaded, a view paints within milliseconds.
_WARM = ("anthropic", "claude_magic.views.static")

_waiting: Any = None        # the display handle painted ahead, until a view takes it over


def waiting_header_html(model: str, seconds: int) -> str:
    """The header while no token has arrived: spinner, model, seconds waited."""
    return (f'<div style="{MUTED}">{SPINNER}<b>{html.escape(model or "Claude")}</b> · waiting for the first '
            f"token · {seconds} s</div>")


def paint_waiting(shell: Any, model: str) -> None:
    """In a kernel whose first turn is still to come, show the waiting header now (a terminal: nothing)."""
    global _waiting
    if shell is None or getattr(shell, "kernel", None) is None or type(shell).__name__ == "TerminalInteractiveShell":
        return
    if all(name in sys.modules for name in _WARM):
        return
    from IPython.display import display

    _drop()
    _waiting = display({"text/html": waiting_header_html(model, 0), "text/plain": "Claude is answering…"},
                       raw=True, display_id=True)
    shell.events.register("post_run_cell", _cell_done)


def show(data: dict[str, Any], metadata: dict[str, Any] | None = None) -> Any:
    """Display `data` as the turn's output (in the output painted ahead, if any); returns its handle."""
    global _waiting
    handle, _waiting = _waiting, None
    if handle is None:
        from IPython.display import display

        return display(data, metadata=metadata or {}, raw=True, display_id=True)
    handle.update(data, metadata=metadata or {}, raw=True)
    return handle


def _drop() -> None:
    """An output painted ahead that no view took over (the cell failed first) is emptied."""
    global _waiting
    handle, _waiting = _waiting, None
    if handle is not None:
        handle.update({"text/plain": ""}, raw=True)


def _cell_done(*_args: Any) -> None:
    from IPython import get_ipython

    _drop()
    shell = get_ipython()
    if shell is not None:
        with contextlib.suppress(ValueError):
            shell.events.unregister("post_run_cell", _cell_done)
