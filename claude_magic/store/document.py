"""The store file's format: every conversation of one notebook, versioned; reading it back strictly.

```json
{"format": "claude-magic-notebook-store", "version": 1, "notebook": "analysis.ipynb",
 "saved_at": "2026-01-01T12:00:00+00:00", "conversations": {"": {...}, "stats": {...}}}
```
Each conversation is `Conversation.to_dict()` (messages byte for byte, one record per turn, with the
request fingerprint that replay compares).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from ..conversation import FORMAT_VERSION, Conversation, TurnRecord

__all__ = ["STORE_FORMAT", "STORE_VERSION", "StoreUnreadable", "Snapshot", "snapshot", "render", "parse", "merge",
           "conversation_of"]

STORE_FORMAT = "claude-magic-notebook-store"
STORE_VERSION = 1


class StoreUnreadable(ValueError):
    """The file is not a store this version can read (`newer`: written by a later claude-magic)."""

    def __init__(self, reason: str, *, newer: bool = False) -> None:
        super().__init__(reason)
        self.newer = newer


@dataclass(frozen=True)
class Snapshot:
    """A conversation as it was at one moment: shallow copies, taken in microseconds, serialized later."""

    name: str
    messages: list[dict[str, Any]]
    turns: list[TurnRecord]

    def to_dict(self) -> dict[str, Any]:
        return {"format": "claude-magic-conversation", "version": FORMAT_VERSION, "name": self.name,
                "messages": self.messages, "turns": [record.to_dict() for record in self.turns]}


def snapshot(conversation: Conversation) -> Snapshot:
    """The conversation now (message dicts and content lists copied; blocks are never mutated, so shared)."""
    return Snapshot(conversation.name, conversation.snapshot(), [replace(record) for record in conversation.turns])


def render(conversations: dict[str, dict[str, Any]], notebook: str) -> str:
    """The store file's text."""
    document = {"format": STORE_FORMAT, "version": STORE_VERSION, "notebook": notebook,
                "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "conversations": conversations}
    return json.dumps(document, separators=(",", ":"))   # ASCII: a lone surrogate in a prompt still writes


def parse(text: str) -> dict[str, dict[str, Any]]:
    """The conversations of a store file (name -> `Conversation.to_dict()` form); `StoreUnreadable` if it is not one."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise StoreUnreadable(f"not JSON ({error})") from None
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
            conversation = Conversation.from_dict(entry)
        except (ValueError, TypeError, KeyError) as error:
            raise StoreUnreadable(f"conversation {name!r}: {error}") from None
        length = len(conversation.messages)
        if any(not 0 <= record.start <= record.end <= length for record in conversation.turns):
            raise StoreUnreadable(f"conversation {name!r}: a turn points outside its messages")
    return entries


def conversation_of(name: str, entry: dict[str, Any]) -> Conversation:
    """A parsed entry as a Conversation named `name` (turns not marked replayed: that is per kernel)."""
    conversation = Conversation.from_dict(entry)
    conversation.name = name
    for record in conversation.turns:
        record.replayed = False
    return conversation


def merge(on_disk: dict[str, dict[str, Any]], ours: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Two kernels, one notebook: per conversation, the last writer wins; the ones this kernel did not
    change since it last read or wrote the file stay as the other kernel left them."""
    merged = {name: entry for name, entry in on_disk.items() if name not in ours}
    merged.update(ours)
    return {name: entry for name, entry in merged.items() if entry.get("turns") or entry.get("messages")}

