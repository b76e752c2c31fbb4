"""A recorded turn: its `TurnRecord` and the messages it added, as the replay engine reads them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.conversation import Conversation, TurnRecord

__all__ = ["RecordedTurn", "recorded_turns", "REPLAYABLE_STATUS"]

REPLAYABLE_STATUS = ("complete",)   # an interrupted, cut-off or failed turn is asked again


@dataclass(frozen=True)
class RecordedTurn:
    """One turn as recorded: `messages[0]` holds its prompt, then the assistant and tool-result messages."""

    record: TurnRecord
    messages: list[dict[str, Any]]

    def replayable(self, request_hash: str) -> bool:
        """Whether a request with this fingerprint may be answered from the recording."""
        return (bool(request_hash) and self.record.request_hash == request_hash
                and self.record.status in REPLAYABLE_STATUS and bool(self.messages)
                and self.messages[0].get("role") == "user")


def recorded_turns(conversation: Conversation, first: int) -> tuple[list[RecordedTurn], list[dict[str, Any]]]:
    """The turns from index `first` on, each with its messages, and every message from the end of turn
    `first` on (what follows it, put back after an identical replay). Copies: rewinding leaves them intact."""
    records = conversation.turns[first:]
    if not records:
        return [], []
    offset = records[0].start
    messages = [_copy(message) for message in conversation.messages[offset:]]
    turns = [RecordedTurn(record, messages[record.start - offset:record.end - offset]) for record in records]
    return turns, messages[records[0].end - offset:]


def _copy(message: dict[str, Any]) -> dict[str, Any]:
    """A message with its own content list (blocks are never mutated, so they are shared)."""
    content = message["content"]
    return {**message, "content": list(content) if isinstance(content, list) else content}
