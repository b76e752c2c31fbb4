"""Token estimates and a prompt-cache simulation for the local server.

The rule, simple enough to predict in a test:

* The request prefix is rendered as a list of *segments* in the API's cache order: each entry of
  `tools`, then `system` (a string counts as one text block), then for each message a role marker
  `{"role": ...}` followed by its content blocks (a string counts as one text block). A segment is
  the canonical JSON of the block — `json.dumps(sort_keys=True, separators=(",", ":"),
  ensure_ascii=False)` — with `cache_control` removed (also inside nested `content` lists).
* Tokens of a prefix = ceil(UTF-8 bytes / 4). `count_tokens` answers the tokens of all segments.
* Breakpoints are the blocks carrying `cache_control` (tools, system blocks, message content blocks)
  plus, when the request has a top-level `cache_control`, the last block. Each breakpoint's TTL is its
  `cache_control.ttl` ("1h", else 5 minutes).
* A hash of (model, segments up to i) is taken at every block boundary. `cache_read_input_tokens` =
  tokens of the longest prefix, ending at or before the last breakpoint, whose hash an earlier request
  wrote (the API looks back about 20 blocks; this simulation looks back without limit).
* `cache_creation_input_tokens` = tokens from there up to the last breakpoint; the hashes of all
  breakpoints are written. The part before each breakpoint counts to
  `cache_creation.ephemeral_1h_input_tokens` or `ephemeral_5m_input_tokens` by that breakpoint's TTL.
  Breakpoints whose prefix is shorter than `min_tokens` (default 0) are ignored.
* `input_tokens` = tokens after the last breakpoint. A hit refreshes the entry's lifetime.

Output tokens are estimated as ceil(characters / 4) of the generated text, thinking and tool input.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["PromptCache", "Segment", "canonical", "estimate_tokens", "prefix_segments", "tokens_for_chars"]

_TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}


@dataclass(frozen=True)
class Segment:
    """One block of the rendered prefix: its canonical bytes and its `cache_control`, if any."""

    data: bytes
    cache_control: dict[str, Any] | None


def _strip_cache_control(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: v for k, v in value.items() if k != "cache_control"}
        if isinstance(out.get("content"), list):
            out["content"] = [_strip_cache_control(item) for item in out["content"]]
        return out
    return value


def canonical(block: Any) -> bytes:
    """The canonical JSON bytes of a block, `cache_control` removed."""
    return json.dumps(_strip_cache_control(block), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _segment(block: Any) -> Segment:
    control = block.get("cache_control") if isinstance(block, dict) else None
    return Segment(canonical(block), control if isinstance(control, dict) else None)


def _blocks(content: Any) -> list[Any]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return list(content) if isinstance(content, list) else []


def prefix_segments(body: dict[str, Any]) -> list[Segment]:
    """The request rendered as segments in cache order: tools, system, messages."""
    segments = [_segment(tool) for tool in body.get("tools") or []]
    segments += [_segment(b) for b in _blocks(body.get("system"))]
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        segments.append(Segment(canonical({"role": message.get("role")}), None))
        segments += [_segment(b) for b in _blocks(message.get("content"))]
    control = body.get("cache_control")
    if isinstance(control, dict) and segments:
        segments[-1] = Segment(segments[-1].data, control)
    return segments


def tokens_for_chars(size: int) -> int:
    """The estimate used everywhere: a token per four bytes or characters, rounded up."""
    return math.ceil(size / 4)


def estimate_tokens(body: dict[str, Any]) -> int:
    """Input tokens of a request (what `count_tokens` answers)."""
    return tokens_for_chars(sum(len(s.data) for s in prefix_segments(body)))


def _ttl(control: dict[str, Any]) -> str:
    return "1h" if control.get("ttl") == "1h" else "5m"


class PromptCache:
    """Remembers prefix hashes written by earlier requests and reports cache usage; thread-safe."""

    def __init__(self, min_tokens: int = 0) -> None:
        self.min_tokens = min_tokens
        self._entries: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every cached prefix."""
        with self._lock:
            self._entries.clear()

    def account(self, body: dict[str, Any], model: str) -> dict[str, Any]:
        """The usage fields for answering `body`, writing and reading the cache as the API would."""
        segments = prefix_segments(body)
        hasher = hashlib.sha256(model.encode() + b"\0")
        digests: list[bytes] = []
        tokens: list[int] = []
        size = 0
        for segment in segments:
            hasher.update(len(segment.data).to_bytes(8, "big") + segment.data)
            digests.append(hasher.digest())
            size += len(segment.data)
            tokens.append(tokens_for_chars(size))
        total = tokens[-1] if tokens else 0
        breakpoints = [
            i for i, s in enumerate(segments) if s.cache_control is not None and tokens[i] >= self.min_tokens
        ]
        usage = {"input_tokens": total, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        creation = {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0}
        if breakpoints:
            self._apply(segments, digests, tokens, breakpoints, usage, creation)
        usage["cache_creation"] = creation
        return usage

    def _apply(
        self,
        segments: list[Segment],
        digests: list[bytes],
        tokens: list[int],
        breakpoints: list[int],
        usage: dict[str, Any],
        creation: dict[str, int],
    ) -> None:
        last = breakpoints[-1]
        now = time.monotonic()
        with self._lock:
            hit = next((i for i in range(last, -1, -1) if self._entries.get(digests[i], 0.0) > now), -1)
            read = tokens[hit] if hit >= 0 else 0
            if hit >= 0:
                self._entries[digests[hit]] = max(self._entries[digests[hit]], now + 300.0)
            done = hit
            for index in breakpoints:
                control = segments[index].cache_control or {}
                ttl = _ttl(control)
                if index > done:
                    start = tokens[done] if done >= 0 else 0
                    creation[f"ephemeral_{ttl}_input_tokens"] += tokens[index] - start
                    done = index
                expiry = now + _TTL_SECONDS[ttl]
                self._entries[digests[index]] = max(self._entries.get(digests[index], 0.0), expiry)
        usage["cache_read_input_tokens"] = read
        usage["cache_creation_input_tokens"] = sum(creation.values())
        usage["input_tokens"] = tokens[-1] - tokens[last]
