"""What a request sends of a long conversation: from its last compaction on, with the API's context management.

The conversation keeps every message (the store, `save`, `export` and replay read it whole); a request sends the
part from the last `compaction` block on, that block first, as the API takes it back (`messages` "in place of the
messages it summarizes"). With `Settings.context_management == "auto"` and a model whose `capabilities.
context_management` lists them, a request asks the API to clear old tool results (`clear_tool_uses_20250919`) and
to compact at the trigger (`compact_20260112`); those go through the SDK's beta client (`betas=`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from ..core.settings import Settings

__all__ = ["BETA_CONTEXT_MANAGEMENT", "BETA_COMPACT", "BETA_SUMMARIZE", "ContextSupport", "context_support",
           "sent_messages", "with_context_management", "last_compaction", "COMPACT_SHARE", "CLEAR_SHARE"]

BETA_CONTEXT_MANAGEMENT = "context-management-2025-06-27"
BETA_COMPACT = "compact-2026-01-12"
BETA_SUMMARIZE = "compact-2026-09-04"
COMPACT_SHARE = 0.8         # compact at most at this share of the context window
CLEAR_SHARE = 0.5           # clear old tool results at most at this share


@dataclass(frozen=True)
class ContextSupport:
    """Which context management a model accepts (from `models.retrieve(id).capabilities`)."""

    clear_tool_uses: bool = False
    compact: bool = False
    summarize: bool = False          # the top-level `compaction` request (`%claude compact`)
    known: bool = False              # the server described the model at all

    @property
    def any(self) -> bool:
        return self.clear_tool_uses or self.compact


def _supported(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, dict):
        return bool(value.get("supported"))
    return bool(getattr(value, "supported", False))


def _field(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)


def context_support(info: Any) -> ContextSupport:
    """A model's context management from its `ModelInfo` (None: the server does not describe it)."""
    capabilities = getattr(info, "capabilities", None) if info is not None else None
    if capabilities is None:
        return ContextSupport()
    managed = _field(capabilities, "context_management")
    on = _supported(managed)
    compaction = _field(capabilities, "compaction")      # not in the SDK's non-beta type: read as sent
    return ContextSupport(clear_tool_uses=on and _supported(_field(managed, "clear_tool_uses_20250919")),
                          compact=on and _supported(_field(managed, "compact_20260112")),
                          summarize=_supported(compaction) and _supported(_field(compaction, "summarize")),
                          known=True)


def last_compaction(messages: list[dict[str, Any]]) -> tuple[int, int] | None:
    """(message, block) of the last `compaction` block with content, or None (each content list is looked at once:
    a long conversation's next request costs what is new)."""
    positions = _SCANS.positions([message["content"] for message in messages])
    for index in range(len(positions) - 1, -1, -1):
        if positions[index] >= 0 and messages[index]["role"] == "assistant":
            return index, positions[index]
    return None


class _CompactionScans:
    """Where each content list's last compaction block is (-1: none), kept for the lists of the last scan (content
    lists are replaced, never changed in place; the kept reference stops an id being reused)."""

    def __init__(self) -> None:
        self._known: dict[int, tuple[Any, int]] = {}
        self._lock = threading.Lock()

    def positions(self, contents: list[Any]) -> list[int]:
        with self._lock:
            known, seen, found = self._known, {}, []
            for content in contents:
                entry = known.get(id(content))
                if entry is None or entry[0] is not content:
                    entry = (content, _last_compaction_in(content))
                seen[id(content)] = entry
                found.append(entry[1])
            self._known = seen
            return found


def _last_compaction_in(content: Any) -> int:
    if not isinstance(content, list):
        return -1
    for position in range(len(content) - 1, -1, -1):
        block = content[position]
        if block.get("type") == "compaction" and block.get("content") is not None:
            return position
    return -1


_SCANS = _CompactionScans()


def sent_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages a request sends, from the last compaction block on: a new list of the conversation's message
    dicts (never changed in place: a turn appends messages or replaces the last one's content), the first one new."""
    start = last_compaction(messages)
    if start is None:
        return list(messages)
    index, position = start
    return [{"role": "assistant", "content": messages[index]["content"][position:]}, *messages[index + 1:]]


def with_context_management(params: dict[str, Any], settings: Settings, support: ContextSupport,
                            window: int) -> dict[str, Any]:
    """`params` with `context_management` and the `betas` it needs (also when the messages carry a compaction
    block, which only the beta endpoint takes); unchanged when there is nothing to add."""
    betas: list[str] = []
    edits: list[dict[str, Any]] = []
    if settings.context_management == "auto" and support.clear_tool_uses:
        edits.append({"type": "clear_tool_uses_20250919",
                      "trigger": {"type": "input_tokens", "value": _capped(settings.clear_trigger, window, CLEAR_SHARE)},
                      "keep": {"type": "tool_uses", "value": settings.clear_keep}})
        betas.append(BETA_CONTEXT_MANAGEMENT)
    if settings.context_management == "auto" and support.compact:
        edits.append({"type": "compact_20260112",
                      "trigger": {"type": "input_tokens",
                                  "value": _capped(settings.compact_trigger, window, COMPACT_SHARE)}})
        betas.append(BETA_COMPACT)
    carries = last_compaction(params["messages"]) is not None
    if carries and BETA_COMPACT not in betas:
        betas.append(BETA_COMPACT)
    if not betas:
        return params
    extra: dict[str, Any] = {"betas": betas}
    if edits:
        extra["context_management"] = {"edits": edits}
    return {**params, **extra}


def _capped(trigger: int, window: int, share: float) -> int:
    return max(1, min(trigger, int(window * share))) if window else trigger
