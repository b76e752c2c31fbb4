"""Citations a reader can follow: numbered markers after cited text and one numbered list of the sources.

A source is a web page (by URL) or an attached document (by its index in the request); every citation of it
gets the same number, in order of first appearance in the turn. A marker `[n]` links to the page (http and
https only: any other scheme becomes plain text) and shows the cited text on hover; the list under the answer
gives the title, the URL or the document and its pages, and the cited passages in a collapsed section.
Everything here comes from the model or a fetched page: escaped, then sanitized.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .render import escape, sanitize

__all__ = ["SourceList", "Source", "safe_url", "markers_html", "markers_markdown", "sources_html",
           "sources_markdown", "with_markers"]

_CITED_PREVIEW = 300


def safe_url(value: Any) -> str | None:
    """`value` when it is an http(s) URL, else None (no `javascript:`, `data:`, `mailto:` or relative links)."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(ord(c) < 33 for c in url):
        return None
    return url


@dataclass
class Source:
    """One cited page or document and what was cited from it."""

    number: int
    title: str
    url: str | None = None
    document: str | None = None
    pages: set[int] = field(default_factory=set)
    cited: list[str] = field(default_factory=list)


def _key(citation: dict[str, Any]) -> tuple[Any, ...]:
    if citation.get("url"):
        return ("url", str(citation["url"]))
    return ("document", citation.get("file_id") or citation.get("document_index"), citation.get("document_title"))


class SourceList:
    """The turn's sources, numbered by first citation."""

    def __init__(self) -> None:
        self.sources: list[Source] = []
        self._numbers: dict[tuple[Any, ...], int] = {}

    def number(self, citation: Any) -> int:
        """The number of the source `citation` cites (added on first sight); 0 for something not a citation."""
        if not isinstance(citation, dict):
            return 0
        key = _key(citation)
        found = self._numbers.get(key)
        if found is None:
            found = self._numbers[key] = len(self.sources) + 1
            url = citation.get("url")
            index = citation.get("document_index")
            document = None if url else (f"attached document {index + 1}" if isinstance(index, int)
                                         else "attached document")
            title = str(citation.get("title") or citation.get("document_title") or url or document or "source")
            self.sources.append(Source(found, title, str(url) if url else None, document))
        source = self.sources[found - 1]
        start, end = citation.get("start_page_number"), citation.get("end_page_number")
        if isinstance(start, int):
            last = end - 1 if isinstance(end, int) and end > start else start    # the API's end is exclusive
            source.pages.update(range(start, last + 1))
        cited = str(citation.get("cited_text") or "").strip()
        if cited and cited not in source.cited:
            source.cited.append(cited)
        return found

    def numbers(self, citations: Any) -> tuple[int, ...]:
        """The distinct source numbers of a block's citations, in order."""
        found: list[int] = []
        for citation in citations if isinstance(citations, list) else []:
            number = self.number(citation)
            if number and number not in found:
                found.append(number)
        return tuple(found)

    def __bool__(self) -> bool:
        return bool(self.sources)


def _pages(pages: set[int]) -> str:
    if not pages:
        return ""
    low, high = min(pages), max(pages)
    return f"p. {low}" if low == high else f"pp. {low}–{high}"


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _CITED_PREVIEW else flat[:_CITED_PREVIEW - 1] + "…"


def markers_html(block: dict[str, Any], numbers: tuple[int, ...]) -> str:
    """`[1][2]` after a cited text block: each links to its page and shows the cited text on hover."""
    if not numbers:
        return ""
    by_number: dict[int, dict[str, Any]] = {}
    for citation, number in zip(_flatten(block.get("citations"), numbers), numbers, strict=False):
        by_number.setdefault(number, citation)
    pieces = []
    for number in numbers:
        citation = by_number.get(number, {})
        hover = html.escape(_preview(f"{citation.get('title') or citation.get('document_title') or ''}: "
                                     f"{citation.get('cited_text') or ''}".strip(": ")), quote=True)
        url = safe_url(citation.get("url"))
        href = f' href="{html.escape(url, quote=True)}"' if url else ""
        pieces.append(f'<a{href} title="{hover}">[{number}]</a>')
    # built from escaped values only (an http(s) URL, text, a number), so not re-serialised by the sanitizer:
    # some nh3 releases write `<` inside attribute values back unescaped
    return f'<sup>{"".join(pieces)}</sup>'



def _flatten(citations: Any, numbers: tuple[int, ...]) -> list[dict[str, Any]]:
    """One citation per distinct number, in the order the numbers were given."""
    chosen: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    for citation in citations if isinstance(citations, list) else []:
        if isinstance(citation, dict) and _key(citation) not in seen:
            seen.add(_key(citation))
            chosen.append(citation)
    return chosen[:len(numbers)]


def with_markers(body: str, markers: str) -> str:
    """The markers inside the block's last paragraph (so they follow the text), else after it."""
    trimmed = body.rstrip()
    if markers and trimmed.endswith("</p>"):
        return trimmed[:-4] + markers + "</p>"
    return body + markers


def sources_html(sources: SourceList) -> str:
    """The numbered list of sources under the answer (empty when nothing was cited)."""
    if not sources:
        return ""
    items = []
    for source in sources.sources:
        url = safe_url(source.url)
        title = escape(source.title)
        head = f'<a href="{html.escape(url, quote=True)}">{title}</a>' if url else f"<b>{title}</b>"
        where = escape(urlsplit(url).netloc) if url else escape(source.document or "")
        if source.url and not url:
            where = escape(source.url)                  # shown, never a link
        pages = _pages(source.pages)
        detail = " · ".join(part for part in (where, pages) if part)
        cited = "".join(f"<blockquote>{escape(_preview(text))}</blockquote>" for text in source.cited)
        quoted = f"<details><summary>cited text</summary>{cited}</details>" if cited else ""
        items.append(f"<li>{head} <small>{detail}</small>{quoted}</li>")
    return sanitize(f'<div><p><small><b>Sources</b></small></p><ol>{"".join(items)}</ol></div>')


def markers_markdown(numbers: tuple[int, ...]) -> str:
    """` [1][2]` for the Markdown copy (no links: the list below has them)."""
    return (" " + "".join(f"[{number}]" for number in numbers)) if numbers else ""


def sources_markdown(sources: SourceList) -> str:
    """The sources as a Markdown list (URLs other than http(s) written as code, never as links)."""
    if not sources:
        return ""
    lines = ["**Sources**", ""]
    for source in sources.sources:
        url = safe_url(source.url)
        title = source.title.replace("[", "(").replace("]", ")")
        where = f"[{title}]({url})" if url else (f"{title} (`{source.url}`)" if source.url else title)
        extra = ", ".join(part for part in (source.document if not source.url else "", _pages(source.pages)) if part)
        cited = f" — “{_preview(source.cited[0])}”" if source.cited else ""
        lines.append(f"{source.number}. {where}{f' ({extra})' if extra else ''}{cited}")
    return "\n".join(lines)
