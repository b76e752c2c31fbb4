"""The live view on one append-only stream widget: each paint sends only what is new since the last one.

The turn is one `StreamDocument` (`stream_widget.py`): a header block, then one block per content block.
Text and thinking render Markdown incrementally (`incremental.py`): a finished segment is sealed, and
only the change of the growing tail travels. Tool cards and notes are HTML blocks whose changes travel
the same way. The elapsed time in the header ticks in the page. The turn ends like the stock view
(`live.py`): the same display handle gets the static bundle, rendered from the same segments, and the
widget is closed.

A paint costs one Jupyter message (~600 bytes of headers and framing) plus the new HTML, deflated
(`stream_widget.py`), so the pacer paints when enough new text has arrived for the headers to cost at most
`OVERHEAD_BUDGET` bytes per character, or `MAX_WAIT` after the last paint, at most every `interval`.
"""

from __future__ import annotations

import html
from typing import Any

from .cards import MUTED, cited_suffix, note_html, other_block_html, tool_card_html
from .citations import with_markers
from .incremental import IncrementalMarkdown
from .live import LiveView
from .pacing import Pacer
from .static import thinking_html
from .stream_widget import TAIL, StreamDocument, make_stream_widget
from .transcript import Part
from .widgets import close_widget

__all__ = ["StreamView", "MESSAGE_COST", "MAX_WAIT"]

MESSAGE_COST = 600        # bytes of a custom widget message besides its text (headers, comm id, framing)
OVERHEAD_BUDGET = 1.5     # message overhead allowed per character of answer: paint every ~400 new characters
MAX_WAIT = 1.0            # seconds: the longest a change waits to be painted
_SPINNER = '<span class="claude-magic-spinner"></span>'


class _MarkdownBlock:
    """A text or thinking block: sealed Markdown segments, then the re-rendered tail."""

    def __init__(self, document: StreamDocument, part: Part, *, thinking_open: bool) -> None:
        self.document = document
        self.thinking = part.kind == "thinking"
        frame = (thinking_html(TAIL, open_=thinking_open, streaming=True) if self.thinking
                 else f'<div class="claude-magic-text">{TAIL}</div>')
        self.index = document.add(frame)
        self.markdown = IncrementalMarkdown()
        self._pending: list[str] = []

    @property
    def html(self) -> str:
        return self.markdown.html

    def refresh(self, part: Part, *, send: bool = True) -> None:
        finished = part.finished
        self._pending += self.markdown.finish(part.text) if finished else self.markdown.update(part.text)
        if not send:
            return
        settled, self._pending = "".join(self._pending), []
        if finished:
            if self.thinking:
                settled = settled or "<p><em>(thinking not returned)</em></p>"
                self.document.label(self.index, "Thinking")
            else:
                settled = with_markers(settled, cited_suffix(part))
            self.document.set(self.index, settled, "")
        else:
            self.document.set(self.index, settled, self.markdown.tail())


class _HtmlBlock:
    """A tool card or a note: its HTML is redrawn, and only the change travels."""

    def __init__(self, document: StreamDocument, part: Part) -> None:
        self.document = document
        self.index = document.add(TAIL)

    def refresh(self, part: Part, *, send: bool = True) -> None:
        if not send:
            return
        if part.kind == "tool":
            value = tool_card_html(part)
        elif part.kind == "redacted_thinking":
            value = note_html("Some thinking was redacted by the API's safety systems.")
        elif part.kind == "notice":
            value = note_html(part.text, warning=part.block.get("level") == "warning")
        else:
            value = other_block_html(part)
        self.document.set(self.index, "", value)


class StreamView(LiveView):
    """`LiveView` with the append-only stream widget in place of one ipywidget per block."""

    def __init__(self, *, interval: float = 0.25, thinking_open: bool = False, shell: Any = None,
                 max_wait: float = MAX_WAIT) -> None:
        super().__init__(interval=interval, thinking_open=thinking_open, shell=shell)
        self.pacer = Pacer(self._paint, interval=interval, ratio=OVERHEAD_BUDGET, max_wait=max_wait)
        self.document = StreamDocument()
        self.widget: Any = None
        self._head = -1

    def _show(self) -> None:
        with self.pacer.lock:
            root = self._build()
            self._paint()
        self._present(root)
        self.pacer.start()

    def _build(self) -> Any:
        self.widget = make_stream_widget(self.document, self.pacer.lock, lambda: self.transcript.elapsed,
                                         send=self._send)
        self._head = self.document.add(TAIL)
        return self.widget

    def _card(self, part: Part) -> Any:
        if part.kind in ("text", "thinking"):
            return _MarkdownBlock(self.document, part, thinking_open=self.thinking_open)
        return _HtmlBlock(self.document, part)

    def _paint(self, send: bool = True) -> int:
        """Bring the document up to date and send what changed; returns the overhead of the next paint."""
        if self.widget is None:
            return 0
        if not send:            # the end: finish rendering; the static output does the rest
            for key, part in self._dirty.items():
                if key in self._cards:
                    self._cards[key].refresh(part, send=False)
            self._dirty.clear()
            return 0
        parts = self.transcript.parts
        while self._shown < len(parts):
            part = parts[self._shown]
            self._shown += 1
            self._cards[id(part)] = self._card(part)
            self._open[id(part)] = part
        for key, part in self._open.items():
            self._dirty.setdefault(key, part)
        for key, part in self._dirty.items():
            self._cards[key].refresh(part)
            if part.finished:
                self._open.pop(key, None)
        self._dirty.clear()
        self.document.set(self._head, "", self._header_html())
        taken = self.document.take(self.transcript.elapsed if self.document.seq == 0 else None)
        if taken is not None:
            self._send(*taken)
        return MESSAGE_COST

    def _send(self, message: dict[str, Any], buffers: list[bytes]) -> None:
        self.widget.send(message, buffers=buffers or None)

    def _header_html(self) -> str:
        transcript = self.transcript
        model = html.escape(transcript.model or "Claude")
        seconds = '<span class="claude-magic-elapsed"></span>'         # the page counts the seconds
        if transcript.first_token_at is None:
            return (f'<div style="{MUTED}">{_SPINNER}<b>{model}</b> · waiting for the first token · '
                    f"{seconds}</div>")
        return f'<div style="{MUTED}"><b>{model}</b> · {seconds}</div>'

    def _close(self) -> None:
        if self.widget is not None:
            close_widget(self.widget)
