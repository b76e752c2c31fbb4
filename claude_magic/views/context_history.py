"""Where a conversation was compacted, for `%claude history`: a row after the turn that compacted, the summaries."""

from __future__ import annotations

from typing import Any

from ..core.conversation import Conversation
from ..core.redaction import redact

__all__ = ["compaction_rows", "summaries"]


def _compactions(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [block for message in messages if message["role"] == "assistant" and isinstance(message["content"], list)
            for block in message["content"] if block.get("type") == "compaction" and block.get("content")]


def compaction_rows(conversation: Conversation, number: int, columns: int) -> list[str]:
    """Table rows marking the compactions turn `number` (1-based) holds: Claude reads on from a summary there."""
    record = conversation.turns[number - 1]
    found = _compactions(conversation.messages[record.start:record.end])
    empty = " |" * (columns - 2)
    return [f"| | ⟲ **compacted here**: later turns send a summary ({len(block['content']):,} characters) in "
            f"place of turns 1–{number}; they stay in this history and the store |{empty}" for block in found]


def summaries(conversation: Conversation) -> list[str]:
    """The text of every summary, in order, numbered by the turn that made it (`%claude history --full`)."""
    lines: list[str] = []
    for number, record in enumerate(conversation.turns, 1):
        for block in _compactions(conversation.messages[record.start:record.end]):
            lines += ["", f"**Summary made at turn {number}:**", "", redact(str(block["content"]))]
    return lines
