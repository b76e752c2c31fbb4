"""HTML for the parts that are not Markdown prose: tool cards, notes, unknown blocks, citations and the footer.

The live widgets and the saved static output use the same fragments, so a reload looks like the live view.
Every value that came from the model or a tool is escaped or sanitized here.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ..core.hidden_text import hidden_notice, reveal
from ..core.results import TurnResult
from .citations import markers_html
from .footer import footer_text
from .mathguard import text_html
from .render import code_block, escape, render_markdown, sanitize
from .transcript import Part
from .waiting import MUTED
from .web_cards import web_card_html

__all__ = [
    "MUTED", "tool_title_html", "tool_args_html", "tool_result_html", "tool_display_html", "tool_card_html",
    "note_html",
    "other_block_html", "citations_html", "cited_suffix", "footer_html", "error_html", "part_label",
]

_CARD = "border: 1px solid rgba(128, 128, 128, 0.4); border-radius: 4px; padding: 0.3em 0.6em; margin: 0.4em 0"
_STATUS_ICONS = {
    "streaming": "…", "requested": "…", "waiting for consent": "⏸", "running": "⏳", "done": "✓",
    "failed": "✗", "denied": "⊘", "timeout": "⌛", "interrupted": "■",
}
_PREVIEW = 20_000   # characters of a tool result shown in the card (the model may have seen less)


def part_label(part: Part) -> str:
    """A one-word label: the tool's name or the block type."""
    if part.kind == "tool":
        return reveal(str(part.block.get("name") or "tool"))
    return reveal(str(part.block.get("type") or part.kind))


def tool_title_html(part: Part) -> str:
    """`🔧 name · state · 0.12 s`."""
    status = part.tool_status or "requested"
    icon = _STATUS_ICONS.get(status, "•")
    duration = f" · {part.tool_duration:.2f} s" if part.tool_duration else ""
    colour = "; color: #b22" if status in ("failed", "timeout") else ""
    return (f'<div><b>🔧 {escape(part_label(part))}</b> <span style="{MUTED}{colour}">{icon} {escape(status)}'
            f"{duration}</span></div>")


def tool_args_html(part: Part) -> str:
    """The call's input: pretty JSON once complete, the raw fragments while it streams (hidden and control
    characters as escapes, and a line saying how many there are)."""
    source = part.text.strip() or "{}"
    arguments = part.block.get("input")
    notice = hidden_notice(arguments if part.finished else source,
                           "This code" if isinstance(arguments, dict) and "code" in arguments else "This call")
    warning = note_html(notice, warning=True) if notice else ""
    if part.finished:
        code = _code_argument(part)
        if code is not None:
            return warning + code
    return warning + code_block(source, "json" if part.finished else None)


def _code_argument(part: Part) -> str | None:
    """A tool whose input is one `code` string shows it as highlighted Python instead of JSON."""
    arguments = part.block.get("input")
    if isinstance(arguments, dict) and isinstance(arguments.get("code"), str):
        rest = {key: value for key, value in arguments.items() if key != "code"}
        extra = code_block(json.dumps(rest, indent=2, ensure_ascii=False), "json") if rest else ""
        return code_block(arguments["code"], "python") + extra
    return None


def tool_result_html(part: Part) -> str:
    """What the tool returned to Claude (shown collapsed), or an empty string while it has nothing."""
    if not part.tool_output:
        return ""
    output = part.tool_output
    if len(output) > _PREVIEW:
        output = output[:_PREVIEW] + f"\n… ({len(part.tool_output) - _PREVIEW:,} more characters)"
    return code_block(output)


def tool_display_html(part: Part) -> str:
    """The rich outputs the tool showed the user (figures, tables, printed text), always visible."""
    return "".join(_display_html(item) for item in part.tool_display)


def tool_card_html(part: Part, *, result_open: bool = False) -> str:
    """A whole tool card for the static output."""
    result = tool_result_html(part)
    details = ""
    if result:
        details = (f"<details{' open' if result_open else ''}><summary style=\"cursor: pointer; {MUTED}\">"
                   f"Result</summary>{result}</details>")
    return (f'<div class="claude-magic-tool" style="{_CARD}">{tool_title_html(part)}{tool_args_html(part)}'
            f"{tool_display_html(part)}{details}</div>")


def note_html(text: str, *, warning: bool = False) -> str:
    """A one-line note (redacted thinking, a retry, a warning)."""
    style = "color: #b60" if warning else MUTED
    icon = "⚠ " if warning else ""
    return f'<p style="{style}"><em>{icon}{text_html(text)}</em></p>'


