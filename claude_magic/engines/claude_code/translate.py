"""Claude Code's raw stream events (`StreamEvent.event` dicts) as claude-magic events, blocks kept as they grow."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ...core.answer_scrubbing import shown_block
from ...core.events import (
    BlockFinished,
    BlockStarted,
    Event,
    StepFinished,
    StepStarted,
    TextDelta,
    ThinkingDelta,
    ToolInputDelta,
)
from ...core.redaction import BlockScrubbers, scrubber
from ...core.usage import Usage
from ...transport.stream import keepable

__all__ = ["StreamTranslator", "KERNEL_SERVER", "display_name", "usage_of"]

KERNEL_SERVER = "claude-magic"          # the in-process MCP server holding the kernel's tools
_KERNEL_PREFIX = f"mcp__{KERNEL_SERVER}__"


def display_name(name: str) -> str:
    """A kernel tool's own name (`mcp__claude-magic__run_python` → `run_python`); other names unchanged."""
    return name[len(_KERNEL_PREFIX):] if name.startswith(_KERNEL_PREFIX) else name


def usage_of(data: dict[str, Any] | None) -> Usage:
    """A `Usage` from the usage dict Claude Code reports (stream events, result messages)."""
    if not data:
        return Usage()
    creation = data.get("cache_creation") or {}
    details = data.get("output_tokens_details") or {}
    server = data.get("server_tool_use") or {}
    return Usage(
        input_tokens=int(data.get("input_tokens") or 0),
        output_tokens=int(data.get("output_tokens") or 0),
        cache_creation_input_tokens=int(data.get("cache_creation_input_tokens") or 0),
        cache_read_input_tokens=int(data.get("cache_read_input_tokens") or 0),
        cache_creation_1h_input_tokens=int(creation.get("ephemeral_1h_input_tokens") or 0),
        thinking_tokens=int(details.get("thinking_tokens") or 0),
        web_search_requests=int(server.get("web_search_requests") or 0),
        web_fetch_requests=int(server.get("web_fetch_requests") or 0),
    )


class StreamTranslator:
    """Folds one turn's stream events into content blocks and emits the same events as the API engine (their
    text scrubbed of secrets, as the API engine's: the blocks keep what Claude Code sent)."""

    def __init__(self, emit: Callable[[Event], None]) -> None:
        self.emit = emit
        self.scrub = scrubber()
        self._scrubbers = BlockScrubbers(self.scrub)
        self.step = -1
        self.blocks: dict[int, dict[str, Any]] = {}
        self.finished: set[int] = set()
        self._json: dict[int, list[str]] = {}
        self.stop_reason: str | None = None
        self.step_usage = Usage()
        self.in_step = False

    def __call__(self, event: dict[str, Any]) -> list[dict[str, Any]] | None:
        """Handle one raw event; returns the step's finished content at `message_stop`, else None."""
        kind = event.get("type")
        if kind == "content_block_delta":
            self._delta(int(event.get("index", 0)), event.get("delta") or {})
        elif kind == "content_block_start":
            index = int(event.get("index", 0))
            block = dict(event.get("content_block") or {})
            if block.get("type") in ("tool_use", "server_tool_use"):
                block["name"] = display_name(str(block.get("name", "")))
                block["input"] = {}
                self._json[index] = []
            self.blocks[index] = block
            self.emit(BlockStarted(self.step, index, str(block.get("type")), dict(shown_block(block, self.scrub))))
        elif kind == "content_block_stop":
            index = int(event.get("index", 0))
            block = self.blocks.get(index)
            if block is not None:
                if index in self._json:
                    raw = "".join(self._json.pop(index))
                    try:
                        block["input"] = json.loads(raw) if raw.strip() else {}
                    except ValueError:
                        block["input"] = {}
                self.finished.add(index)
                self._flush(index)
                self.emit(BlockFinished(self.step, index, dict(shown_block(block, self.scrub))))
        elif kind == "message_start":
            self.step += 1
            self.blocks, self.finished, self._json = {}, set(), {}
            self._scrubbers = BlockScrubbers(self.scrub)
            self.stop_reason, self.in_step = None, True
            self.step_usage = usage_of((event.get("message") or {}).get("usage"))
            self.emit(StepStarted(self.step))
        elif kind == "message_delta":
            self.stop_reason = (event.get("delta") or {}).get("stop_reason") or self.stop_reason
            if event.get("usage"):
                self.step_usage = usage_of(event["usage"])
        elif kind == "message_stop":
            return self.end_step(complete=True)
        return None

    def _delta(self, index: int, delta: dict[str, Any]) -> None:
        block = self.blocks.get(index)
        if block is None:
            return
        kind = delta.get("type")
        if kind == "text_delta":
            text = delta.get("text", "")
            block["text"] = block.get("text", "") + text
            shown = self._scrubbers.of(index).feed(text)
            if shown:
                self.emit(TextDelta(self.step, index, shown))
        elif kind == "thinking_delta":
            thinking = delta.get("thinking", "")
            block["thinking"] = block.get("thinking", "") + thinking
            shown = self._scrubbers.of(index).feed(thinking)
            if shown:
                self.emit(ThinkingDelta(self.step, index, shown))
        elif kind == "signature_delta":
            block["signature"] = block.get("signature", "") + delta.get("signature", "")
        elif kind == "input_json_delta":
            fragment = delta.get("partial_json", "")
            self._json.setdefault(index, []).append(fragment)
            shown = self._scrubbers.of(index).feed(fragment)
            if shown:
                self.emit(ToolInputDelta(self.step, index, shown))
        elif kind == "citations_delta":
            block.setdefault("citations", []).append(delta.get("citation"))

    def _flush(self, index: int) -> None:
        """Pass on what block `index`'s scrubber still holds back (the block ended)."""
        rest = self._scrubbers.rest(index)
        if rest:
            kind = self.blocks.get(index, {}).get("type")
            self.emit({"text": TextDelta, "thinking": ThinkingDelta}.get(kind, ToolInputDelta)(self.step, index, rest))

    def end_step(self, complete: bool) -> list[dict[str, Any]]:
        """Close the open step (at `message_stop`, or cut short); returns the blocks that can be kept."""
        if not self.in_step:
            return []
        self.in_step = False
        for index in self._scrubbers.open():
            self._flush(index)
        kept = [block for index, block in sorted(self.blocks.items()) if keepable(block, index in self.finished)]
        self.emit(StepFinished(self.step, self.stop_reason if complete else None, self.step_usage, complete))
        return kept
