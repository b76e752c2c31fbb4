"""What a request sends of a long conversation: from its last compaction on, with the API's context management.

The conversation keeps every message (the store, `save`, `export` and replay read it whole); a request sends the
part from the last `compaction` block on, that block first, as the API takes it back (`messages` "in place of the
messages it summarizes"). With `Settings.context_management == "auto"` and a model whose `capabilities.
context_management` lists them, a request asks the API to clear old tool results (`clear_tool_uses_20250919`) and
to compact at the trigger (`compact_20260112`); those go through the SDK's beta client (`betas=`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.prefix_memo import PrefixMemo
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
    """(message, block) of the last `compaction` block with content, or None (each content is looked at once: a long
    conversation's next request costs what is new)."""
    return _SCANS.fold(messages, [message["content"] for message in messages])


def _scan(found: tuple[int, int] | None, index: int, message: dict[str, Any]) -> tuple[int, int] | None:
    content = message["content"]
    if message["role"] != "assistant" or not isinstance(content, list):
        return found
    for position in range(len(content) - 1, -1, -1):
        block = content[position]
        if block.get("type") == "compaction" and block.get("content") is not None:
            return index, position
    return found


_SCANS: PrefixMemo[tuple[int, int] | None] = PrefixMemo(_scan, None)
_SLICES: dict[int, tuple[Any, int, list[Any]]] = {}     # a merged summary's message: its content from the block on


def _from_block(content: list[Any], position: int) -> list[Any]:
    """`content[position:]`, the same list object every time (so what is measured of it is measured once)."""
    if position == 0:
        return content
    kept = _SLICES.get(id(content))
    if kept is None or kept[0] is not content or kept[1] != position:
        _SLICES.clear()
        kept = _SLICES[id(content)] = (content, position, content[position:])
    return kept[2]


def sent_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages a request sends, from the last compaction block on: a new list of the conversation's message
    dicts (never changed in place: a turn appends messages or replaces the last one's content), the first one new."""
    start = last_compaction(messages)
    if start is None:
        return list(messages)
    index, position = start
    return [{"role": "assistant", "content": _from_block(messages[index]["content"], position)},
            *messages[index + 1:]]


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
    first = params["messages"][0]["content"] if params["messages"] else None     # sent: a compaction comes first
    carries = isinstance(first, list) and bool(first) and first[0].get("type") == "compaction"
    if edits and edits[0]["type"] == "clear_tool_uses_20250919" and settings.cache:
        params = {**params, "messages": _breakpoint_at_clearing(params["messages"], settings)}
    if carries and BETA_COMPACT not in betas:
        betas.append(BETA_COMPACT)
    if not betas:
        return params
    extra: dict[str, Any] = {"betas": betas}
    if edits:
        extra["context_management"] = {"edits": edits}
    headers = dict(params.get("extra_headers") or {})
    if headers.get("anthropic-beta"):    # a header would replace `betas` (the Files API's flag): one list for both
        extra["betas"] = [*betas, *(flag.strip() for flag in str(headers.pop("anthropic-beta")).split(",")
                                    if flag.strip() and flag.strip() not in betas)]
        extra["extra_headers"] = headers
    return {**params, **extra}


_TRACKED = 16        # tool uses remembered from the end of the conversation (keep + 1 must fit)


def _uses(state: tuple[tuple[int, str], ...], index: int, message: dict[str, Any]) -> tuple[tuple[int, str], ...]:
    content = message["content"]
    if message["role"] != "assistant" or not isinstance(content, list):
        return state
    found = tuple((index, block["id"]) for block in content if block.get("type") == "tool_use")
    return (state + found)[-_TRACKED:] if found else state


_USES: PrefixMemo[tuple[tuple[int, str], ...]] = PrefixMemo(_uses, ())


def _breakpoint_at_clearing(messages: list[dict[str, Any]], settings: Settings) -> list[dict[str, Any]]:
    """The messages with a cache breakpoint on the newest tool result the API clears (all but the last `keep`).

    Clearing moves forward a tool use at a time, so the prefix a request ends with is not the next one's: without
    this breakpoint every request after the trigger would miss the cache and write it all again. With it, the
    prefix up to the newest cleared result is written once and read by the next request (whose own clearing starts
    after it). The conversation's blocks are not changed: the message gets a new content list."""
    keep = settings.clear_keep
    if keep + 1 > _TRACKED:
        return messages
    uses = _USES.fold(messages, [message["content"] for message in messages])
    if len(uses) <= keep:
        return messages
    index, tool_use_id = uses[-(keep + 1)]
    if index + 1 >= len(messages) or not isinstance(messages[index + 1]["content"], list):
        return messages
    control: dict[str, Any] = {"type": "ephemeral", **({"ttl": "1h"} if settings.cache_ttl == "1h" else {})}
    content = [{**block, "cache_control": control} if block.get("type") == "tool_result"
               and block.get("tool_use_id") == tool_use_id else block for block in messages[index + 1]["content"]]
    return [*messages[:index + 1], {**messages[index + 1], "content": content}, *messages[index + 2:]]


def _capped(trigger: int, window: int, share: float) -> int:
    return max(1, min(trigger, int(window * share))) if window else trigger
