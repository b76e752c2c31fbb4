"""Cards for the API's web tools: the search made and its results, the page fetched, the error if any.

A fetched page is hostile: its title and text are escaped, its text is shown only as plain text in a collapsed
section (never Markdown, never HTML), and a URL is a link only when it is http(s) (`citations.safe_url`).
"""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import urlsplit

from .citations import safe_url
from .render import escape, sanitize

__all__ = ["web_card_html", "web_card_markdown", "WEB_ERRORS"]

_CARD = "border: 1px solid rgba(128, 128, 128, 0.4); border-radius: 4px; padding: 0.3em 0.6em; margin: 0.4em 0"
_FETCH_PREVIEW = 3000
_RESULTS = 20
WEB_ERRORS = {
    "max_uses_exceeded": "the turn's limit of uses was reached (max_uses)",
    "url_not_allowed": "the address is outside the allowed domains",
    "url_not_in_prior_context": "the address did not appear in the conversation before",
    "url_not_accessible": "the page could not be reached",
    "too_many_requests": "rate limited",
    "unavailable": "the tool is unavailable",
    "invalid_tool_input": "the request was not valid",
    "query_too_long": "the query is too long",
    "url_too_long": "the address is too long",
    "unsupported_content_type": "the page's content type is not supported",
    "content_too_large": "the page is too large",
    "request_too_large": "the request is too large",
}


def _link(url: Any, title: str) -> str:
    safe = safe_url(url)
    if safe is None:
        return escape(title if title else str(url))
    return f'<a href="{html.escape(safe, quote=True)}">{escape(title or safe)}</a>'


def _input(block: dict[str, Any], text: str) -> dict[str, Any]:
    given = block.get("input")
    if isinstance(given, dict) and given:
        return given
    try:
        parsed = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _error(content: Any) -> str | None:
    if isinstance(content, dict) and str(content.get("type", "")).endswith("_tool_result_error"):
        code = str(content.get("error_code") or "error")
        return f"{code}: {WEB_ERRORS[code]}" if code in WEB_ERRORS else code
    return None


def _card(body: str) -> str:
    return sanitize(f"<div>{body}</div>").replace("<div>", f'<div class="claude-magic-web" style="{_CARD}">', 1)


def web_card_html(block: dict[str, Any], text: str = "") -> str | None:
    """The card for a web tool block, or None for any other block."""
    kind = block.get("type")
    if kind == "server_tool_use" and block.get("name") in ("web_search", "web_fetch"):
        arguments = _input(block, text)
        if block.get("name") == "web_search":
            query = str(arguments.get("query") or text or "…")
            return _card(f"🔎 <b>Web search</b> <code>{escape(query[:500])}</code>")
        return _card(f"🌐 <b>Web fetch</b> {_link(arguments.get('url'), str(arguments.get('url') or '…'))}")
    if kind == "web_search_tool_result":
        content = block.get("content")
        error = _error(content)
        if error:
            return _card(f'<span style="color: #b22">⚠ <b>Search failed</b> — {escape(error)}</span>')
        results = [item for item in content if isinstance(item, dict)] if isinstance(content, list) else []
        rows = []
        for item in results[:_RESULTS]:
            host = urlsplit(str(item.get("url") or "")).netloc
            age = f" · {escape(str(item['page_age']))}" if item.get("page_age") else ""
            rows.append(f"<li>{_link(item.get('url'), str(item.get('title') or ''))} "
                        f"<small>{escape(host)}{age}</small></li>")
        more = f"<li><small>… {len(results) - _RESULTS} more</small></li>" if len(results) > _RESULTS else ""
        count = f"{len(results)} result{'s' if len(results) != 1 else ''}"
        return _card(f"<details><summary>🔎 {count}</summary><ul>{''.join(rows)}{more}</ul></details>")
    if kind == "web_fetch_tool_result":
        content = block.get("content")
        error = _error(content)
        if error:
            return _card(f'<span style="color: #b22">⚠ <b>Fetch failed</b> — {escape(error)}</span>')
        fetched = content if isinstance(content, dict) else {}
        document = fetched.get("content") if isinstance(fetched.get("content"), dict) else {}
        source = document.get("source") if isinstance(document.get("source"), dict) else {}
        data = source.get("data") if source.get("type") == "text" else None
        title = str(document.get("title") or fetched.get("url") or "page")
        size = f" · {len(data):,} characters" if isinstance(data, str) else " · binary content"
        preview = ""
        if isinstance(data, str) and data:
            shown = data[:_FETCH_PREVIEW] + (f"\n… ({len(data) - _FETCH_PREVIEW:,} more characters)"
                                             if len(data) > _FETCH_PREVIEW else "")
            preview = f"<details><summary>page text</summary><pre>{escape(shown)}</pre></details>"
        return _card(f"📄 <b>Fetched</b> {_link(fetched.get('url'), title)} <small>{size[3:]}</small>{preview}")
    return None


def web_card_markdown(block: dict[str, Any]) -> str | None:
    """A line for the Markdown copy and exports, or None for any other block."""
    kind = block.get("type")
    if kind == "server_tool_use" and block.get("name") in ("web_search", "web_fetch"):
        arguments = block.get("input") if isinstance(block.get("input"), dict) else {}
        if block.get("name") == "web_search":
            return f"*🔎 Web search:* `{str(arguments.get('query') or '').replace('`', '')}`"
        return f"*🌐 Web fetch:* `{str(arguments.get('url') or '').replace('`', '')}`"
    if kind in ("web_search_tool_result", "web_fetch_tool_result"):
        content = block.get("content")
        error = _error(content)
        if error:
            return f"*⚠ {'Search' if kind.startswith('web_search') else 'Fetch'} failed: {error}*"
        if kind == "web_search_tool_result":
            items = [item for item in content if isinstance(item, dict)] if isinstance(content, list) else []
            lines = [f"- {_md_link(item.get('url'), str(item.get('title') or ''))}" for item in items[:_RESULTS]]
            return "\n".join([f"*{len(items)} search result(s):*", *lines])
        fetched = content if isinstance(content, dict) else {}
        document = fetched.get("content") if isinstance(fetched.get("content"), dict) else {}
        return f"*📄 Fetched:* {_md_link(fetched.get('url'), str(document.get('title') or ''))}"
    return None


def _md_link(url: Any, title: str) -> str:
    title = " ".join(title.replace("[", "(").replace("]", ")").split()) or str(url)
    safe = safe_url(url)
    return f"[{title}]({safe})" if safe else f"{title} (`{str(url).replace('`', '')}`)"
