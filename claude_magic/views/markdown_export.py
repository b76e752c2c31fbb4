"""The finished turn as Markdown text (static output, history export)."""

from __future__ import annotations

import re

from .footer import footer_text
from .transcript import Part, Transcript

__all__ = ["transcript_markdown", "part_markdown", "fence"]


def fence(text: str) -> str:
    """A code fence longer than any run of backticks in `text`, so the text cannot close it early (and what
    follows a closing fence inside a tool's output would otherwise be Markdown and raw HTML)."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    return "`" * (longest + 1)


def part_markdown(part: Part) -> str:
    """One part as Markdown."""
    if part.kind == "text":
        return part.text
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
    kind = part.block.get("type", "block")
    return f"*[{kind} block]*"


def transcript_markdown(transcript: Transcript, *, footer: bool = True) -> str:
    """The whole turn: blocks in order, then the error line and the footer."""
    sections = [part_markdown(part) for part in transcript.parts]
    result = transcript.result
    if result is not None:
        if result.marker:
            sections.append(f"**{result.marker}**")
        if footer:
            sections.append(f"<sub>{footer_text(result)}</sub>")
    return "\n\n".join(section for section in sections if section)