def other_block_html(part: Part) -> str:
    """Something sensible for a block type this view has no special widget for."""
    block = part.block
    kind = str(block.get("type") or "block")
    web = web_card_html(block, part.text)
    if web is not None:
        return web
    if kind == "server_tool_use" or kind == "mcp_tool_use":
        name = str(block.get("name") or kind)
        arguments = block.get("input") or part.text
        summary = json.dumps(arguments, ensure_ascii=False) if not isinstance(arguments, str) else arguments
        return f'<p style="{MUTED}">🔎 <b>{escape(name)}</b> <code>{escape(summary[:300])}</code></p>'
    if kind.endswith("_tool_result"):
        return _tool_result_block_html(kind, block.get("content"))
    if kind == "compaction":
        return note_html("Earlier conversation was compacted by the API.")
    if kind == "fallback":
        return note_html(_fallback_text(block))
    for key in ("text", "content", "message"):
        value = block.get(key)
        if isinstance(value, str) and value.strip():
            return f'<div style="{MUTED}"><em>[{escape(kind)}]</em>{render_markdown(value)}</div>'
    return f'<p style="{MUTED}"><em>[{escape(kind)} block]</em></p>'


def _fallback_text(block: dict[str, Any]) -> str:
    """`fallback`: the API answered with another model (e.g. after a refusal)."""
    def model(side: Any) -> str:
        return str(side.get("model")) if isinstance(side, dict) and side.get("model") else "another model"

    trigger = block.get("trigger")
    reason = f" after a {trigger['type']}" if isinstance(trigger, dict) and trigger.get("type") else ""
    return f"Answered by {model(block.get('to'))} instead of {model(block.get('from'))}{reason}."


def _tool_result_block_html(kind: str, content: Any) -> str:
    items = content if isinstance(content, list) else []
    links = []
    for item in items[:20]:
        if isinstance(item, dict) and item.get("url"):
            links.append(_link(str(item["url"]), str(item.get("title") or item["url"])))
    label = f'<em>[{escape(kind)}]</em>'
    if links:
        return f'<div style="{MUTED}">{label}<ul>{"".join(f"<li>{link}</li>" for link in links)}</ul></div>'
    if isinstance(content, dict) and content.get("error_code"):
        return f'<p style="{MUTED}">{label} error: {escape(str(content["error_code"]))}</p>'
    return f'<p style="{MUTED}">{label}</p>'


def _link(url: str, title: str) -> str:
    return sanitize(f'<a href="{escape(url).replace(chr(34), "&quot;")}">{escape(title)}</a>')


def cited_suffix(part: Part) -> str:
    """The numbered markers after a cited text block (`citations.py`; the list of sources ends the answer)."""
    return markers_html(part.block, part.cites) if part.cites else citations_html(part.block)


def citations_html(block: dict[str, Any]) -> str:
    """A small list of the sources a text block cited (empty when it cited none): for blocks whose citations
    were not numbered by a transcript."""
    citations = block.get("citations") or []
    seen: list[str] = []
    for citation in citations:
        if not isinstance(citation, dict):
            continue
        url = citation.get("url")
        title = str(citation.get("title") or citation.get("document_title") or url or "source")
        entry = _link(str(url), title) if url else escape(title)
        if entry not in seen:
            seen.append(entry)
    if not seen:
        return ""
    return f'<p style="font-size: smaller; {MUTED}">Sources: {" · ".join(seen)}</p>'


def error_html(text: str) -> str:
    """The line saying the turn did not complete."""
    return f'<p style="color: #b22"><b>{text_html(text)}</b></p>'


def footer_html(result: TurnResult) -> str:
    """The usage/cost/time line."""
    return f'<div style="font-size: smaller; {MUTED}">{text_html(footer_text(result))}</div>'


def _display_html(item: Any) -> str:
    """A rich output a tool produced (a MIME bundle, or any object IPython can format)."""
    data = getattr(item, "data", None)
    bundle = item if isinstance(item, dict) else data if isinstance(data, dict) else _format(item)
    for mime in ("image/png", "image/jpeg"):
        data = bundle.get(mime)
        if isinstance(data, str) and _is_base64(data):
            payload = "".join(data.split())
            return f'<img src="data:{mime};base64,{payload}" style="max-width: 100%" alt="tool output">'
    if isinstance(bundle.get("text/html"), str):
        return sanitize(bundle["text/html"])
    if isinstance(bundle.get("text/markdown"), str):
        return render_markdown(bundle["text/markdown"])
    plain = bundle.get("text/plain")
    if isinstance(plain, list):
        plain = "".join(plain)
    if isinstance(plain, str) and plain:
        return code_block(plain)
    return ""


def _format(item: Any) -> dict[str, Any]:
    try:
        from IPython.core.formatters import format_display_data
    except ImportError:
        return {"text/plain": repr(item)}
    data, _metadata = format_display_data(item)
    return data


def _is_base64(data: str) -> bool:
    try:
        base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True
