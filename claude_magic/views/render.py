"""Model Markdown as safe HTML: Python-Markdown, Pygments inline styles, math kept for MathJax, nh3 allowlist.

Everything a model writes is untrusted: raw HTML in the answer survives Markdown, so every fragment made
here goes through one allowlist sanitizer (`sanitize`). Images are not allowed — a model-chosen image URL
is fetched by the browser without a click, the classic way to leak data out of a prompt.
"""

from __future__ import annotations

import html
import re
import secrets
import threading
from functools import lru_cache
from typing import Any

__all__ = ["render_markdown", "sanitize", "escape", "code_block", "ALLOWED_TAGS"]

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s",
    "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "u", "ul", "var",
})
_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "code": {"class"},
    "details": {"open"},
    "div": {"style", "class"},
    "ol": {"start"},
    "pre": {"style"},
    "span": {"style"},
    "td": {"style", "align", "colspan", "rowspan"},
    "th": {"style", "align", "colspan", "rowspan"},
}
# Enough for Pygments colours and table alignment; nothing that can move, overlay or load anything.
_STYLE_PROPERTIES = {
    "color", "background", "background-color", "font-weight", "font-style", "text-decoration", "line-height",
    "text-align", "border", "border-radius", "padding", "margin", "opacity", "font-size", "white-space",
}
_EXTENSIONS = ["fenced_code", "tables", "codehilite", "sane_lists"]
_EXTENSION_CONFIGS = {"codehilite": {"noclasses": True, "guess_lang": False, "pygments_style": "default",
                                     "css_class": "highlight"}}

# Code first, so `$` inside code is never taken for math; then display math, then inline math.
_MATH = re.compile(
    r"(?P<fence>^[ ]{0,3}(?P<mark>`{3,}|~{3,})[^\n]*\n.*?(?:^[ ]{0,3}(?P=mark)[ \t]*$|\Z))"
    r"|(?P<code>(?P<ticks>`+)[^`].*?(?P=ticks))"
    r"|(?P<display>\$\$.+?\$\$|\\\[.+?\\\]|\\begin\{(?P<env>[a-zA-Z*]+)\}.+?\\end\{(?P=env)\})"
    r"|(?P<inline>\$(?=[^\s$])(?:[^$\n\\]|\\.)*?(?<=[^\s\\])\$(?!\d)|\\\(.+?\\\))",
    re.S | re.M,
)
_local = threading.local()


@lru_cache(maxsize=1)
def _cleaner() -> Any:
    import nh3

    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS), attributes={tag: set(names) for tag, names in _ATTRIBUTES.items()},
        url_schemes={"http", "https", "mailto"}, filter_style_properties=set(_STYLE_PROPERTIES),
        link_rel="noopener noreferrer nofollow", strip_comments=True, url_relative="deny",
    )


def _markdown() -> Any:
    """A Markdown converter for this thread (instances are not thread-safe; building one costs ~1 ms)."""
    converter = getattr(_local, "converter", None)
    if converter is None:
        import markdown

        converter = markdown.Markdown(extensions=_EXTENSIONS, extension_configs=_EXTENSION_CONFIGS,
                                      output_format="html")
        _local.converter = converter
    return converter


def sanitize(fragment: str) -> str:
    """Keep only allowlisted tags, attributes, styles and URL schemes; scripts and handlers are dropped."""
    return _cleaner().clean(fragment)


def escape(text: str) -> str:
    """Plain text as HTML text."""
    return html.escape(text, quote=False)


def _protect_math(text: str) -> tuple[str, dict[str, str]]:
    """Swap math for opaque tokens so Markdown cannot turn `_` or `*` inside it into emphasis."""
    if "$" not in text and "\\" not in text:
        return text, {}
    nonce = secrets.token_hex(4)
    saved: dict[str, str] = {}

    def swap(match: re.Match[str]) -> str:
        if match.group("fence") is not None or match.group("code") is not None:
            return match.group(0)
        token = f"cmmath{nonce}x{len(saved)}x"
        saved[token] = match.group(0)
        return token

    return _MATH.sub(swap, text), saved


def render_markdown(text: str) -> str:
    """Markdown → sanitized HTML (tables, fenced code highlighted with inline styles, math left for MathJax)."""
    if not text.strip():
        return ""
    protected, saved = _protect_math(text)
    converter = _markdown()
    try:
        rendered = converter.convert(protected)
    finally:
        converter.reset()
    clean = sanitize(rendered)
    for token, math in saved.items():
        clean = clean.replace(token, escape(math), 1)
    return clean


def code_block(text: str, language: str | None = None) -> str:
    """Text as a highlighted (or plain) `<pre>` block, sanitized."""
    if language:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import get_lexer_by_name
        from pygments.util import ClassNotFound

        try:
            lexer = get_lexer_by_name(language)
        except ClassNotFound:
            lexer = None
        if lexer is not None:
            formatted = highlight(text, lexer, HtmlFormatter(noclasses=True, nowrap=True))
            return sanitize(f'<pre style="white-space: pre-wrap; margin: 0">{formatted}</pre>')
    return f'<pre style="white-space: pre-wrap; margin: 0">{escape(text)}</pre>'
