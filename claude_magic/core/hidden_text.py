"""Control, bidi and zero-width characters shown as visible escapes, so what a user approves is what runs.

A tool call is untrusted text. `\\x1b[2K` erases a terminal line, ANSI colours hide text in Jupyter's stdout,
`\\u202e` reverses what follows it, a zero-width space or a soft hyphen makes two names look alike. Every
place that shows a call (the console prompt, the panel's consent box, the tool cards, the terminal view)
passes it through `reveal`, and says how many such characters there were (`hidden_notice`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

__all__ = ["reveal", "one_line", "count_hidden", "hidden_notice", "strings_in"]

# C0 controls but tab and newline, DEL, C1 controls.
_CONTROLS = r"\x00-\x08\x0b-\x1f\x7f-\x9f"
# Soft hyphen, Arabic letter mark, Mongolian vowel separator, zero-width and directional marks, line and
# paragraph separators, bidi embeddings/overrides/isolates, word joiner and invisible operators, BOM,
# interlinear annotations, and the invisible "tag" characters (ASCII smuggling).
_INVISIBLE = (r"\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb"
              r"\U000e0000-\U000e007f")
_HIDDEN = re.compile(f"[{_CONTROLS}{_INVISIBLE}]")
_CONTROL = re.compile(f"[{_CONTROLS}]")
_NAMED = {"\r": "\\r", "\x0b": "\\v", "\x0c": "\\f", "\x08": "\\b"}


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def reveal(text: str, *, invisible: bool = True) -> str:
    """`text` with every control character (and, unless `invisible=False`, every bidi and zero-width
    character) written as a visible escape such as `\\x1b` or `\\u202e`; newline and tab stay."""
    pattern = _HIDDEN if invisible else _CONTROL
    return pattern.sub(_escape, text) if pattern.search(text) else text


def one_line(text: str) -> str:
    """`text` as one visible line (a command, a URL, a path from a config file): `reveal`, and newline, tab and
    every other character `str.isprintable` rejects (spaces other than ' ', format characters) escaped too."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(_ONE.match(char)) for char in text)  # type: ignore[arg-type]


_ONE = re.compile(".", re.DOTALL)


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside a JSON-like value (keys included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings_in(item)


def count_hidden(value: Any) -> int:
    """How many characters `reveal` escapes in all the strings of `value`."""
    return sum(len(_HIDDEN.findall(text)) for text in strings_in(value))


def hidden_notice(value: Any, what: str = "This call") -> str:
    """One line saying how many hidden or control characters `value` holds ("" when none)."""
    count = count_hidden(value)
    if not count:
        return ""
    plural = "" if count == 1 else "s"
    return f"⚠ {what} contains {count} hidden/control character{plural}, shown as escapes."
