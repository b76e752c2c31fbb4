"""The chat as an ordinary output that a saved notebook keeps: sanitized HTML, Markdown and plain text.

The live panel is widgets, which a notebook does not save; this bundle sits in a display handle under
the panel and is updated after every turn. While the panel is alive its own `<style>` hides the bundle
(it would repeat the chat); without a kernel, in nbconvert or on GitHub there is no panel and it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..views.cards import MUTED
from ..views.inert_markdown import inert_markdown
from ..views.markdown_export import prompt_markdown
from ..views.mathguard import text_html

__all__ = ["Turn", "prompt_html", "transcript_bundle", "panel_style", "transcript_class"]

_BUBBLE = ("background: rgba(128, 128, 128, 0.12); border-radius: 6px; padding: 0.3em 0.7em; "
           "margin: 0.8em 0 0.3em 12%")


@dataclass(frozen=True)
class Turn:
    """One turn as drawn: the prompt, the answer's sanitized HTML and its Markdown (as written, no `\\$`)."""

    prompt: str
    html: str
    markdown: str
    source: str = ""            # "" (the panel or Python) or "cell"
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)   # the answer's `claude_magic` metadata


def prompt_html(prompt: str, source: str = "") -> str:
    """The user's message as a bubble, verbatim (line breaks kept, nothing interpreted, no `$` taken for math)."""
    label = "You" + (" · from a notebook cell" if source == "cell" else "")
    return (f'<div class="claude-magic-prompt" style="{_BUBBLE}"><div style="font-size: smaller; {MUTED}">'
            f'<b>{label}</b></div><div style="white-space: pre-wrap">{text_html(prompt)}</div></div>')


def transcript_class(panel_id: str) -> str:
    return f"claude-magic-transcript-{panel_id}"


def panel_style(panel_id: str) -> str:
    """The live panel's `<style>`: hide its own saved transcript while it is on screen, and let the list
    and each drawn turn use the full width (an HTML widget's content otherwise shrinks to fit; a width of
    100% would overflow by the widgets' margins)."""
    return (f"<style>.{transcript_class(panel_id)} {{ display: none; }}"
            ".claude-magic-stretch { align-self: stretch; }"
            ".claude-magic-entry > .widget-htmlmath-content { flex: 1 1 auto; min-width: 0; }</style>")


def transcript_bundle(panel_id: str, title: str, turns: list[Turn]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(data, metadata) for `display(..., raw=True)` / `update_display`."""
    if turns:
        body = "".join(prompt_html(turn.prompt, turn.source) + turn.html for turn in turns)
    else:
        body = f'<p style="{MUTED}"><em>No messages yet.</em></p>'
    html = (f'<div class="claude-magic-chat-transcript {transcript_class(panel_id)}">'
            f'<div style="{MUTED}"><b>{text_html(title)}</b> · {len(turns)} turn{"" if len(turns) == 1 else "s"}'
            f"</div>{body}</div>")
    sections = [f"**{title}**"]
    for turn in turns:
        sections.append(f"{prompt_markdown(turn.prompt)}\n\n**Claude:**\n\n{turn.markdown}")
    markdown = "\n\n---\n\n".join(sections)
    metadata = {"claude_magic": {"chat_panel": panel_id, "turns": len(turns),
                                 "answers": [dict(turn.provenance) for turn in turns]}}   # each answer's provenance
    return {"text/html": html, "text/markdown": inert_markdown(markdown), "text/plain": markdown}, metadata
