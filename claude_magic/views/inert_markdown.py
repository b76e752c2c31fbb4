"""Model Markdown for the `text/markdown` channel and exports, made inert: money `\\$`, images as links, raw HTML as text.

Other programs render this copy with their own rules: JupyterLab's Markdown renderer shows images and, for
an output the user just ran, leaves its raw HTML unsanitized; a Markdown viewer opening an export loads
images too. A model-chosen image URL is fetched without a click (a way to send data out of a prompt), and
raw HTML can carry styles, images and handlers. So, in one scan that skips code and math (`mathguard`):

- a money `$` is written `\\$` (what `markdown_dollars` does);
- an image `![alt](url)` becomes `🖼 [alt](url)`, a link (the HTML view, `render.py`, does the same);
- the `<` of any raw tag, comment or declaration is written `&lt;`, so it shows as text; only
  claude-magic's own bare `<details>`, `<summary>` and `<sub>` tags and `<https://…>` autolinks stay.
"""

from __future__ import annotations

import re

from .mathguard import scanner

__all__ = ["inert_markdown", "IMAGE_MARK"]

IMAGE_MARK = "🖼 "          # what a Markdown image's `!` becomes: the image is now a link to it
_OWN_TAGS = ("details", "summary", "sub")
_SCAN = scanner(
    r"|(?P<raw><(?=[/!?a-zA-Z])(?!/?(?:" + "|".join(_OWN_TAGS) + r")>)"
    r"(?!(?:https?|mailto):[^\s<>]*>|[^\s<>@]+@[^\s<>]+>))"
    r"|(?P<image>!(?=\[))",
    lead="<!",
)


def _swap(match: re.Match[str]) -> str:
    kind = match.lastgroup
    if kind == "dollar":
        return "\\$" if match.group("dollar") == "$" else match.group(0)
    if kind == "raw":
        return "&lt;"
    if kind == "image":
        return IMAGE_MARK
    return match.group(0)


def inert_markdown(text: str) -> str:
    """`text` as Markdown that loads nothing and runs nothing when rendered (idempotent)."""
    if "$" not in text and "<" not in text and "![" not in text:
        return text
    return _SCAN.sub(_swap, text)
