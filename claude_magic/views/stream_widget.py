"""The append-only stream widget: the kernel sends only what is new, the browser appends (anywidget).

`StreamDocument` is the kernel's copy of what the page shows: a list of blocks, each a frame (the block's
outer HTML, with a `.cm-tail` element inside) holding sealed HTML that never changes, followed by an open
tail that may still change. An update of a block says "keep the first `keep` characters of the open tail,
append `text`, then seal the first `seal` characters": a growing tail costs only its new characters, and a
finished Markdown segment costs nothing more when it moves from the tail into the sealed part. Every
string the document holds was rendered and sanitized by the kernel (`render.py`, nh3); the page
(`static/stream.js`) only places them and never evaluates anything. Offsets are counted in UTF-16 code
units, as JavaScript slices strings.
"""

from __future__ import annotations

import threading
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

__all__ = ["StreamDocument", "make_stream_widget", "stream_widget_available", "js_length", "TAIL"]

TAIL = '<div class="cm-tail"></div>'       # where a frame's content goes


def js_length(text: str) -> int:
    """The length of `text` as JavaScript counts it (UTF-16 code units)."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def _common_prefix(old: str, new: str) -> int:
    """Length of the common prefix (C-speed comparisons: the usual case is `new` extending `old`)."""
    if new.startswith(old):
        return len(old)
    low, high = 0, min(len(old), len(new))
    while low < high:                       # the longest m with old[:m] == new[:m]
        middle = (low + high + 1) // 2
        if old[:middle] == new[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


@dataclass
class _Block:
    frame: str
    sealed: list[str] = field(default_factory=list)
    open: str = ""
    label: str | None = None


class StreamDocument:
    """What the page shows, and the updates that bring it there (one message per `take`)."""

    def __init__(self, *, compress: bool = True) -> None:
        self.blocks: list[_Block] = []
        self.seq = 0
        self.compress = compress
        self._new: list[str] = []
        self._updates: list[list[Any]] = []
        self._labels: dict[int, str] = {}
        self._deflate = _deflater()

    def add(self, frame: str) -> int:
        """A new block (its frame must contain `TAIL`); returns its index."""
        self.blocks.append(_Block(frame))
        self._new.append(frame)
        return len(self.blocks) - 1

    def set(self, index: int, settled: str, open_: str) -> None:
        """Block `index` now shows `settled` (newly finished HTML, sealed from now on) followed by `open_`."""
        block = self.blocks[index]
        new = settled + open_
        old = block.open
        if not settled and new == old:
            return
        keep = _common_prefix(old, new)
        added = new[keep:]
        self._updates.append([index, js_length(old[:keep]) if keep else 0, added, js_length(settled)])
        if settled:
            block.sealed.append(settled)
        block.open = open_

    def label(self, index: int, text: str) -> None:
        """The block's `<summary>` text (thinking: "Thinking…" then "Thinking")."""
        if self.blocks[index].label != text:
            self.blocks[index].label = text
            self._labels[index] = text

    def html(self, index: int) -> str:
        """Everything block `index` shows: its sealed HTML and open tail."""
        block = self.blocks[index]
        return "".join(block.sealed) + block.open

    def take(self, elapsed: float | None = None) -> tuple[dict[str, Any], list[bytes]] | None:
        """(message, binary buffers) with every change since the last one; None when nothing changed.

        With `compress`, the updates' texts travel in one buffer, deflated as one stream over the
        document's life (each message ends in a sync flush, so the page can inflate it at once); the
        update then holds its text's length, and `z` the buffer's inflated size in bytes.
        """
        if not (self._new or self._updates or self._labels):
            return None
        self.seq += 1
        message: dict[str, Any] = {"s": self.seq}
        buffers: list[bytes] = []
        if elapsed is not None:
            message["e"] = round(elapsed, 1)
        if self._new:
            message["n"], self._new = self._new, []
        if self._updates:
            updates, self._updates = self._updates, []
            if self.compress:
                data = "".join(update[2] for update in updates).encode()
                for update in updates:
                    update[2] = js_length(update[2])
                buffers.append(self._deflate.compress(data) + self._deflate.flush(zlib.Z_SYNC_FLUSH))
                message["z"] = len(data)
            message["u"] = updates
        if self._labels:
            message["l"], self._labels = [[index, text] for index, text in self._labels.items()], {}
        return message, buffers

    def reset(self, elapsed: float | None = None) -> dict[str, Any]:
        """A message that shows the whole document (for a page that missed messages); pending changes are in it.

        It also starts a new deflate stream, on the pages and here.
        """
        self._new, self._updates, self._labels = [], [], {}
        self._deflate = _deflater()
        self.seq += 1
        message: dict[str, Any] = {"s": self.seq, "r": [[block.frame, "".join(block.sealed), block.open, block.label]
                                                      for block in self.blocks]}
        if elapsed is not None:
            message["e"] = round(elapsed, 1)
        return message


DEFLATE_LEVEL = 5      # half the CPU of zlib's default 6 on rendered HTML, for ~10 % more bytes


def _deflater() -> Any:
    """Raw deflate (the page's `DecompressionStream("deflate-raw")`)."""
    return zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)


def stream_widget_available() -> bool:
    """Whether anywidget (the widget's Python side) can be imported."""
    try:
        import anywidget  # noqa: F401
    except ImportError:
        return False
    return True


def _compact(script: str) -> str:
    """The asset without comment lines and indentation (it travels in every widget's state)."""
    lines = (line.strip() for line in script.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//"))


@cache
def _asset(name: str) -> str:
    return _compact(files("claude_magic.views").joinpath("static", name).read_text(encoding="utf-8"))


@cache
def _widget_class() -> type:
    import anywidget
    import traitlets

    class StreamWidget(anywidget.AnyWidget):
        """The page side of a `StreamDocument` (static/stream.js); `key` pairs a model with its views."""

        _esm = _asset("stream.js")
        _css = _asset("stream.css")
        key = traitlets.Unicode("").tag(sync=True)
        # No Layout widget of its own (DOMWidget makes one per instance: a comm_open and a comm_close
        # more per turn); the page's DOMWidgetView takes a null layout.
        layout = traitlets.Any(None, allow_none=True).tag(sync=True)

    return StreamWidget


def make_stream_widget(document: StreamDocument, lock: threading.RLock | threading.Lock | None = None,
                       elapsed: Callable[[], float] | None = None,
                       send: Callable[[dict[str, Any], list[bytes]], None] | None = None, **kwargs: Any) -> Any:
    """A stream widget showing `document`; a page that missed messages gets the whole document again.

    `lock` guards the document (the painter holds it while it changes the document and sends);
    `elapsed` is a callable for the turn's elapsed seconds, carried with a reset; `send(message, buffers)`
    sends (default: the widget's own `send`).
    """
    widget = _widget_class()(key=uuid.uuid4().hex[:12], **kwargs)
    guard = lock if lock is not None else threading.Lock()
    deliver = send or (lambda message, buffers: widget.send(message, buffers=buffers or None))

    def on_message(_widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and "sync" in content and widget.comm is not None:
            with guard:
                deliver(document.reset(elapsed() if elapsed is not None else None), [])

    widget.on_msg(on_message)
    return widget
