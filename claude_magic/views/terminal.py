"""Terminal IPython: print the answer as it streams, thinking dimmed, footer at the end."""

from __future__ import annotations

import sys
from typing import TextIO

from ..core.events import (
    BlockFinished,
    BlockStarted,
    Event,
    Notice,
    TextDelta,
    ThinkingDelta,
    ToolCallFinished,
    TurnFinished,
)
from ..core.hidden_text import reveal
from .citations import SourceList, markers_markdown, sources_markdown
from .footer import footer_text
from .web_cards import web_card_markdown

__all__ = ["TerminalView"]

DIM, RED, RESET = "\x1b[2m", "\x1b[31m", "\x1b[0m"


class TerminalView:
    """Writes deltas straight to a text stream."""

    def __init__(self, stream: TextIO | None = None, color: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.color = self.stream.isatty() if color is None else color
        self.sources = SourceList()                  # cited pages and documents, numbered (citations.py)

    def _write(self, text: str, style: str = "", *, invisible: bool = True) -> None:
        """Untrusted text with its control characters as escapes (an answer could otherwise erase lines,
        recolour or retitle the terminal, or write to its clipboard), then our own colour around it."""
        text = reveal(text, invisible=invisible)
        self.stream.write(f"{style}{text}{RESET}" if style and self.color and text else text)

    def __call__(self, event: Event) -> None:
        write = self._write
        if isinstance(event, TextDelta):
            write(event.text, invisible=False)           # bidi and joiners have honest uses in prose
        elif isinstance(event, ThinkingDelta):
            write(event.thinking, DIM, invisible=False)
        elif isinstance(event, BlockStarted):
            if event.block_type == "thinking":
                write("[thinking] ", DIM)
            elif event.block_type == "redacted_thinking":
                write("[some thinking was redacted]\n", DIM)
            elif event.block_type == "tool_use":
                write(f"[tool call: {event.block.get('name')}] ", DIM)
        elif isinstance(event, BlockFinished):
            numbers = self.sources.numbers(event.block.get("citations")) if event.block.get("type") == "text" else ()
            if numbers:
                write(markers_markdown(numbers))
            web = web_card_markdown(event.block)
            if web is not None:
                write(web.replace("*", "") + "\n", DIM)
            write("\n\n" if event.block.get("type") in ("text", "thinking", "tool_use") else "")
        elif isinstance(event, ToolCallFinished):
            write(f"[{event.name}: {event.status}, {event.duration:.2f} s]\n", DIM)
        elif isinstance(event, Notice):
            write(f"{event.text}\n", RED if event.level == "warning" else DIM)
        elif isinstance(event, TurnFinished):
            result = event.result
            if result.marker:
                write(f"\n{result.marker}\n", RED)
            listed = sources_markdown(self.sources)
            if listed:
                write(listed.replace("**", "") + "\n", DIM)
            self.sources = SourceList()
            write(footer_text(result) + "\n", DIM)
        self.stream.flush()
