"""Web search and web fetch, played from a fixture corpus: no network, the API's blocks, citations and usage.

A test gives the server pages (`server.web.add(url, title, text)`) and scripts Claude's calls in a reply:

```python
server.web.add("https://example.org/a", "Column codes", "RSRP is the reference signal received power.")
server.queue(Reply(web_search("what is rsrp"), web_fetch("https://example.org/a"),
                   text("RSRP is a power level.", citations=[cite("https://example.org/a", "RSRP is ...")])))
```

Before the reply is sent, `WebCorpus.resolve` turns each call into the pair of blocks the API sends
(`server_tool_use` then `web_search_tool_result` / `web_fetch_tool_result`), following the request's tool
definitions as the API does: a tool the request did not offer cannot be called (the test's script is wrong:
the server answers 500 and keeps the error), `max_uses` turns later calls into `max_uses_exceeded` errors,
`allowed_domains` / `blocked_domains` filter results and refuse fetches (`url_not_allowed`), a fetch of a URL
that appeared nowhere before (the user's messages, earlier results) is `url_not_in_prior_context`, one the
corpus lacks `url_not_accessible`. Successful calls are counted in `usage.server_tool_use`. Citations made
with `cite(url, cited_text)` get the page's title and an opaque `encrypted_index`. Search results carry an
opaque `encrypted_content` that the server remembers: a later request that sends one back altered is refused
(our assumption of what the API does with tampered results). A paused turn (`pause_turn`) may end with a call
that has not run yet; when it comes back for continuation, the next reply starts with that call's result.
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from .script import RawBlock, Reply, TextBlock, WebCall

__all__ = ["Page", "WebCorpus", "WebCall", "web_search", "web_fetch", "cite"]

_WORD = re.compile(r"[a-z0-9]+")
_URL = re.compile(r"https?://[^\s\"'<>)\]]+")
_SEARCH_RESULTS = 5


@dataclass(frozen=True)
class Page:
    """One page of the corpus: what a search finds and a fetch returns (`media_type="application/pdf"`: `text`
    holds the PDF's bytes as latin-1 text and the fetch returns it as a base64 PDF document)."""

    url: str
    title: str
    text: str
    page_age: str | None = None
    media_type: str = "text/plain"


def web_search(query: str, id: str | None = None) -> WebCall:  # noqa: A002 - the API's field name
    """Claude searches the web for `query` (answered from the server's corpus)."""
    return WebCall("web_search", {"query": query}, id or f"srvtoolu_local_{secrets.token_hex(8)}")


def web_fetch(url: str, id: str | None = None) -> WebCall:  # noqa: A002
    """Claude fetches `url` (answered from the server's corpus)."""
    return WebCall("web_fetch", {"url": url}, id or f"srvtoolu_local_{secrets.token_hex(8)}")


def cite(url: str, cited_text: str) -> dict[str, Any]:
    """A `web_search_result_location` citation of a corpus page; its title and index are filled in when sent."""
    return {"type": "web_search_result_location", "url": url, "cited_text": cited_text}


def _domain(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _domain_matches(url: str, domains: list[str]) -> bool:
    host = _domain(url)
    for entry in domains:
        entry = entry.lower().strip()
        if "/" in entry:                           # a domain with a path: a prefix of host + path
            where = host + urlsplit(url).path
            if where.startswith(entry):
                return True
        elif host == entry or host.endswith("." + entry):
            return True
    return False


def _allowed(url: str, tool: dict[str, Any]) -> bool:
    allowed, blocked = tool.get("allowed_domains"), tool.get("blocked_domains")
    if allowed and not _domain_matches(url, list(allowed)):
        return False
    return not (blocked and _domain_matches(url, list(blocked)))


def _text_of(value: Any) -> str:
    """All strings inside a message's content (text blocks, tool results), joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(_text_of(item) for item in value)
    if isinstance(value, dict):
        return " ".join(_text_of(item) for key, item in value.items() if key != "encrypted_content")
    return ""


@dataclass(frozen=True)
class _Pending:
    """A web call at the end of a paused turn sent back for continuation, not run yet: answered first."""

    call: WebCall


def _pending_calls(body: dict[str, Any], tools: dict[Any, dict[str, Any]]) -> list[_Pending]:
    """The offered web calls without a result in the request's last message, when it is Claude's (a paused turn
    sent back as it was)."""
    messages = body.get("messages") or []
    last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
    content = last.get("content") if last.get("role") == "assistant" else None
    blocks = [item for item in content if isinstance(item, dict)] if isinstance(content, list) else []
    answered = {item.get("tool_use_id") for item in blocks if str(item.get("type", "")).endswith("_tool_result")}
    return [_Pending(WebCall(str(item["name"]), dict(item.get("input") or {}), str(item["id"])))
            for item in blocks if item.get("type") == "server_tool_use" and item.get("name") in tools
            and item.get("id") not in answered and isinstance(item.get("id"), str)]


class WebCorpus:
    """The pages the local server's web tools know, and the opaque values it has handed out."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self._issued: set[str] = set()
        self._lock = threading.Lock()

    def add(self, url: str, title: str, text: str, *, page_age: str | None = None,
            media_type: str = "text/plain") -> Page:
        """Add (or replace) a page; returns it."""
        page = Page(url, title, text, page_age, media_type)
        self.pages[url] = page
        return page

    def clear(self) -> None:
        """Forget the pages and the issued values."""
        self.pages.clear()
        with self._lock:
            self._issued.clear()

    def search(self, query: str, tool: dict[str, Any]) -> list[Page]:
        """Pages sharing words with `query`, best first, within the tool's domain rules."""
        words = set(_WORD.findall(query.lower()))
        scored = []
        for order, page in enumerate(self.pages.values()):
            if not _allowed(page.url, tool):
                continue
            score = len(words & set(_WORD.findall(f"{page.title} {page.text}".lower())))
            if score:
                scored.append((-score, order, page))
        return [page for _score, _order, page in sorted(scored, key=lambda item: item[:2])][:_SEARCH_RESULTS]

    def issued(self, value: str) -> bool:
        """Whether `value` is an `encrypted_content` this server handed out."""
        with self._lock:
            return value in self._issued

    def _issue(self, kind: str) -> str:
        value = f"{kind}_local_{secrets.token_urlsafe(24)}"
        with self._lock:
            self._issued.add(value)
        return value

    # --- turning a scripted reply into what the API sends ------------------------------------------

    def resolve(self, reply: Reply, body: dict[str, Any]) -> Reply:
        """`reply` with its `WebCall`s answered and its web citations completed (unchanged if it has neither)."""
        tools = {tool.get("name"): tool for tool in body.get("tools") or []
                 if isinstance(tool, dict) and str(tool.get("type", "")).startswith(("web_search_", "web_fetch_"))}
        blocks: list[Any] = [*_pending_calls(body, tools), *reply.blocks]
        if not any(isinstance(item, (WebCall, _Pending)) for item in blocks) and not any(
                isinstance(item, TextBlock) and item.citations for item in blocks):
            return reply
        seen = set(_URL.findall(_text_of([m.get("content") for m in body.get("messages") or []
                                         if isinstance(m, dict)])))
        uses = {"web_search": 0, "web_fetch": 0}
        billed = {"web_search_requests": 0, "web_fetch_requests": 0}
        out: list[Any] = []
        for item in blocks:
            if isinstance(item, _Pending):            # a paused turn's call that had not run: its result first
                result, ok = self._answer(item.call, tools[item.call.name], 1, seen)
                billed[f"{item.call.name}_requests"] += int(ok)
                out.append(RawBlock(result))
            elif isinstance(item, WebCall):
                tool = tools.get(item.name)
                if tool is None:
                    raise ValueError(f"the script calls {item.name}, but the request did not offer it "
                                     f"(tools: {sorted(str(name) for name in tools) or 'none'})")
                uses[item.name] += 1
                result, ok = self._answer(item, tool, uses[item.name], seen)
                if ok:
                    billed[f"{item.name}_requests"] += 1
                out += [RawBlock({"type": "server_tool_use", "id": item.id, "name": item.name, "input": item.input,
                                  "caller": {"type": "direct"}}), RawBlock(result)]
            elif isinstance(item, TextBlock) and item.citations:
                out.append(replace(item, citations=tuple(self._complete(c) for c in item.citations)))
            else:
                out.append(item)
        usage = dict(reply.usage or {})
        if any(billed.values()) or tools:
            usage.setdefault("server_tool_use", billed)
        resolved = Reply(*out, stop_reason=reply.stop_reason, model=reply.model, usage=usage or None,
                         delay=reply.delay, chunk=reply.chunk, fault=reply.fault, stop_sequence=reply.stop_sequence,
                         stop_details=reply.stop_details)
        return resolved

    def _answer(self, call: WebCall, tool: dict[str, Any], use: int, seen: set[str]) -> tuple[dict[str, Any], bool]:
        """The result block of one call and whether it succeeded (is billed)."""
        kind = f"{call.name}_tool_result"
        max_uses = tool.get("max_uses")
        if isinstance(max_uses, int) and use > max_uses:
            return self._error(kind, call, "max_uses_exceeded"), False
        if call.name == "web_search":
            query = str(call.input.get("query") or "")
            if not query.strip():
                return self._error(kind, call, "invalid_tool_input"), False
            results = [{"type": "web_search_result", "title": page.title, "url": page.url,
                        "encrypted_content": self._issue("enc"), "page_age": page.page_age}
                       for page in self.search(query, tool)]
            seen.update(result["url"] for result in results)
            return {"type": kind, "tool_use_id": call.id, "content": results, "caller": {"type": "direct"}}, True
        url = str(call.input.get("url") or "")
        if not url.startswith(("http://", "https://")):
            return self._error(kind, call, "invalid_tool_input"), False
        if not _allowed(url, tool):
            return self._error(kind, call, "url_not_allowed"), False
        if url not in seen:
            return self._error(kind, call, "url_not_in_prior_context"), False
        page = self.pages.get(url)
        if page is None:
            return self._error(kind, call, "url_not_accessible"), False
        source = ({"type": "base64", "media_type": "application/pdf",
                   "data": base64.b64encode(page.text.encode("latin-1", "replace")).decode("ascii")}
                  if page.media_type == "application/pdf" else
                  {"type": "text", "media_type": "text/plain", "data": page.text})
        document: dict[str, Any] = {"type": "document", "title": page.title, "source": source}
        citations = tool.get("citations")
        if isinstance(citations, dict) and citations.get("enabled"):
            document["citations"] = {"enabled": True}
        seen.update(_URL.findall(page.text))
        fetched = {"type": "web_fetch_result", "url": url, "content": document,
                   "retrieved_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")}
        return {"type": kind, "tool_use_id": call.id, "content": fetched, "caller": {"type": "direct"}}, True

    @staticmethod
    def _error(kind: str, call: WebCall, code: str) -> dict[str, Any]:
        error_type = "web_search_tool_result_error" if call.name == "web_search" else "web_fetch_tool_result_error"
        return {"type": kind, "tool_use_id": call.id, "content": {"type": error_type, "error_code": code},
                "caller": {"type": "direct"}}

    def _complete(self, citation: dict[str, Any]) -> dict[str, Any]:
        if citation.get("type") != "web_search_result_location" or "encrypted_index" in citation:
            return citation
        page = self.pages.get(str(citation.get("url")))
        return {**citation, "title": page.title if page else citation.get("title"),
                "encrypted_index": self._issue("idx")}

    def check_history(self, messages: Any) -> str | None:
        """The API's complaint about search results sent back altered (an `encrypted_content` it never issued)."""
        for index, message in enumerate(messages if isinstance(messages, list) else []):
            content = message.get("content") if isinstance(message, dict) else None
            for position, item in enumerate(content if isinstance(content, list) else []):
                if not isinstance(item, dict) or item.get("type") != "web_search_tool_result":
                    continue
                for result in item.get("content") if isinstance(item.get("content"), list) else []:
                    value = result.get("encrypted_content") if isinstance(result, dict) else None
                    if isinstance(value, str) and value.startswith("enc_local_") and not self.issued(value):
                        return (f"messages.{index}.content.{position}: Invalid `encrypted_content` in "
                                "`web_search_result` block")
        return None
