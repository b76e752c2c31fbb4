"""The ipywidgets live view of a turn: a header, one widget per block, the growing tail painted a few times a second.

While the answer streams, each content block has its own widget (a text block is a column of sealed
HTML pieces plus one tail that re-renders; thinking sits in an Accordion collapsed by default, whose
open state lives in the front end and survives updates; a tool call is a card). When the turn ends, the
same display handle is updated with the static bundle (`static.py`) and the widgets are closed, so the
saved notebook keeps an ordinary output that needs no kernel.
"""

from __future__ import annotations

import contextlib
import html
import time
from typing import Any

from ..events import (
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
from .cards import (
    MUTED,
    citations_html,
    note_html,
    other_block_html,
    tool_args_html,
    tool_display_html,
    tool_result_html,
    tool_title_html,
)
from .incremental import IncrementalMarkdown
from .pacing import Pacer
from .static import static_bundle
from .transcript import Part, Transcript

__all__ = ["LiveView", "SEAL_COST"]

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# Bytes of settled HTML worth re-sending before it moves into a widget of its own: about what a new
# widget costs on the wire (its comm_open and comm_close, one more id in the column's children).
SEAL_COST = 2000
MESSAGE_COST = 500          # bytes of headers around any widget update
HEADER_EVERY = 5.0          # seconds between elapsed-time updates once the answer streams
_SPINNER = (
    "<style>@keyframes claude-magic-spin { to { transform: rotate(360deg) } }</style>"
    '<span class="claude-magic-spinner" style="display: inline-block; width: 0.8em; height: 0.8em; '
    "margin-right: 0.4em; vertical-align: -0.1em; border: 2px solid rgba(128, 128, 128, 0.6); "
    'border-top-color: transparent; border-radius: 50%; animation: claude-magic-spin 0.8s linear infinite">'
    "</span>"
)
_DELTAS = (TextDelta, ThinkingDelta, ToolInputDelta)
_FLUSHING = (BlockFinished, ToolCallStarted, ConsentRequested, ToolCallFinished, Notice)


class _Factory:
    """Makes widgets that share one Layout and style, and remembers them so they can all be closed."""

    def __init__(self) -> None:
        import ipywidgets
        from ipywidgets.widgets.widget_string import HTMLMathStyle, HTMLStyle

        self.widgets = ipywidgets
        self.layout = ipywidgets.Layout()
        self.math_style = HTMLMathStyle()
        self.html_style = HTMLStyle()
        self.created: list[Any] = [self.layout, self.math_style, self.html_style]

    def _keep(self, widget: Any) -> Any:
        self.created.append(widget)
        return widget

    def math(self, value: str = "") -> Any:
        """An HTMLMath widget (math typeset by the front end), styled like JupyterLab's rendered Markdown."""
        return self._keep(self.widgets.HTMLMath(value=value, layout=self.layout, style=self.math_style,
                                                _dom_classes=("jp-RenderedHTMLCommon",)))

    def html(self, value: str = "") -> Any:
        return self._keep(self.widgets.HTML(value=value, layout=self.layout, style=self.html_style))

    def column(self, children: list[Any], layout: Any = None) -> Any:
        return self._keep(self.widgets.VBox(children=children, layout=layout or self.layout))

    def accordion(self, child: Any, title: str, *, open_: bool) -> Any:
        return self._keep(self.widgets.Accordion(children=[child], titles=(title,),
                                                 selected_index=0 if open_ else None, layout=self.layout))

    def card_layout(self) -> Any:
        return self._keep(self.widgets.Layout(border="1px solid rgba(128, 128, 128, 0.4)", padding="0.2em 0.6em",
                                              margin="0.4em 0"))

    def close_all(self) -> None:
        for widget in reversed(self.created):
            widget.close()
        self.created.clear()


class _MarkdownBlock:
    """A growing Markdown block: sealed HTML pieces (sent once) above one tail widget that re-renders."""

    def __init__(self, factory: _Factory) -> None:
        self.factory = factory
        self.markdown = IncrementalMarkdown()
        self.tail = factory.math()
        self.widget = factory.column([self.tail])
        self._pending: list[str] = []
        self._pending_size = 0
        self._resent = 0

    @property
    def html(self) -> str:
        return self.markdown.html

    def refresh(self, text: str, finished: bool, *, send: bool = True, suffix: str = "") -> None:
        new = self.markdown.finish(text) if finished else self.markdown.update(text)
        self._pending.extend(new)
        self._pending_size += sum(len(piece) for piece in new)
        if not send:
            return
        if finished:
            value = "".join(self._pending) + suffix
        else:
            if self._pending and self._resent + self._pending_size >= SEAL_COST:
                self._seal()
            value = "".join(self._pending) + self.markdown.tail()
            self._resent += self._pending_size
        if value != self.tail.value:
            self.tail.value = value

    @property
    def resend_size(self) -> int:
        """Bytes the next update of the tail re-sends (0 once finished)."""
        return 0 if self.markdown.finished else len(self.tail.value)

    def _seal(self) -> None:
        sealed = self.factory.math("".join(self._pending))
        self.widget.children = (*self.widget.children[:-1], sealed, self.tail)
        self._pending, self._pending_size, self._resent = [], 0, 0


class _TextCard:
    def __init__(self, factory: _Factory, part: Part) -> None:
        self.block = _MarkdownBlock(factory)
        self.widget = self.block.widget

    @property
    def html(self) -> str:
        return self.block.html

    @property
    def resend_size(self) -> int:
        return self.block.resend_size

    def refresh(self, part: Part, *, send: bool = True) -> None:
        suffix = citations_html(part.block) if part.finished else ""
        self.block.refresh(part.text, part.finished, send=send, suffix=suffix)


class _ThinkingCard:
    def __init__(self, factory: _Factory, part: Part, *, open_: bool) -> None:
        self.block = _MarkdownBlock(factory)
        self.widget = factory.accordion(self.block.widget, "Thinking…", open_=open_)
        self._titled = False

    @property
    def html(self) -> str:
        return self.block.html

    @property
    def resend_size(self) -> int:
        return self.block.resend_size

    def refresh(self, part: Part, *, send: bool = True) -> None:
        self.block.refresh(part.text, part.finished, send=send)
        if send and part.finished and not self._titled:
            self._titled = True
            self.widget.titles = ("Thinking",)


class _ToolCard:
    def __init__(self, factory: _Factory, part: Part) -> None:
        self.factory = factory
        self.title = factory.html()
        self.arguments = factory.html()
        self.shown: Any = None
        self.result: Any = None
        self.widget = factory.column([self.title, self.arguments], layout=factory.card_layout())

    @property
    def resend_size(self) -> int:
        return len(self.arguments.value)

    def refresh(self, part: Part, *, send: bool = True) -> None:
        if not send:
            return
        _set(self.title, tool_title_html(part))
        _set(self.arguments, tool_args_html(part))
        shown = tool_display_html(part)
        if shown and self.shown is None:
            self.shown = self.factory.html(shown)
            self.widget.children = (*self.widget.children, self.shown)
        result = tool_result_html(part)
        if result and self.result is None:
            self.result = self.factory.html(result)
            accordion = self.factory.accordion(self.result, "Result", open_=False)
            self.widget.children = (*self.widget.children, accordion)
        elif result:
            _set(self.result, result)


class _NoteCard:
    resend_size = 0

    def __init__(self, factory: _Factory, part: Part) -> None:
        self.widget = factory.html()

    def refresh(self, part: Part, *, send: bool = True) -> None:
        if not send:
            return
        if part.kind == "redacted_thinking":
            value = note_html("Some thinking was redacted by the API's safety systems.")
        elif part.kind == "notice":
            value = note_html(part.text, warning=part.block.get("level") == "warning")
        else:
            value = other_block_html(part)
        _set(self.widget, value)


def _set(widget: Any, value: str) -> None:
    if widget.value != value:
        widget.value = value


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
        self._dirty: dict[int, Part] = {}
        self._shown = 0
        self._header: Any = None
        self._header_at = 0.0
        self._header_waiting = True
        self._body: Any = None
        self.pacer = Pacer(self._paint, interval=interval, tick=self._tick)

    # --- events (stream thread) ------------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        if self.finished:
            return
        if isinstance(event, _DELTAS):
            with self.pacer.lock:
                first = self.transcript.first_token_at is None
                part = self.transcript.apply(event)
                if part is not None:
                    self._dirty[id(part)] = part
            if first:
                self.pacer.paint(force=True)             # the first token ends the wait: show it at once
            else:
                self.pacer.touch(len(part.chunks[-1]) if part is not None and part.chunks else 0)
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
        from IPython.display import display

        factory = self._factory = _Factory()
        self._header = factory.html(self._header_html())
        self._body = factory.column([])
        root = factory.column([self._header, self._body])
        bundle = {WIDGET_MIME: {"version_major": 2, "version_minor": 0, "model_id": root.model_id},
                  "text/plain": "Claude is answering…"}
        self.handle = display(bundle, raw=True, display_id=True)
        if self._shell is not None:
            self._shell.events.register("post_run_cell", self._cell_done)
        self.pacer.start()

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
            self._dirty[id(part)] = part
            added.append(card.widget)
        for key, part in self._dirty.items():
            self._cards[key].refresh(part, send=send)
        self._dirty.clear()
        if added:
            self._body.children = (*self._body.children, *added)
        self._tick()
        return MESSAGE_COST + sum(card.resend_size for card in self._cards.values())

    def _card(self, part: Part) -> Any:
        assert self._factory is not None
        if part.kind == "text":
            return _TextCard(self._factory, part)
        if part.kind == "thinking":
            return _ThinkingCard(self._factory, part, open_=self.thinking_open)
        if part.kind == "tool":
            return _ToolCard(self._factory, part)
        return _NoteCard(self._factory, part)

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
        model = html.escape(transcript.model or "Claude")
        seconds = f"{int(transcript.elapsed)} s"
        if transcript.first_token_at is None:
            return (f'<div style="{MUTED}">{_SPINNER}<b>{model}</b> · waiting for the first token · '
                    f"{seconds}</div>")
        return f'<div style="{MUTED}"><b>{model}</b> · {seconds}</div>'

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
            if self._factory is not None:
                self._factory.close_all()
        if self._shell is not None:
            with contextlib.suppress(ValueError):
                self._shell.events.unregister("post_run_cell", self._cell_done)

    def _show_static_only(self) -> None:
        from IPython.display import display

        data, metadata = static_bundle(self.transcript, thinking_open=self.thinking_open)
        self.handle = display(data, metadata=metadata, raw=True, display_id=True)

    def _cell_done(self, *_args: Any) -> None:
        """The cell ended without a TurnFinished (an unexpected error): leave a static output anyway."""
        if not self.finished:
            self._finish(Notice("The turn ended before it finished (see the error above).", "warning"))
