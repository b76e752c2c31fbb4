"""The store file's format: every conversation of one notebook, versioned; reading it back strictly.

```json
{"format": "claude-magic-notebook-store", "version": 1, "notebook": "analysis.ipynb",
 "saved_at": "2026-01-01T12:00:00+00:00", "conversations": {"": {...}, "stats": {...}},
 "marks": {"": "9f2c…", "stats": "41ab…"}}
```
Each conversation is `Conversation.to_dict()` (messages byte for byte, one record per turn, with the
request fingerprint that replay compares), checked by `claude_magic.core.conversation_schema` when read. `marks`
holds the per-user HMAC of each conversation this user's kernels wrote (`claude_magic.store.trust`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from ..core.conversation import FORMAT_VERSION, Conversation, TurnRecord
from ..core.conversation_schema import check_conversation

__all__ = ["STORE_FORMAT", "STORE_VERSION", "StoreUnreadable", "Stored", "Snapshot", "snapshot", "render", "parse",
           "merge", "conversation_of"]

STORE_FORMAT = "claude-magic-notebook-store"
STORE_VERSION = 1


class StoreUnreadable(ValueError):
    """The file is not a store this version can read (`newer`: written by a later claude-magic)."""

    def __init__(self, reason: str, *, newer: bool = False) -> None:
        super().__init__(reason)
        self.newer = newer


@dataclass
class Stored:
    """A store file's conversations (name -> `Conversation.to_dict()` form) and the marks found beside them."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    marks: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    """A conversation as it was at one moment: shallow copies, taken in microseconds, serialized later."""

    name: str
    messages: list[dict[str, Any]]
    turns: list[TurnRecord]
    trusted: bool = True          # written by this user's kernels or accepted: it gets this user's mark

    def to_dict(self) -> dict[str, Any]:
        return {"format": "claude-magic-conversation", "version": FORMAT_VERSION, "name": self.name,
                "messages": self.messages, "turns": [record.to_dict() for record in self.turns]}


def snapshot(conversation: Conversation) -> Snapshot:
    """The conversation now (message dicts and content lists copied; blocks are never mutated, so shared)."""
    return Snapshot(conversation.name, conversation.snapshot(), [replace(record) for record in conversation.turns],
                    conversation.untrusted_record is None)


def render(stored: Stored, notebook: str) -> str:
    """The store file's text."""
    document = {"format": STORE_FORMAT, "version": STORE_VERSION, "notebook": notebook,
                "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "conversations": stored.entries,
                "marks": {name: value for name, value in stored.marks.items() if name in stored.entries}}
    return json.dumps(document, separators=(",", ":"))   # ASCII: a lone surrogate in a prompt still writes


def parse(document: Any) -> Stored:
    """The conversations of a decoded store file and their marks; `StoreUnreadable` if it is not a usable store."""
    if not isinstance(document, dict) or document.get("format") != STORE_FORMAT:
        raise StoreUnreadable("not a claude-magic store")
    version = document.get("version")
    if not isinstance(version, int):
        raise StoreUnreadable("no format version")
    if version > STORE_VERSION:
        raise StoreUnreadable(f"written by a newer claude-magic (store version {version}; this one reads "
                              f"{STORE_VERSION})", newer=True)
    entries = document.get("conversations")
    if not isinstance(entries, dict):
        raise StoreUnreadable("'conversations' is not an object")
    for name, entry in entries.items():
        try:
            check_conversation(entry)
        except ValueError as error:
            raise StoreUnreadable(f"conversation {name!r}: {error}") from None
    marks = document.get("marks")
    return Stored(entries, {str(name): value for name, value in marks.items() if isinstance(value, str)}
                  if isinstance(marks, dict) else {})


def conversation_of(name: str, entry: dict[str, Any]) -> Conversation:
    """A parsed entry as a Conversation named `name` (turns not marked replayed: that is per kernel)."""
    conversation = Conversation.from_dict(entry)
    conversation.name = name
    for record in conversation.turns:
        record.replayed = False
    return conversation


def merge(on_disk: Stored, ours: Stored) -> Stored:
    """Two kernels, one notebook: per conversation, the last writer wins; the ones this kernel did not
    change since it last read or wrote the file stay as the other kernel left them (with their marks)."""
    entries = {name: entry for name, entry in on_disk.entries.items() if name not in ours.entries}
    marks = {name: value for name, value in on_disk.marks.items() if name in entries}
    entries.update(ours.entries)
    marks.update(ours.marks)
    kept = {name: entry for name, entry in entries.items() if entry.get("turns") or entry.get("messages")}
    return Stored(kept, {name: value for name, value in marks.items() if name in kept})

