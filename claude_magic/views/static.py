"""The final output bundle of a turn: sanitized HTML, the Markdown, plain text and metadata.

This is what a saved notebook keeps: it shows without a kernel, in an untrusted notebook and in nbconvert
HTML. Text blocks may come already rendered (the live view rendered each segment once while streaming);
otherwise they are rendered here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .cards import MUTED, cited_suffix, error_html, footer_html, note_html, other_block_html, tool_card_html
from .citations import sources_html, with_markers
from .inert_markdown import inert_markdown
from .markdown_export import transcript_markdown
from .render import render_markdown
from .transcript import Part, Transcript

__all__ = ["static_bundle", "static_html", "thinking_html", "output_metadata", "MIME_HTML"]

MIME_HTML = "text/html"
_THINKING_BODY = "border-left: 3px solid rgba(128, 128, 128, 0.4); padding-left: 0.6em; " + MUTED


def thinking_html(body: str, *, open_: bool = False, streaming: bool = False) -> str:
    """Thinking as a `<details>` section (collapsed unless `open_`)."""
    label = "Thinking…" if streaming else "Thinking"
    return (f'<details class="claude-magic-thinking"{" open" if open_ else ""}>'
            f'<summary style="cursor: pointer; {MUTED}">{label}</summary>'
            f'<div style="{_THINKING_BODY}">{body}</div></details>')


def _part_html(part: Part, rendered: Mapping[int, str], thinking_open: bool) -> str:
    if part.kind in ("text", "thinking"):
        body = rendered.get(id(part))
        if body is None:
            body = render_markdown(part.text)
        if part.kind == "thinking":
            return thinking_html(body or "<p><em>(thinking not returned)</em></p>", open_=thinking_open)
        return f'<div class="claude-magic-text">{with_markers(body, cited_suffix(part))}</div>'
    if part.kind == "tool":
        return tool_card_html(part)
    if part.kind == "redacted_thinking":
        return note_html("Some thinking was redacted by the API's safety systems.")
    if part.kind == "notice":
        return note_html(part.text, warning=part.block.get("level") == "warning")
    return other_block_html(part)


def static_html(transcript: Transcript, rendered: Mapping[int, str] | None = None, *,
                thinking_open: bool = False) -> str:
    """The whole turn as one sanitized HTML fragment; `rendered` maps id(part) to HTML made while streaming."""
    rendered = rendered or {}
    pieces = [_part_html(part, rendered, thinking_open) for part in transcript.parts]
    pieces.append(sources_html(transcript.sources))
    result = transcript.result
    if result is not None:
        if result.marker:                       # the error itself is raised below the output by the magic
            pieces.append(error_html(result.marker))
        pieces.append(footer_html(result))
    return f'<div class="claude-magic-output">{"".join(pieces)}</div>'


def output_metadata(transcript: Transcript) -> dict[str, Any]:
    """The answer's provenance under the `claude_magic` key (empty before the turn finished): model, engine,
    usage, cost, stop reason, turn id, when it was asked, the fingerprint of what was sent, whether replayed.

    A replayed answer carries the recorded turn's figures (what it took when it was asked) and
    `"replayed": true` (this run made no request and cost nothing), so every replay saves the same metadata.
    """
    result = transcript.result
    if result is None:
        return {}
    recorded = result.recorded if result.replayed else None
    usage, cost = (recorded.usage, recorded.cost) if recorded is not None else (result.usage, result.cost)
    duration = recorded.duration if recorded is not None else result.duration
    return {"claude_magic": {
        "model": result.model, "engine": result.engine, "status": result.status, "stop_reason": result.stop_reason,
        "usage": usage.to_dict(), "cost": cost, "duration": round(duration, 3),
        "turn_id": result.turn_id, "conversation": result.conversation,
        "timestamp": _timestamp(result.answered_at), "request_hash": result.request_hash or None,
        "replayed": result.replayed,
    }}


def _timestamp(epoch: float | None) -> str | None:
    """ISO 8601 in UTC, to the second."""
    if epoch is None:
        return None
    from datetime import datetime, timezone

    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")


def static_bundle(transcript: Transcript, rendered: Mapping[int, str] | None = None, *,
                  thinking_open: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """(data, metadata) for `display`/`handle.update(..., raw=True)`: money `$` is `\\$` in the Markdown only."""
    markdown = transcript_markdown(transcript)
    data = {MIME_HTML: static_html(transcript, rendered, thinking_open=thinking_open),
            "text/markdown": inert_markdown(markdown), "text/plain": markdown}
    return data, output_metadata(transcript)
