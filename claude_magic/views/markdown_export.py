"""The finished turn as Markdown text (static output, history export)."""

from __future__ import annotations

from .footer import footer_text
from .transcript import Part, Transcript

__all__ = ["transcript_markdown", "part_markdown"]


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
                 "```json", part.text.strip() or "{}", "```"]
        if part.tool_output:
            lines += ["<details><summary>Result</summary>", "", "```", part.tool_output.strip(), "```",
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
