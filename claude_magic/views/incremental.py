"""Growing Markdown split at settled boundaries, so each finished segment renders once and only the tail re-renders.

A boundary is the start of a line that follows a blank line outside fenced code and display math, and
that does not continue the block above (a list item, an indented line or a quote line could belong to a
list or quote that started earlier). Markdown blocks separated that way render the same apart as together, so the HTML of a
block is the concatenation of its segments' HTML and the whole answer is rendered in one pass overall.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .render import render_markdown

__all__ = ["IncrementalMarkdown"]

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CONTINUATION = re.compile(r"^(?:[ \t>]|(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$))")


class IncrementalMarkdown:
    """Feed the block's whole text so far; settled segments are rendered once, the tail on demand."""

    def __init__(self, render: Callable[[str], str] = render_markdown) -> None:
        self._render = render
        self.segments: list[str] = []      # HTML of settled segments, in order
        self.rendered_chars = 0            # source characters rendered (settled segments and tails)
        self.finished = False
        self._text = ""
        self._start = 0                    # where the unsettled text begins
        self._scanned = 0                  # start of the first line not scanned yet
        self._fence: str | None = None     # the open fence marker, if inside fenced code
        self._math = False                 # inside $$ display math
        self._blank = False                # the last scanned line was blank
        self._boundary = 0
        self._tail: tuple[int, str] = (-1, "")

    @property
    def html(self) -> str:
        """The settled part as HTML."""
        return "".join(self.segments)

    @property
    def pending_text(self) -> str:
        """The unsettled tail's source."""
        return self._text[self._start:]

    def update(self, text: str) -> list[str]:
        """Take the text so far (it only ever grows); return HTML of the segments that settled now."""
        self._text = text
        self._scan()
        if self._boundary <= self._start:
            return []
        return [self._settle(self._boundary)]

    def finish(self, text: str) -> list[str]:
        """The block is complete: everything settles; return the HTML of what was still pending."""
        self._text = text
        self.finished = True
        self._scan()
        if len(text) <= self._start:
            return []
        return [self._settle(len(text))]

    def tail(self) -> str:
        """The unsettled tail as HTML (re-rendered only when it changed; an open code fence is closed)."""
        end = len(self._text)
        if self._tail[0] == end:
            return self._tail[1]
        source = self._text[self._start:]
        if self._fence is not None:
            source += ("" if source.endswith("\n") else "\n") + self._fence
        html = self._render(source) if source.strip() else ""
        self.rendered_chars += end - self._start
        self._tail = (end, html)
        return html

    def _settle(self, end: int) -> str:
        html = self._render(self._text[self._start:end])
        self.rendered_chars += end - self._start
        self.segments.append(html)
        self._start = end
        self._tail = (-1, "")
        return html

    def _scan(self) -> None:
        """Classify the complete lines not seen yet (O(new text))."""
        text = self._text
        last_newline = text.rfind("\n", self._scanned)
        if last_newline < 0:
            return
        offset = self._scanned
        for line in text[self._scanned:last_newline].split("\n"):
            self._line(line, offset)
            offset += len(line) + 1
        self._scanned = last_newline + 1

    def _line(self, line: str, offset: int) -> None:
        if self._fence is not None:
            stripped = line.strip()
            if stripped.startswith(self._fence) and not stripped.strip(self._fence[0]):
                self._fence = None
            return
        if not line.strip():
            self._blank = True
            return
        if self._blank and not self._math and not _CONTINUATION.match(line):
            self._boundary = offset
        self._blank = False
        fence = _FENCE.match(line)
        if fence is not None and not self._math:
            self._fence = fence.group(1)
            return
        if line.count("$$") % 2:
            self._math = not self._math
