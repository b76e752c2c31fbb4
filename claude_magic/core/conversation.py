"""A conversation: the API-shaped message list plus one record per turn, kept valid for the API."""

from __future__ import annotations

import copy
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from .conversation_schema import check_conversation
from .usage import Usage

__all__ = ["Conversation", "TurnRecord", "INTERRUPTED_TOOL_RESULT"]

INTERRUPTED_TOOL_RESULT = "The tool call was not run: the turn was interrupted by the user."
FORMAT_VERSION = 1


@dataclass
class TurnRecord:
    """What one prompt produced: where its messages sit, and how it went."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    prompt: str = ""
    cell_id: str | None = None
    model: str = ""
    start: int = 0                 # index of the turn's first message in `messages`
    end: int = 0                   # one past its last message
    usage: Usage = field(default_factory=Usage)
    cost: float | None = None
    stop_reason: str | None = None
    status: str = "running"        # complete, interrupted, cut_off, error, running
    started_at: float = field(default_factory=time.time)
    duration: float = 0.0
    engine: str = "api"            # which engine answered
    credential: str = ""           # secret-free label of the credential used
    session_id: str | None = None  # Claude Code engine: the CLI session holding this turn
    resume_at: str | None = None   # Claude Code engine: uuid of the turn's last transcript entry
    request_hash: str = ""         # sha256 of what was sent (claude_magic.replay.fingerprint): replay key
    replayed: bool = False         # this kernel replayed the turn from its recording (no request)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["usage"] = self.usage.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TurnRecord:
        data = dict(data)
        data["usage"] = Usage.from_dict(data.get("usage") or {})
        known = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in data.items() if key in known})


class Conversation:
    """Messages exactly as the API takes them; every public method leaves them valid."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.messages: list[dict[str, Any]] = []
        self.turns: list[TurnRecord] = []
        # The store file its recorded turns came from, when this user's kernels did not write it and the user
        # has not accepted it (`%claude restore`): replaying them asks before any tool call (claude_magic.store).
        self.untrusted_record: str | None = None

    def __repr__(self) -> str:
        label = repr(self.name) if self.name else "default"
        return f"<Conversation {label}: {len(self.turns)} turns, {len(self.messages)} messages>"

    def __len__(self) -> int:
        return len(self.turns)

    # -- building a turn -------------------------------------------------------------------------
    def add_user(self, content: list[dict[str, Any]]) -> None:
        """Append user content, merging into a trailing user message (e.g. interrupted tool results)."""
        if self.messages and self.messages[-1]["role"] == "user":
            self.messages[-1]["content"] = _as_blocks(self.messages[-1]["content"]) + list(content)
        else:
            self.messages.append({"role": "user", "content": list(content)})

    def add_assistant(self, content: list[dict[str, Any]]) -> bool:
        """Append an assistant message; empty content is dropped. Returns whether it was added."""
        if not content:
            return False
        if self.messages and self.messages[-1]["role"] == "assistant":
            self.messages[-1]["content"] = _as_blocks(self.messages[-1]["content"]) + list(content)
        else:
            self.messages.append({"role": "assistant", "content": list(content)})
        return True

    def pending_tool_uses(self) -> list[dict[str, Any]]:
        """`tool_use` blocks of the last assistant message that have no `tool_result` yet."""
        if not self.messages or self.messages[-1]["role"] != "assistant":
            return []
        return [block for block in _as_blocks(self.messages[-1]["content"]) if block.get("type") == "tool_use"]

    def answer_pending(self, text: str = INTERRUPTED_TOOL_RESULT) -> int:
        """Answer every pending `tool_use` with an error result; returns how many were answered."""
        pending = self.pending_tool_uses()
        if pending:
            self.add_user([
                {"type": "tool_result", "tool_use_id": block["id"], "content": text, "is_error": True}
                for block in pending
            ])
        return len(pending)

    def truncate(self, length: int) -> None:
        """Drop messages from index `length` on (used to roll back a turn that produced nothing)."""
        del self.messages[length:]

    # -- turns -----------------------------------------------------------------------------------
    def pop(self) -> TurnRecord | None:
        """Remove the last turn and its messages; returns its record."""
        if not self.turns:
            return None
        return self.rewind(len(self.turns) - 1)[0]

    def turn_of_cell(self, cell_id: str) -> int | None:
        """Index of the turn that the notebook cell `cell_id` sent, if any."""
        for index, record in enumerate(self.turns):
            if record.cell_id == cell_id:
                return index
        return None

    def rewind(self, turn_index: int) -> list[TurnRecord]:
        """Drop turn `turn_index` and every later turn; returns the dropped records."""
        dropped = self.turns[turn_index:]
        if dropped:
            del self.turns[turn_index:]
            self.truncate(dropped[0].start)
            self.answer_pending()
        return dropped

    def restore(self, data: dict[str, Any]) -> None:
        """Put back a state saved with `to_dict` (used when a re-asked turn fails)."""
        restored = Conversation.from_dict(data)
        self.messages, self.turns = restored.messages, restored.turns

    def reset(self) -> None:
        """Forget everything."""
        self.messages.clear()
        self.turns.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        """The messages for one request: fresh message dicts and content lists (blocks are never mutated)."""
        return [{"role": message["role"], "content": list(message["content"])
                 if isinstance(message["content"], list) else message["content"]} for message in self.messages]

    # -- persistence -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Lossless JSON-ready form (messages byte-for-byte, per-turn records)."""
        return {
            "format": "claude-magic-conversation",
            "version": FORMAT_VERSION,
            "name": self.name,
            "messages": copy.deepcopy(self.messages),
            "turns": [record.to_dict() for record in self.turns],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Conversation:
        """Inverse of `to_dict`; `ValueError` (naming what is wrong) for anything that is not one."""
        check_conversation(data)         # every message, block and turn: ValueError naming the first fault
        conversation = cls(data.get("name", ""))
        conversation.messages = copy.deepcopy(data["messages"])
        conversation.turns = [TurnRecord.from_dict(item) for item in data.get("turns", [])]
        return conversation


def _as_blocks(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Message content as a list of blocks."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return list(content)
