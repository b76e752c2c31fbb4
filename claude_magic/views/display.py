"""Notebook output without widgets: a display handle updated a few times a second, then final Markdown."""

from __future__ import annotations

import time
from typing import Any

from ..events import Event, TurnFinished
from .markdown_export import transcript_markdown
from .transcript import Transcript

__all__ = ["DisplayView", "final_bundle"]


def final_bundle(transcript: Transcript) -> tuple[dict[str, Any], dict[str, Any]]:
    """The saved output of a finished turn: (data, metadata)."""
    markdown = transcript_markdown(transcript)
    result = transcript.result
    metadata: dict[str, Any] = {}
    if result is not None:
        metadata = {"claude_magic": {"model": result.model, "status": result.status,
                                     "usage": result.usage.to_dict(), "cost": result.cost,
                                     "turn_id": result.turn_id}}
    return {"text/markdown": markdown, "text/plain": markdown}, metadata


class DisplayView:
    """Streams into one display handle with throttled Markdown updates."""

    def __init__(self, interval: float = 0.25) -> None:
        from IPython.display import display

        self.transcript = Transcript()
        self.interval = interval
        self._last = 0.0
        self.handle = display({"text/plain": "…"}, raw=True, display_id=True)

    def __call__(self, event: Event) -> None:
        self.transcript.apply(event)
        if isinstance(event, TurnFinished):
            data, metadata = final_bundle(self.transcript)
            self.handle.update(data, metadata=metadata, raw=True)
            return
        now = time.perf_counter()
        if now - self._last >= self.interval:
            self._last = now
            markdown = transcript_markdown(self.transcript, footer=False) or "…"
            self.handle.update({"text/markdown": markdown, "text/plain": markdown}, raw=True)
