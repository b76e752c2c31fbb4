"""Text from a configuration file as it may be shown: control, bidi and zero-width characters as visible escapes."""

from __future__ import annotations

__all__ = ["visible"]


def visible(text: str) -> str:
    """`text` with every character that can hide or reorder what is shown written as `\\xNN`/`\\uNNNN`: C0/C1
    controls (newline and tab too: a command or URL is one line), ESC, DEL, bidi and zero-width marks, other
    format characters and spaces other than ' ' (what `str.isprintable` rejects)."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
