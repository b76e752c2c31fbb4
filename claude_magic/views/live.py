"""The ipywidgets live view of a turn: a header, one widget per block, the growing tail painted a few times a second.

While the answer streams, each content block has its own card (`widgets.py`), painted at a bounded rate
(`pacing.py`) from the transcript the events fold into. When the turn ends, the same display handle is
updated with the static bundle (`static.py`) and the widgets are closed, so the saved notebook keeps an
ordinary output that needs no kernel.
"""

from __future__ import annotations

import contextlib
import html
import time
from typing import Any

from ..core.events import (
    BlockFinished,
    BlockStarted,
    ConsentRequested,
    Event,
    Notice,
    TextDelta,
    ThinkingDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolInputDelta,
    TurnFinished,
)
from .cards import MUTED
from .pacing import Pacer
from .static import static_bundle
from .transcript import Part, Transcript
from .waiting import show, waiting_header_html
from .widgets import WidgetFactory, card_for

__all__ = ["LiveView", "WIDGET_MIME"]

_Factory = WidgetFactory        # the chat panel's turn view builds its root with it
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
MESSAGE_COST = 500          # bytes of headers around any widget update
HEADER_EVERY = 5.0          # seconds between elapsed-time updates once the answer streams
_DELTAS = frozenset({TextDelta, ThinkingDelta, ToolInputDelta})
_FLUSHING = (BlockFinished, ToolCallStarted, ConsentRequested, ToolCallFinished, Notice)


class LiveView:
    """Paints a turn's events into ipywidgets; ends with the static output in the same display handle."""

    def __init__(self, *, interval: float = 0.25, thinking_open: bool = False, shell: Any = None) -> None:
        self.transcript = Transcript()
        self.thinking_open = thinking_open
        self.handle: Any = None
        self.finished = False
        self._shell = shell
        self._factory: _Factory | None = None
        self._cards: dict[int, Any] = {}
        self._dirty: dict[int, Part] = {}          # parts changed by events other than fragments
        self._open: dict[int, Part] = {}           # parts with a card that may still grow
        self._shown = 0
        self._header: Any = None
        self._header_at = 0.0
        self._header_waiting = True
        self._body: Any = None
        self.pacer = Pacer(self._paint, interval=interval, tick=self._tick)

    # --- events (stream thread) ------------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        if event.__class__ in _DELTAS:
            # The hot path, once per streamed fragment: append, and paint only when that is due. No lock:
            # the append is one list operation and painters read parts safely (`Part.text`); every paint
            # refreshes the parts still open, so a fragment needs no bookkeeping of its own.
            if self.finished:
                return
            transcript = self.transcript
            if transcript.first_token_at is None:
                if transcript.append(event):                     # type: ignore[arg-type]
                    self.pacer.paint(force=True)             # the first token ends the wait: show it at once
                return
            added = transcript.append(event)                     # type: ignore[arg-type]
            if added:
                self.pacer.touch(added)
            return
        if self.finished:
            return
        if isinstance(event, TurnFinished):
            self._finish(event)
            return
        if self.handle is None:
            self._show()
        with self.pacer.lock:
            part = self.transcript.apply(event)
            if part is not None:
                self._dirty[id(part)] = part
        if isinstance(event, _FLUSHING):
            self.pacer.paint(force=True)
        elif isinstance(event, BlockStarted):
            self.pacer.touch()

    def _show(self) -> None:
        self._present(self._build())
        self.pacer.start()

    def _build(self) -> Any:
        """The root widget of the live view."""
        factory = self._factory = _Factory()
        self._header = factory.html(self._header_html())
        self._body = factory.column([])
        return factory.column([self._header, self._body])

    def _present(self, root: Any) -> None:
        """Show `root` in the cell's output; the display handle later receives the static bundle."""
        bundle = {WIDGET_MIME: {"version_major": 2, "version_minor": 0, "model_id": root.model_id},
                  "text/plain": "Claude is answering…"}
        self.handle = show(bundle)
        if self._shell is not None:
            self._shell.events.register("post_run_cell", self._cell_done)

    # --- painting (under the pacer's lock) -------------------------------------------------------

    def _paint(self, send: bool = True) -> int:
        """Bring the widgets up to date; returns what the next paint will cost to send (bytes)."""
        if self._factory is None:
            return 0
        if not send:            # the end: finish rendering what has a card; the static output does the rest
            for key, part in self._dirty.items():
                if key in self._cards:
                    self._cards[key].refresh(part, send=False)
            self._dirty.clear()
            return 0
        parts = self.transcript.parts
        added = []
        while self._shown < len(parts):
            part = parts[self._shown]
            self._shown += 1
            card = self._card(part)
            self._cards[id(part)] = card
            self._open[id(part)] = part
            added.append(card.widget)
        for key, part in self._open.items():
            self._dirty.setdefault(key, part)
        for key, part in self._dirty.items():
            self._cards[key].refresh(part, send=send)
            if part.finished:
                self._open.pop(key, None)
        self._dirty.clear()
        if added:
            self._body.children = (*self._body.children, *added)
        self._tick()
        return MESSAGE_COST + sum(card.resend_size for card in self._cards.values())

    def _card(self, part: Part) -> Any:
        assert self._factory is not None
        return card_for(self._factory, part, thinking_open=self.thinking_open)

    def _tick(self) -> None:
        """Elapsed time: every second while waiting for the first token, every few seconds after."""
        if self._header is None or self.finished:
            return
        now = time.monotonic()
        waiting = self.transcript.first_token_at is None
        if not waiting and not self._header_waiting and now - self._header_at < HEADER_EVERY:
            return
        self._header_waiting = waiting
        value = self._header_html()
        if value != self._header.value:
            self._header.value = value
            self._header_at = now

    def _header_html(self) -> str:
        transcript = self.transcript
        if transcript.first_token_at is None:
            return waiting_header_html(transcript.model, int(transcript.elapsed))
        return f'<div style="{MUTED}"><b>{html.escape(transcript.model or "Claude")}</b> · {int(transcript.elapsed)} s</div>'

    # --- the end ---------------------------------------------------------------------------------

    def _finish(self, event: Event) -> None:
        self.pacer.stop()
        with self.pacer.lock:
            if self.finished:
                return
            self.finished = True
            self.transcript.apply(event)
            if self.handle is None:
                self._show_static_only()
                return
            for part in self.transcript.parts:
                self._dirty[id(part)] = part
            self._paint(send=False)
            rendered = {key: card.html for key, card in self._cards.items() if hasattr(card, "html")}
            data, metadata = static_bundle(self.transcript, rendered, thinking_open=self.thinking_open)
            self.handle.update(data, metadata=metadata, raw=True)
            self._close()
        if self._shell is not None:
            with contextlib.suppress(ValueError):
                self._shell.events.unregister("post_run_cell", self._cell_done)

    def _close(self) -> None:
        """Close every widget of the live view (the static output has replaced them)."""
        if self._factory is not None:
            self._factory.close_all()

    def _show_static_only(self) -> None:
        data, metadata = static_bundle(self.transcript, thinking_open=self.thinking_open)
        self.handle = show(data, metadata)

    def _cell_done(self, *_args: Any) -> None:
        """The cell ended without a TurnFinished (an unexpected error): leave a static output anyway."""
        if not self.finished:
            self._finish(Notice("The turn ended before it finished (see the error below).", "warning"))
