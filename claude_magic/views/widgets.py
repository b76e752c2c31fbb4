"""Widgets for one block each: Markdown as sealed pieces plus a re-rendering tail, thinking, tool cards, notes.

A text block is a column of HTML widgets: settled segments move into sealed widgets that are sent once
and never change; only the last widget (the tail) is updated. Thinking sits in an Accordion whose open
state lives in the front end, so updating its content never closes it. All widgets of a turn share one
Layout and style and are remembered, so the view can close them when it is replaced by static output.
"""

from __future__ import annotations

from typing import Any

from .cards import (
    cited_suffix,
    note_html,
    other_block_html,
    tool_args_html,
    tool_display_html,
    tool_result_html,
    tool_title_html,
)
from .incremental import IncrementalMarkdown
from .transcript import Part

__all__ = ["WidgetFactory", "MarkdownColumn", "card_for", "close_widget", "SEAL_COST"]

# Bytes of settled HTML worth re-sending before it moves into a widget of its own: about what a new
# widget costs on the wire (its comm_open and comm_close, one more id in the column's children).
SEAL_COST = 2000


def close_widget(widget: Any) -> None:
    """Close a widget and the Layout and style widgets it owns (`Widget.close()` leaves those open)."""
    widget.close()
    for name in ("layout", "style"):
        owned = getattr(widget, name, None)
        if owned is not None and hasattr(owned, "close"):
            owned.close()


class WidgetFactory:
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


class MarkdownColumn:
    """A growing Markdown block: sealed HTML pieces (sent once) above one tail widget that re-renders."""

    def __init__(self, factory: WidgetFactory) -> None:
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


class _MarkdownCard:
    """A card whose body is a growing Markdown column."""

    block: MarkdownColumn

    @property
    def html(self) -> str:
        return self.block.html

    @property
    def resend_size(self) -> int:
        return self.block.resend_size


class _TextCard(_MarkdownCard):
    def __init__(self, factory: WidgetFactory, part: Part) -> None:
        self.block = MarkdownColumn(factory)
        self.widget = self.block.widget

    def refresh(self, part: Part, *, send: bool = True) -> None:
        suffix = cited_suffix(part) if part.finished else ""
        self.block.refresh(part.text, part.finished, send=send, suffix=suffix)


class _ThinkingCard(_MarkdownCard):
    def __init__(self, factory: WidgetFactory, part: Part, *, open_: bool) -> None:
        self.block = MarkdownColumn(factory)
        self.widget = factory.accordion(self.block.widget, "Thinking…", open_=open_)
        self._titled = False

    def refresh(self, part: Part, *, send: bool = True) -> None:
        self.block.refresh(part.text, part.finished, send=send)
        if send and part.finished and not self._titled:
            self._titled = True
            self.widget.titles = ("Thinking",)


class _ToolCard:
    def __init__(self, factory: WidgetFactory, part: Part) -> None:
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

    def __init__(self, factory: WidgetFactory, part: Part) -> None:
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




def card_for(factory: WidgetFactory, part: Part, *, thinking_open: bool = False) -> Any:
    """The widget card for a part: text, thinking, tool call, or a one-line note for everything else."""
    if part.kind == "text":
        return _TextCard(factory, part)
    if part.kind == "thinking":
        return _ThinkingCard(factory, part, open_=thinking_open)
    if part.kind == "tool":
        return _ToolCard(factory, part)
    return _NoteCard(factory, part)
