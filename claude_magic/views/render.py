"""Model Markdown as safe HTML: cmark-gfm or Python-Markdown, Pygments inline styles, math kept, nh3 allowlist.

Everything a model writes is untrusted: raw HTML in the answer survives Markdown, so every fragment made
here goes through one allowlist sanitizer (`sanitize`). Nothing the model writes may make the browser load
a URL without a click, the classic way to leak data out of a prompt, or lay anything over the page: no
images (a Markdown image becomes a link), and no `style` attribute at all (`url(`, `image-set(`, `var(`,
CSS escapes, fixed positions and huge sizes hide in style values, which nh3 does not check). The styles on
the page are claude-magic's own, added after sanitizing to HTML it builds from escaped text (Pygments
highlighting, code blocks, cards); a table cell's alignment comes as `align` and becomes one of three styles.

cmark-gfm (C) renders when it is installed: the Markdown pass then costs a few milliseconds per 200k
characters instead of ~200 ms with Python-Markdown, which otherwise is most of what the live view adds to
a long stream. Both get the same pre- and post-processing, so their HTML differs only in details.

Which `$` is math and which is money is decided by `mathguard` (Pandoc's rule): math goes through Markdown
as an opaque token and comes back as written, a money `$` comes back as `DOLLAR_HTML`.
"""

from __future__ import annotations

import html
import re
import secrets
import threading
from functools import lru_cache
from typing import Any

from ..core.hidden_text import reveal
from .inert_markdown import IMAGE_MARK, inert_markdown
from .mathguard import DOLLAR_HTML, scanner

__all__ = ["render_markdown", "markdown_bundle", "sanitize", "escape", "code_block", "highlight", "renderer",
           "set_renderer", "available_renderers", "ALLOWED_TAGS"]

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s",
    "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "u", "ul", "var",
})
# No `style` anywhere: see the module docstring. `class` only on <code> (the fenced block's language).
_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "code": {"class"},
    "details": {"open"},
    "ol": {"start"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan"},
}
# After sanitizing, a cell's `align` becomes claude-magic's own style from a fixed set (JupyterLab's CSS would
# override the attribute: its cells are right-aligned).
_ALIGN = re.compile(r'<(td|th) align="(left|right|center)"')
_LANGUAGE_CLASS = re.compile(r"language-[\w+#.-]+")
_CODE_BLOCK = re.compile(r'<pre><code class="language-([\w+#.-]+)">(.*?)</code></pre>', re.S)
_PRE_STYLE = "line-height: 125%; padding: 0.4em 0.6em; border-radius: 3px"

# Raw HTML a model may mean as formatting; any other tag in prose is shown as text (an unclosed `<style>`
# or `<table>` mentioned in a sentence would otherwise swallow the rest of the answer when sanitized).
_RAW_OK = frozenset({
    "a", "abbr", "b", "blockquote", "br", "cite", "code", "dd", "del", "details", "div", "dl", "dt", "em", "h1",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small",
    "span", "strong", "sub", "summary", "sup", "u", "ul", "var",
})
# The dollar rule (`mathguard`) plus two alternatives of its own: the `<` of a raw tag outside `_RAW_OK`
# (autolinks like <https://…> are left alone), and the `!` of a Markdown image, which becomes a link (a click
# away, never loaded by itself). One pass finds code, math, money, such tags and images.
_MATH = scanner(
    r"|(?P<raw><(?=/?[a-zA-Z])(?!/?(?:" + "|".join(sorted(_RAW_OK)) + r")\b)(?![a-zA-Z][\w+.-]*:|[^\s>]+@))"
    r"|(?P<image>!(?=\[))",
    lead="<!",
)
_MATH_TOKEN = re.compile(r"cmmath([0-9a-f]{8})x(\d+)x")
_lock = threading.Lock()        # one converter, used by one thread at a time
_state: dict[str, Any] = {}


