"""What a test queues on the local server: replies, their content blocks, faults, errors, replays.

These are plain data; `rendering` turns a `Reply` into SSE events or a JSON message, `endpoints` decides
which item answers which request.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "ApiError",
    "Block",
    "Drop",
    "Fault",
    "Item",
    "Malformed",
    "MidStreamError",
    "QueueItem",
    "RawBlock",
    "RedactedThinkingBlock",
    "Replay",
    "Reply",
    "Stall",
    "TextBlock",
    "ThinkingBlock",
    "ToolUseBlock",
    "WebCall",
    "block",
    "redacted_thinking",
    "text",
    "thinking",
    "tool_use",
]


# --- content blocks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextBlock:
    """A `text` block; `citations` are sent as `citations_delta` events after the text."""

    text: str
    citations: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class ThinkingBlock:
    """A `thinking` block; `signature=None` lets the server sign it (see `signing`)."""

    thinking: str
    signature: str | None = None


@dataclass(frozen=True)
class RedactedThinkingBlock:
    """A `redacted_thinking` block with opaque `data`."""

    data: str


@dataclass(frozen=True)
class ToolUseBlock:
    """A client `tool_use` block; its input is streamed as `input_json_delta` fragments."""

    name: str
    input: dict[str, Any]
    id: str


@dataclass(frozen=True)
class RawBlock:
    """Any other block (server tool use, search results, `fallback`, future types), sent whole."""

    content: dict[str, Any]


@dataclass(frozen=True)
class WebCall:
    """A server tool call (`web_search` / `web_fetch`) that the server answers from its corpus (`web.py`)."""

    name: str
    input: dict[str, Any]
    id: str


Block = TextBlock | ThinkingBlock | RedactedThinkingBlock | ToolUseBlock | RawBlock | WebCall


def text(value: str, *, citations: list[dict[str, Any]] | None = None) -> TextBlock:
    """A text block."""
    return TextBlock(value, tuple(citations or ()))


def thinking(value: str, signature: str | None = None) -> ThinkingBlock:
    """A thinking block; without `signature` the server computes a valid one."""
    return ThinkingBlock(value, signature)


def redacted_thinking(data: str) -> RedactedThinkingBlock:
    """A redacted thinking block."""
    return RedactedThinkingBlock(data)


def tool_use(name: str, input: dict[str, Any], id: str | None = None) -> ToolUseBlock:  # noqa: A002
    """A tool call; `id` defaults to a fresh unique `toolu_local_…`."""
    return ToolUseBlock(name, dict(input), id or f"toolu_local_{secrets.token_hex(8)}")


def block(content: dict[str, Any]) -> RawBlock:
    """Any raw content block, streamed as one `content_block_start` plus `content_block_stop`."""
    if not isinstance(content.get("type"), str):
        raise ValueError("a raw block needs a string 'type'")
    return RawBlock(dict(content))


# --- faults ---------------------------------------------------------------------------------------
# `after_events` counts SSE events already written. The response headers go out with the first bytes,
# so `Drop(0)` and `Stall(0)` act before the headers. On a non-streamed request every fault acts at
# the start: Drop/Stall as above, MidStreamError as an HTTP error status, Malformed as a broken body.


@dataclass(frozen=True)
class Drop:
    """Close the connection after `after_events` events: `reset` sends a TCP reset (the SDK raises
    `httpx2.ReadError`), otherwise an orderly close (the stream simply ends early)."""

    after_events: int
    reset: bool = True


@dataclass(frozen=True)
class MidStreamError:
    """Emit `event: error` with this error after `after_events` events, then close."""

    after_events: int
    error_type: str = "overloaded_error"
    message: str = "Overloaded"


@dataclass(frozen=True)
class Stall:
    """Send nothing for `seconds` after `after_events` events, then carry on; `stop()` cuts it short."""

    after_events: int
    seconds: float = 60.0


@dataclass(frozen=True)
class Malformed:
    """Send an event whose `data:` line is not valid JSON after `after_events` events, then close."""

    after_events: int


Fault = Drop | MidStreamError | Stall | Malformed


# --- queue items ----------------------------------------------------------------------------------


class Reply:
    """One assistant turn. A bare string counts as a text block."""

    def __init__(
        self,
        *blocks: Block | str,
        stop_reason: str | None = None,
        model: str | None = None,
        usage: dict[str, Any] | None = None,
        delay: float | None = None,
        chunk: int | None = None,
        fault: Fault | None = None,
        stop_sequence: str | None = None,
        stop_details: dict[str, Any] | None = None,
    ) -> None:
        self.blocks: tuple[Block, ...] = tuple(TextBlock(b) if isinstance(b, str) else b for b in blocks)
        for item in self.blocks:
            if not isinstance(item, (TextBlock, ThinkingBlock, RedactedThinkingBlock, ToolUseBlock, RawBlock, WebCall)):
                raise TypeError(f"not a content block: {item!r}")
        if chunk is not None and chunk < 1:
            raise ValueError("chunk must be at least 1")
        if stop_reason is None:
            calls_tool = any(isinstance(b, ToolUseBlock) for b in self.blocks)
            stop_reason = "tool_use" if calls_tool else "end_turn"
        self.stop_reason = stop_reason
        self.model = model
        self.usage = usage
        self.delay = delay
        self.chunk = chunk
        self.fault = fault
        self.stop_sequence = stop_sequence
        self.stop_details = stop_details

    def __repr__(self) -> str:
        return f"Reply({', '.join(map(repr, self.blocks))}, stop_reason={self.stop_reason!r})"


@dataclass(frozen=True)
class ApiError:
    """An HTTP error answer in the API's JSON shape, with the usual `type` for its status."""

    status: int
    error_type: str | None = None
    message: str | None = None
    retry_after: float | None = None
    headers: dict[str, str] | None = None

    @property
    def type(self) -> str:
        """The `error.type` sent: the given one or the API's usual one for the status."""
        return self.error_type or default_error_type(self.status)

    @property
    def text(self) -> str:
        """The `error.message` sent."""
        return self.message or _DEFAULT_MESSAGES.get(self.type, "Local test server error")


_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}

_DEFAULT_MESSAGES = {
    "invalid_request_error": "Invalid request",
    "authentication_error": "invalid x-api-key",
    "billing_error": "Your credit balance is too low to access the Anthropic API.",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "Not found",
    "timeout_error": "Request timed out",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit",
    "api_error": "Internal server error",
    "overloaded_error": "Overloaded",
}


def default_error_type(status: int) -> str:
    """The `error.type` the API uses for an HTTP status."""
    if status in _ERROR_TYPES:
        return _ERROR_TYPES[status]
    return "api_error" if status >= 500 else "invalid_request_error"


def status_for_error_type(error_type: str) -> int:
    """The HTTP status that goes with an `error.type` (for faults on non-streamed requests)."""
    for status, name in _ERROR_TYPES.items():
        if name == error_type:
            return status
    return 500


@dataclass
class Replay:
    """A recorded SSE file sent as the body of a stream (paced by event when `delay` is set).

    The bytes go out unchanged, except that a last event missing its blank-line terminator gets one
    (the API always ends its events; the SDK drops an unterminated last event). `verbatim=True` sends
    the file exactly as it is.
    """

    path: str | Path
    delay: float | None = None
    verbatim: bool = False
    data: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        data = Path(self.path).read_bytes()
        if not self.verbatim and data.strip():
            data = data.rstrip(b"\r\n") + b"\n\n"
        self.data = data


Item = Reply | ApiError | Replay
QueueItem = Item | str | Callable[[dict[str, Any]], Any]
