"""Turning whatever a tool returned into a `tool_result` for Claude, within a character budget."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .bundles import MimeBundle

__all__ = ["ToolOutput", "to_output", "fit_to_budget", "content_text", "MAX_IMAGES", "EMPTY_OUTPUT"]

MAX_IMAGES = 5
EMPTY_OUTPUT = "(no output)"
_BLOCK_TYPES = frozenset({"text", "image", "document", "search_result"})


@dataclass(frozen=True)
class ToolOutput:
    """A tool's answer when what Claude gets and what the user sees differ.

    `content` goes to Claude (a string, or a list of text/image blocks); `display` holds rich objects
    for the user (anything `IPython.display.display` accepts); `is_error` marks a failed call.
    """

    content: str | list[dict[str, Any]]
    display: tuple[Any, ...] = ()
    is_error: bool = False


def to_output(value: Any) -> ToolOutput:
    """Any return value as a `ToolOutput`: text as is, content blocks as is, JSON, else repr."""
    if isinstance(value, ToolOutput):
        return value
    if isinstance(value, str):
        return ToolOutput(value)
    if _is_block_list(value):
        return ToolOutput([dict(block) for block in value])
    if isinstance(value, (dict, list, tuple, int, float, bool)) or value is None:
        try:
            return ToolOutput(json.dumps(value, ensure_ascii=False, default=_safe_repr))
        except (TypeError, ValueError):  # circular structures, odd keys
            return ToolOutput(_safe_repr(value))
    return ToolOutput(_safe_repr(value))


def _is_block_list(value: Any) -> bool:
    return (isinstance(value, list) and bool(value)
            and all(isinstance(item, dict) and item.get("type") in _BLOCK_TYPES for item in value))


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception as exc:  # noqa: BLE001 - a broken __repr__ must not fail the call
        return f"<{type(value).__qualname__} object (repr failed: {type(exc).__name__}: {exc})>"


def fit_to_budget(content: str | list[dict[str, Any]], budget: int) -> tuple[str | list[dict[str, Any]], bool]:
    """Content cut to `budget` characters of text (and `MAX_IMAGES` images), with a note; and whether it was cut."""
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else [dict(b) for b in content]
    total = sum(len(block.get("text", "")) for block in blocks if block.get("type") == "text")
    images = [block for block in blocks if block.get("type") == "image"]
    cut = total > budget or len(images) > MAX_IMAGES
    if not cut:
        return _non_empty(content), False
    kept: list[dict[str, Any]] = []
    remaining, shown_images = max(budget, 0), 0
    for block in blocks:
        if block.get("type") == "text":
            text = block.get("text", "")
            share = min(len(text), remaining)
            remaining -= share
            if share < len(text):
                text = _shorten(text, share, total, budget)
            kept.append({**block, "text": text})
        elif block.get("type") == "image":
            shown_images += 1
            if shown_images <= MAX_IMAGES:
                kept.append(block)
            elif shown_images == MAX_IMAGES + 1:
                kept.append({"type": "text", "text": f"[{len(images) - MAX_IMAGES} more image(s) not sent; "
                                                    "the user sees them all]"})
        else:
            kept.append(block)
    if isinstance(content, str) and len(kept) == 1:
        return _non_empty(kept[0]["text"]), True
    return _non_empty(kept), True


def _shorten(text: str, keep: int, total: int, budget: int) -> str:
    """The head and tail of `text` (keep characters in all) around a note saying what was left out."""
    note = (f"\n[... {len(text) - keep:,} characters left out here: the result was {total:,} characters, over "
            f"the {budget:,}-character budget for tool results; the user sees all of it ...]\n")
    if keep <= 0:
        return note.strip()
    head = keep * 2 // 3
    tail = keep - head
    return text[:head] + note + (text[-tail:] if tail else "")


def _non_empty(content: str | list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    """The API refuses empty tool results and blank text blocks: say there was no output."""
    if isinstance(content, str):
        return content if content.strip() else EMPTY_OUTPUT
    blocks = [block for block in content if block.get("type") != "text" or block.get("text", "").strip()]
    if not blocks:
        return EMPTY_OUTPUT
    if all(block.get("type") == "text" for block in blocks) and len(blocks) == 1:
        return blocks[0]["text"]
    return blocks


def content_text(content: str | Sequence[dict[str, Any]]) -> str:
    """The text of tool-result content, images as placeholders (what a view prints)."""
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        kind = block.get("type")
        parts.append(block.get("text", "") if kind == "text" else f"[{kind}]")
    return "\n".join(parts)


def full_text_bundle(content: str | list[dict[str, Any]]) -> MimeBundle:
    """The untruncated text of a result, for the user when Claude got a shortened copy."""
    return MimeBundle.text(content_text(content), kind="text")