def _only_language_class(element: str, attribute: str, value: str) -> str | None:
    """A `class` survives only as a fenced block's `language-…`: any other name would borrow the page's own
    CSS (JupyterLab's dialogs, menus and hidden states)."""
    if attribute == "class" and not _LANGUAGE_CLASS.fullmatch(value):
        return None
    return value


@lru_cache(maxsize=1)
def _cleaner() -> Any:
    import nh3

    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS), attributes={tag: set(names) for tag, names in _ATTRIBUTES.items()},
        url_schemes={"http", "https", "mailto"}, attribute_filter=_only_language_class,
        link_rel="noopener noreferrer nofollow", strip_comments=True, url_relative="deny",
    )


def _markdown() -> Any:
    """The shared Python-Markdown converter (built once, ~30 ms; extension objects skip the entry-point scan)."""
    converter = _state.get("markdown")
    if converter is None:
        import markdown
        from markdown.extensions.fenced_code import FencedCodeExtension
        from markdown.extensions.sane_lists import SaneListExtension
        from markdown.extensions.tables import TableExtension

        converter = markdown.Markdown(extensions=[FencedCodeExtension(), TableExtension(use_align_attribute=True),
                                                  SaneListExtension()],
                                      output_format="html")
        _state["markdown"] = converter
    return converter


def available_renderers() -> list[str]:
    """The Markdown renderers installed, fastest first."""
    found = []
    try:
        import cmarkgfm  # noqa: F401
    except ImportError:
        pass
    else:
        found.append("cmark-gfm")
    return [*found, "python-markdown"]


def renderer() -> str:
    """The renderer in use: cmark-gfm (C, ~50x faster) when installed, else Python-Markdown."""
    name = _state.get("renderer")
    if name is None:
        name = _state["renderer"] = available_renderers()[0]
    return name


def set_renderer(name: str | None) -> None:
    """Use this renderer from now on (None: the default choice)."""
    if name is not None and name not in available_renderers():
        raise ValueError(f"Markdown renderer {name!r} is not installed (have: {', '.join(available_renderers())})")
    _state["renderer"] = name


def _convert(text: str) -> str:
    """Markdown → unsanitized HTML: fenced code as `<pre><code class="language-…">`, tables, raw HTML kept."""
    if renderer() == "cmark-gfm":
        import cmarkgfm
        from cmarkgfm.cmark import Options

        options = Options.CMARK_OPT_UNSAFE          # tables align with `align`, which the sanitizer keeps
        return cmarkgfm.markdown_to_html_with_extensions(text, options=options,
                                                         extensions=["table", "strikethrough", "autolink"])
    with _lock:
        converter = _markdown()
        try:
            return converter.convert(text)
        finally:
            converter.reset()


@lru_cache(maxsize=64)
def _lexer(language: str) -> Any:
    """A Pygments lexer by name (with its states combined, `lexing.py`), or None (looking one up scans plugins:
    do it once per language)."""
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    from .lexing import accelerate

    try:
        return accelerate(get_lexer_by_name(language, stripnl=False, ensurenl=False))
    except ClassNotFound:
        return None


@lru_cache(maxsize=1)
def _formatter() -> Any:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(noclasses=True, nowrap=True, style="default")


@lru_cache(maxsize=128)
def highlight(code: str, language: str) -> str | None:
    """Code as Pygments HTML with inline styles (no wrapper), or None for an unknown language.

    Cached: a finished code block in the growing tail is re-rendered until its segment settles.
    """
    lexer = _lexer(language.lower())
    if lexer is None:
        return None
    from pygments import highlight as pygments_highlight

    return pygments_highlight(code, lexer, _formatter())


def _highlight_block(match: re.Match[str]) -> str:
    language, escaped = match.group(1), match.group(2)
    highlighted = highlight(html.unescape(escaped), language)
    if highlighted is None:
        return match.group(0)
    background = _formatter().style.background_color or "#f8f8f8"
    return f'<pre style="background: {background}; {_PRE_STYLE}"><code>{highlighted}</code></pre>'


