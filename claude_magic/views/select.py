"""Choosing the view for the current front end: live widgets, a refreshed display, or the terminal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..core.events import Event
from ..core.settings import ViewOptions

__all__ = ["make_view", "session_view", "frontend_kind", "use_stream_widget"]


def frontend_kind(shell: Any = None) -> str:
    """terminal, widgets (a kernel whose front end can ask the user: JupyterLab, Notebook, VS Code),
    kernel (a kernel run headless, e.g. nbclient/nbconvert) or none."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return "none"
        shell = get_ipython()
    if shell is None:
        return "none"
    kernel = getattr(shell, "kernel", None)
    if type(shell).__name__ == "TerminalInteractiveShell" or kernel is None:
        return "terminal"
    # Headless runners send execute requests with allow_stdin=False; interactive front ends allow stdin.
    return "widgets" if getattr(kernel, "_allow_stdin", False) and _has_widgets() else "kernel"


def _has_widgets() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def use_stream_widget(stream: bool = True) -> bool:
    """Whether live views use the append-only stream widget: `stream` (the session's
    `view_options.stream_widget`, `%config ClaudeMagic.stream_widget`) and anywidget importable; otherwise
    the stock-ipywidgets view."""
    from .stream_widget import stream_widget_available

    return bool(stream) and stream_widget_available()


def session_view(session: Any, shell: Any = None) -> Callable[[Event], None] | None:
    """The view for the current front end, with the display choices of `session.view_options`."""
    options: ViewOptions = session.view_options
    return make_view(shell, live=options.live, thinking_open=options.thinking_open, stream=options.stream_widget)


def make_view(shell: Any = None, *, live: bool = True, thinking_open: bool = False,
              stream: bool = True) -> Callable[[Event], None] | None:
    """The event consumer that paints a turn where the user is looking (`live=False`: no widgets;
    `stream=False`: stock widgets instead of the append-only stream widget)."""
    kind = frontend_kind(shell)
    if kind == "terminal":
        from .terminal import TerminalView

        return TerminalView()
    if kind == "widgets" and live:
        from IPython import get_ipython

        from .live import LiveView

        if use_stream_widget(stream):
            from .stream_view import StreamView

            return StreamView(thinking_open=thinking_open, shell=shell or get_ipython())
        return LiveView(thinking_open=thinking_open, shell=shell or get_ipython())
    if kind in ("widgets", "kernel"):
        from .display import DisplayView

        return DisplayView(thinking_open=thinking_open)
    return None
