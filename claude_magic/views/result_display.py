"""How a `TurnResult` shows as a cell's value: its answer as inert Markdown and sanitized HTML (set into core's hook)."""

from __future__ import annotations

from ..core.results import RICH_REPRS

__all__ = ["show_results_richly"]


def show_results_richly() -> None:
    """Give `TurnResult` its rich reprs (the front door calls this before a turn; renderers load on first display)."""
    RICH_REPRS.setdefault("text/markdown", _markdown)
    RICH_REPRS.setdefault("text/html", _html)


def _markdown(text: str) -> str:
    from .inert_markdown import inert_markdown

    return inert_markdown(text)


def _html(text: str) -> str:
    from .render import render_markdown

    return render_markdown(text)
