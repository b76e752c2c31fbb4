"""Notebook output without widgets: one display handle refreshed a few times a second, then the static bundle."""

from __future__ import annotations

import time
from typing import Any

from ..core.events import Event, TurnFinished
from .inert_markdown import inert_markdown
from .markdown_export import transcript_markdown
from .render import render_markdown
from .static import static_bundle
from .transcript import Transcript
from .waiting import show

__all__ = ["DisplayView"]

_PREVIEW = 4_000   # characters of the growing answer shown while it streams (the end of it)


class DisplayView:
    """Streams into one display handle (throttled plain Markdown), ends with the sanitized static output."""

    def __init__(self, interval: float = 0.5, *, thinking_open: bool = False) -> None:
        self.transcript = Transcript()
        self.interval = interval
        self.thinking_open = thinking_open
        self.handle: Any = None
        self._last = 0.0

    def __call__(self, event: Event) -> None:
        self.transcript.apply(event)
        if self.handle is None:
            self.handle = show({"text/plain": "Claude is answering…"})
        if isinstance(event, TurnFinished):
            data, metadata = static_bundle(self.transcript, thinking_open=self.thinking_open)
            self.handle.update(data, metadata=metadata, raw=True)
            return
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            markdown = transcript_markdown(self.transcript, footer=False)
            if len(markdown) > _PREVIEW:
                markdown = "…" + markdown[-_PREVIEW:]
            markdown = markdown or "…"        # HTML too: JupyterLab's Markdown renderer would take money for math
            self.handle.update({"text/html": render_markdown(markdown), "text/markdown": inert_markdown(markdown),
                                "text/plain": markdown}, raw=True)
