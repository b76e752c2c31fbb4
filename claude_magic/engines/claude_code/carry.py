"""Carrying earlier turns into a new Claude Code session: a conversation begun on the API engine (or whose Claude
Code session could not be resumed), continued here.

A Claude Code session cannot be seeded with another client's messages, so the first Claude Code turn's prompt
starts with the earlier turns as a marked transcript (text, tool calls and results; thinking and images
left out). The conversation itself keeps the real, API-shaped messages; only the prompt sent to the CLI
carries the transcript, and the CLI's session keeps it for the turns after.
"""

from __future__ import annotations

import json
from typing import Any

from ...core.conversation import Conversation
from ...tools.output import content_text

__all__ = ["carried_prompt", "CARRY_LIMIT"]

CARRY_LIMIT = 400_000          # characters of transcript carried at most (~100k tokens)
OPEN = ("<earlier_conversation>\nThe turns below came before this message in the same conversation, answered "
        "outside this Claude Code session (through the Anthropic API, or a session that could not be resumed). "
        "They are context, not a new request; answer the message after this block.\n\n")
CLOSE = "\n</earlier_conversation>"


def _transcript(messages: list[dict[str, Any]]) -> str:
    lines = []
    for message in messages:
        speaker = "User" if message["role"] == "user" else "Assistant"
        content = message["content"]
        for block in [{"type": "text", "text": content}] if isinstance(content, str) else content:
            kind = block.get("type")
            if kind == "text" and block.get("text", "").strip():
                lines.append(f"{speaker}: {block['text']}")
            elif kind in ("tool_use", "server_tool_use"):
                arguments = json.dumps(block.get("input", {}), ensure_ascii=False)
                lines.append(f"{speaker} called the tool {block.get('name')} with {arguments}")
            elif kind in ("tool_result", "web_search_tool_result"):
                error = " (an error)" if block.get("is_error") else ""
                lines.append(f"Tool result{error}: {content_text(block.get('content') or '')}")
            elif kind in ("image", "document"):
                lines.append(f"{speaker}: [{kind} left out]")
    return "\n\n".join(lines)


def carried_prompt(conversation: Conversation,
                   prompt: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """(the prompt to send, a notice) for a new session over `conversation`'s earlier turns (before `prompt`)."""
    turns = len(conversation.turns)
    end = conversation.turns[-1].end if conversation.turns else 0
    transcript = _transcript(conversation.messages[:end])
    if not transcript:
        return prompt, ""
    plural = "s" if turns != 1 else ""
    if len(transcript) > CARRY_LIMIT:
        return prompt, (f"This conversation's {turns} earlier turn{plural} are too long "
                        f"to carry into the new Claude Code session ({len(transcript):,} characters, at most {CARRY_LIMIT:,}): the "
                        "Claude Code session starts without them — `%claude reset` to start over, or ask for a "
                        "summary first.")
    notice = (f"Carried this conversation's {turns} earlier turn{plural} into the new Claude Code session as a "
              "transcript at the start of this prompt (text, tool calls and results; thinking and images left out).")
    return [{"type": "text", "text": OPEN + transcript + CLOSE}, *prompt], notice
