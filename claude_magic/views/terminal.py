"""Terminal IPython: print the answer as it streams, thinking dimmed, footer at the end."""

from __future__ import annotations

import sys
from typing import TextIO

from ..events import (
    BlockFinished,
    BlockStarted,
    Event,
    Notice,
    TextDelta,
    ThinkingDelta,
    ToolCallFinished,
    TurnFinished,
)
from .footer import footer_text

__all__ = ["TerminalView"]

DIM, RED, RESET = "\x1b[2m", "\x1b[31m", "\x1b[0m"


class TerminalView:
    """Writes deltas straight to a text stream."""

    def __init__(self, stream: TextIO | None = None, color: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.color = self.stream.isatty() if color is None else color

    def _style(self, text: str, style: str) -> str:
        return f"{style}{text}{RESET}" if self.color else text

    def __call__(self, event: Event) -> None:
        write = self.stream.write
        if isinstance(event, TextDelta):
            write(event.text)
        elif isinstance(event, ThinkingDelta):
            write(self._style(event.thinking, DIM))
        elif isinstance(event, BlockStarted):
            if event.block_type == "thinking":
                write(self._style("[thinking] ", DIM))
            elif event.block_type == "redacted_thinking":
                write(self._style("[some thinking was redacted]\n", DIM))
            elif event.block_type == "tool_use":
                write(self._style(f"[tool call: {event.block.get('name')}] ", DIM))
        elif isinstance(event, BlockFinished):
            write("\n\n" if event.block.get("type") in ("text", "thinking", "tool_use") else "")
        elif isinstance(event, ToolCallFinished):
            write(self._style(f"[{event.name}: {event.status}, {event.duration:.2f} s]\n", DIM))
        elif isinstance(event, Notice):
            write(self._style(f"{event.text}\n", RED if event.level == "warning" else DIM))
        elif isinstance(event, TurnFinished):
            result = event.result
            if result.marker:
                write(self._style(f"\n{result.marker}\n", RED))
            write(self._style(footer_text(result) + "\n", DIM))
        self.stream.flush()