def sanitize(fragment: str) -> str:
    """Keep only allowlisted tags, attributes, styles and URL schemes; scripts and handlers are dropped."""
    return _cleaner().clean(fragment)


def escape(text: str) -> str:
    """Plain text as HTML text."""
    return html.escape(text, quote=False)


def _protect_math(text: str) -> tuple[str, str, list[str | None]]:
    """Swap math and money `$` for opaque tokens: Markdown cannot turn `_` or `*` inside math into emphasis,
    and each money `$` comes back as a dollar MathJax leaves alone.

    Returns (text, token prefix, the math in token order, None for a money `$`).
    """
    if "$" not in text and "\\" not in text and "<" not in text and "![" not in text:
        return text, "", []
    prefix = f"cmmath{secrets.token_hex(4)}x"
    saved: list[str | None] = []

    def swap(match: re.Match[str]) -> str:
        kind = match.lastgroup
        if kind in ("fence", "code", "pair"):
            return match.group(0)
        if kind == "raw":
            return "&lt;"
        if kind == "image":
            return IMAGE_MARK                   # the image as a link to it
        saved.append(None if kind == "dollar" else match.group(0))
        return f"{prefix}{len(saved) - 1}x"

    return _MATH.sub(swap, text), prefix, saved


def _restore_math(html_text: str, prefix: str, saved: list[str | None]) -> str:
    """Put the math back HTML-escaped and each money `$` as `DOLLAR_HTML`, in one pass; inside a tag (a
    link's address, a title) both come back as plain attribute text."""
    if not saved:
        return html_text
    nonce = prefix[len("cmmath"):-1]
    # Sanitized HTML has no raw `<` or `>` in text or attribute values, so the later of the two before a token
    # says whether it sits inside a tag; only the stretch since the previous token is searched (linear).
    state = {"end": 0, "in_tag": False}

    def restore(match: re.Match[str]) -> str:
        if match.group(1) != nonce:
            return match.group(0)
        at, since = match.start(), state["end"]
        opened, closed = html_text.rfind("<", since, at), html_text.rfind(">", since, at)
        if opened != closed:                            # both -1: no tag boundary since the previous token
            state["in_tag"] = opened > closed
        state["end"] = match.end()
        math = saved[int(match.group(2))]
        if state["in_tag"]:
            return html.escape(math or "$", quote=True)
        return DOLLAR_HTML if math is None else html.escape(math, quote=True)

    return _MATH_TOKEN.sub(restore, html_text)


def render_markdown(text: str) -> str:
    """Markdown → sanitized HTML (tables, fenced code highlighted with inline styles, math left for MathJax)."""
    if not text.strip():
        return ""
    protected, prefix, saved = _protect_math(text)
    clean = sanitize(_convert(protected))
    if ' align="' in clean:
        clean = _ALIGN.sub(r'<\1 style="text-align: \2"', clean)
    if '<pre><code class="language-' in clean:
        # after sanitizing: Pygments' HTML is made here from escaped text and fixed styles, and its inline
        # styles would make the sanitizer's input ~40 % bigger
        clean = _CODE_BLOCK.sub(_highlight_block, clean)
    return _restore_math(clean, prefix, saved)


def markdown_bundle(text: str) -> dict[str, str]:
    """Markdown as a MIME bundle for a notebook: sanitized HTML (what JupyterLab shows: its own Markdown
    renderer would take "$5 … $10" for math even written `\\$`), the Markdown with money as `\\$`, and the
    text as written."""
    return {"text/html": render_markdown(text), "text/markdown": inert_markdown(text), "text/plain": text}


def code_block(text: str, language: str | None = None) -> str:
    """Text shown verbatim (a tool call, its result) as a highlighted or plain `<pre>` block, with control,
    bidi and zero-width characters written as visible escapes (`hidden_text.reveal`)."""
    text = reveal(text)
    highlighted = highlight(text, language) if language else None
    body = escape(text) if highlighted is None else highlighted      # Pygments escapes the text it wraps
    return f'<pre style="white-space: pre-wrap; margin: 0">{body}</pre>'
