"""Conversation to Markdown, the one place: a turn's parts (a cell's saved `text/markdown` copy, the chat panel's
saved transcript) and a whole conversation (`%claude export`), in the same words.

What it returns is Markdown as written; callers that hand it to other programs pass it through
`inert_markdown` (money `\\$`, images as links, raw HTML as text), as the `text/markdown` copies and the export do.
"""

from __future__ import annotations

import re
from typing import Any

from ..core.conversation import Conversation
from .citations import markers_markdown, sources_markdown
from .footer import footer_text
from .inert_markdown import inert_markdown
from .transcript import Part, Transcript
from .turn_history import turn_records, turn_transcript
from .web_cards import web_card_markdown

__all__ = ["transcript_markdown", "part_markdown", "prompt_markdown", "conversation_markdown", "fence"]


def fence(text: str) -> str:
    """A code fence longer than any run of backticks in `text`, so the text cannot close it early (and what
    follows a closing fence inside a tool's output would otherwise be Markdown and raw HTML)."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    return "`" * (longest + 1)


def part_markdown(part: Part) -> str:
    """One part as Markdown."""
    if part.kind == "text":
        return part.text + markers_markdown(part.cites)
    if part.kind == "thinking":
        body = part.text.strip() or "(thinking not returned)"
        quoted = "\n".join(f"> {line}" for line in body.splitlines())
        return f"> **Thinking**\n>\n{quoted}"
    if part.kind == "redacted_thinking":
        return "> *Some thinking was redacted by the API's safety systems.*"
    if part.kind == "tool":
        name = part.block.get("name", "tool")
        lines = [f"**Tool call `{name}`** — {part.tool_status or 'requested'}"
                 + (f" ({part.tool_duration:.2f} s)" if part.tool_duration else ""),
                 fence(part.text) + "json", part.text.strip() or "{}", fence(part.text)]
        if part.tool_output:
            output = part.tool_output.strip()
            lines += ["<details><summary>Result</summary>", "", fence(output), output, fence(output),
                      "", "</details>"]
        return "\n".join(lines)
    if part.kind == "notice":
        return f"> ⚠ {part.text}" if part.block.get("level") == "warning" else f"> {part.text}"
    web = web_card_markdown(part.block)
    if web is not None:
        return web
    kind = part.block.get("type", "block")
    return f"*[{kind} block]*"


def transcript_markdown(transcript: Transcript, *, footer: bool = True) -> str:
    """The whole turn: blocks in order, then the error line and the footer."""
    sections = [part_markdown(part) for part in transcript.parts]
    sections.append(sources_markdown(transcript.sources))
    result = transcript.result
    if result is not None:
        if result.marker:
            sections.append(f"**{result.marker}**")
        if footer:
            sections.append(f"<sub>{footer_text(result)}</sub>")
    return "\n\n".join(section for section in sections if section)


def prompt_markdown(prompt: str) -> str:
    """The user's message, quoted line by line under **You:** (a multi-line prompt stays one block)."""
    quoted = "\n".join(f"> {line}" for line in prompt.splitlines() or [""])
    return f"**You:**\n\n{quoted}"


def conversation_markdown(conversation: Conversation) -> str:
    """Turn by turn: the prompt, then the turn as a cell's saved output words it (thinking, tool calls with
    their results, the answer, the footer); made inert for other programs' Markdown renderers."""
    title = f"# Conversation {conversation.name}" if conversation.name else "# Conversation with Claude"
    sections = [title]
    for number, (record, messages) in enumerate(turn_records(conversation), 1):
        sections.append(f"## Turn {number}")
        sections += [_user_markdown(block) for message in messages[:1] if message["role"] == "user"
                     for block in _blocks(message["content"])]
        sections.append(transcript_markdown(turn_transcript(record, messages, conversation.name)))
    return inert_markdown("\n\n".join(section for section in sections if section)) + "\n"


def _blocks(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def _user_markdown(block: dict[str, Any]) -> str:
    """A block of the prompt: its text quoted, an attachment named (tool results are on their tool's card)."""
    kind = block.get("type")
    if kind == "text":
        return prompt_markdown(str(block.get("text", "")))
    if kind == "tool_result":
        return ""
    return f"*[{kind} attached]*"
