"""Choosing the view for the current front end (terminal, notebook with or without widgets)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..events import Event

__all__ = ["make_view", "frontend_kind"]


def frontend_kind(shell: Any = None) -> str:
    """terminal, kernel or none."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return "none"
        shell = get_ipython()
    if shell is None:
        return "none"
    name = type(shell).__name__
    if name == "TerminalInteractiveShell":
        return "terminal"
    return "kernel" if getattr(shell, "kernel", None) is not None else "terminal"


def make_view(shell: Any = None, *, live: bool = True) -> Callable[[Event], None] | None:
    """The event consumer that paints a turn where the user is looking."""
    kind = frontend_kind(shell)
    if kind == "terminal":
        from .terminal import TerminalView

        return TerminalView()
    if kind == "kernel":
        from .display import DisplayView

        return DisplayView()
    return None
