"""What the page makes of the stream widget's messages: the rules of claude_magic/views/static/stream.js, in Python.

Offsets are UTF-16 code units, as in JavaScript; the deflate stream is inflated message by message with a
sync flush, as `DecompressionStream("deflate-raw")` does in the page.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any


def _units(text: str) -> bytes:
    return text.encode("utf-16-le", "surrogatepass")


def js_slice(text: str, start: int, end: int | None = None) -> str:
    """`text.slice(start, end)` as JavaScript counts (UTF-16 code units)."""
    units = _units(text)
    return units[2 * start: None if end is None else 2 * end].decode("utf-16-le", "surrogatepass")


@dataclass
class Block:
    frame: str
    sealed: list[str] = field(default_factory=list)
    open: str = ""
    label: str | None = None

    @property
    def html(self) -> str:
        return "".join(self.sealed) + self.open


class PageMirror:
    """One page's copy of a stream widget's document, built only from the messages it received."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.seq = 0
        self.stale = False
        self.asked: list[dict[str, Any]] = []          # messages the page sent back (sync requests)
        self._inflate = zlib.decompressobj(-15)

    def receive(self, message: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        if "r" in message:
            self.blocks = [Block(frame, [sealed] if sealed else [], open_, label)
                           for frame, sealed, open_, label in message["r"]]
            self._inflate = zlib.decompressobj(-15)
            self.stale = False
        elif self.stale:
            return
        elif message["s"] != self.seq + 1:
            self.stale = True
            self.asked.append({"sync": self.seq})
            return
        else:
            texts = None
            if "z" in message:
                data = self._inflate.decompress(bytes((buffers or [])[0]))
                assert len(data) == message["z"]
                texts = data.decode()
            for frame in message.get("n", []):
                self.blocks.append(Block(frame))
            at = 0
            for index, keep, piece, seal in message.get("u", []):
                if texts is None:
                    text = piece
                else:
                    text = js_slice(texts, at, at + piece)
                    at += piece
                block = self.blocks[index]
                open_ = js_slice(block.open, 0, keep) + text
                if seal:
                    block.sealed.append(js_slice(open_, 0, seal))
                    open_ = js_slice(open_, seal)
                block.open = open_
            for index, label in message.get("l", []):
                self.blocks[index].label = label
        self.seq = message["s"]
