"""The turn as it arrives, folded from events into ordered parts (the data every view paints)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from ..core.events import (
    BlockFinished,
    BlockStarted,
    ConsentRequested,
    Event,
    Notice,
    StepFinished,
    TextDelta,
    ThinkingDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolInputDelta,
    TurnFinished,
    TurnStarted,
)
from ..core.results import TurnResult
from .citations import SourceList

__all__ = ["Part", "Transcript"]


@dataclass
class Part:
    """One content block or tool card; text grows by appending chunks (joined lazily)."""

    kind: str                                   # text, thinking, redacted_thinking, tool, notice, other
    chunks: list[str] = field(default_factory=list)
    block: dict[str, Any] = field(default_factory=dict)
    finished: bool = False
    tool_status: str = ""                       # streaming, waiting, running, done, failed, denied, ...
    tool_output: str = ""
    tool_duration: float = 0.0
    tool_display: tuple[Any, ...] = ()
    cites: tuple[int, ...] = ()                 # the turn's source numbers this text block cites (citations.py)

    @property
    def text(self) -> str:
        """The text so far. Safe while the stream thread appends: chunks added meanwhile are kept."""
        chunks = self.chunks
        count = len(chunks)
        if count > 1:
            joined = "".join(chunks[:count])
            chunks[:count] = [joined]       # one list operation: atomic under the GIL
            return joined
        return chunks[0] if count else ""


class Transcript:
    """Folds events into parts; O(1) per delta. One thread applies events; painters may read meanwhile."""

    def __init__(self) -> None:
        self.parts: list[Part] = []
        self._by_index: dict[tuple[int, int], Part] = {}
        self._tools: dict[str, Part] = {}
        self.model = ""
        self.started = time.perf_counter()
        self.first_token_at: float | None = None
        self.result: TurnResult | None = None
        self.sources = SourceList()             # cited pages and documents, numbered (citations.py)

    def apply(self, event: Event) -> Part | None:
        """Fold one event in; returns the part it changed (None for turn-level events)."""
        if event.__class__ in _DELTA_TEXT:
            part = self._by_index.get((event.step, event.index))  # type: ignore[union-attr]
            if part is not None:
                self._grow(part, event)  # type: ignore[arg-type]
            return part
        if isinstance(event, BlockStarted):
            part = Part(kind=_kind(event.block_type), block=dict(event.block))
            if part.kind == "tool":
                part.tool_status = "streaming"
                self._tools[event.block.get("id", "")] = part
            elif part.kind == "text" and event.block.get("text"):
                part.chunks.append(event.block["text"])
            self._by_index[(event.step, event.index)] = part
            self.parts.append(part)
            return part
        if isinstance(event, BlockFinished):
            part = self._by_index.get((event.step, event.index))
            if part is not None:
                part.finished = True
                part.block = dict(event.block)
                if part.kind == "text" and part.block.get("citations"):
                    part.cites = self.sources.numbers(part.block["citations"])
                if part.kind == "tool":
                    part.chunks[:] = [json.dumps(event.block.get("input", {}), indent=2, ensure_ascii=False)]
                    part.tool_status = "requested"
            return part
        if isinstance(event, (ToolCallStarted, ConsentRequested, ToolCallFinished)):
            part = self._tools.get(event.tool_use_id)
            if part is None:
                part = Part(kind="tool", block={"type": "tool_use", "id": event.tool_use_id, "name": event.name})
                self._tools[event.tool_use_id] = part
                self.parts.append(part)
            if isinstance(event, ToolCallStarted):
                part.tool_status = "running"
            elif isinstance(event, ConsentRequested):
                part.tool_status = "waiting for consent"
            else:
                part.tool_status, part.tool_output = event.status, event.output
                part.tool_duration, part.tool_display = event.duration, event.display
            return part
        if isinstance(event, Notice):
            part = Part(kind="notice", chunks=[event.text], block={"level": event.level}, finished=True)
            self.parts.append(part)
            return part
        if isinstance(event, TurnStarted):
            self.model = event.model
        elif isinstance(event, TurnFinished):
            self.result = event.result
            for part in self.parts:
                part.finished = True
        elif isinstance(event, StepFinished):
            return None
        return None

    def append(self, event: TextDelta | ThinkingDelta | ToolInputDelta) -> int:
        """Fold one streamed fragment in (the hot path: a lookup and a list append); returns its length."""
        part = self._by_index.get((event.step, event.index))
        if part is None:
            return 0
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()
        text = event.text if event.__class__ is TextDelta else _DELTA_TEXT[event.__class__](event)  # type: ignore[union-attr]
        part.chunks.append(text)
        return len(text)

    def _grow(self, part: Part, event: TextDelta | ThinkingDelta | ToolInputDelta) -> int:
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()
        text = _DELTA_TEXT[event.__class__](event)
        part.chunks.append(text)
        return len(text)

    @property
    def text(self) -> str:
        """All answer text so far."""
        return "\n\n".join(part.text for part in self.parts if part.kind == "text")

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started


_DELTA_TEXT: dict[type, Any] = {
    TextDelta: attrgetter("text"), ThinkingDelta: attrgetter("thinking"), ToolInputDelta: attrgetter("partial_json"),
}


def _kind(block_type: str) -> str:
    if block_type in ("text", "thinking", "redacted_thinking"):
        return block_type
    if block_type == "tool_use":
        return "tool"
    return "other"
