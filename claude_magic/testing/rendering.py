"""Encoding of a `Reply` as the API sends it: SSE events for a stream, a JSON `Message` otherwise."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .caching import tokens_for_chars
from .script import Block, RedactedThinkingBlock, Reply, TextBlock, ThinkingBlock, ToolUseBlock, WebCall
from .signing import Signer

__all__ = ["DEFAULT_CHUNK", "Rendered", "dumps", "output_usage", "render", "sse_event"]

DEFAULT_CHUNK = 40


def dumps(value: Any) -> str:
    """Compact JSON with UTF-8 text kept as is, like the API."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def sse_event(name: str, data: dict[str, Any]) -> bytes:
    """One `event:` / `data:` pair with its blank line."""
    return f"event: {name}\ndata: {dumps(data)}\n\n".encode()


def _pieces(value: str, size: int) -> list[str]:
    return [value[i : i + size] for i in range(0, len(value), size)]


@dataclass(frozen=True)
class Rendered:
    """A reply resolved for one request: final content, stop reason and usage."""

    message_id: str
    model: str
    reply: Reply
    content: list[dict[str, Any]]
    usage: dict[str, Any]
    context_management: dict[str, Any] | None = None     # `{"applied_edits": [...]}` of a context-managed request

    def message(self) -> dict[str, Any]:
        """The JSON `Message` of a non-streamed answer."""
        message = self._envelope(self.content, self.reply.stop_reason, self.reply.stop_sequence, self.usage)
        if self.reply.stop_details is not None:
            message["stop_details"] = self.reply.stop_details
        if self.context_management is not None:
            message["context_management"] = self.context_management
        return message

    def events(self) -> list[bytes]:
        """The SSE events of a streamed answer, in order."""
        start_usage = dict(self.usage, output_tokens=1)
        start_usage.pop("output_tokens_details", None)
        start_usage.pop("iterations", None)
        events = [
            sse_event(
                "message_start", {"type": "message_start", "message": self._envelope([], None, None, start_usage)}
            )
        ]
        ping = sse_event("ping", {"type": "ping"})
        chunk = self.reply.chunk or DEFAULT_CHUNK
        for index, (source, final) in enumerate(zip(self.reply.blocks, self.content, strict=True)):
            block_events = _block_events(index, source, final, chunk)
            events.append(block_events[0])
            if index == 0:
                events.append(ping)
            events += block_events[1:]
        if not self.content:
            events.append(ping)
        delta: dict[str, Any] = {"stop_reason": self.reply.stop_reason, "stop_sequence": self.reply.stop_sequence}
        if self.reply.stop_details is not None:
            delta["stop_details"] = self.reply.stop_details
        message_delta: dict[str, Any] = {"type": "message_delta", "delta": delta, "usage": self.usage}
        if self.context_management is not None:
            message_delta["context_management"] = self.context_management
        events.append(sse_event("message_delta", message_delta))
        events.append(sse_event("message_stop", {"type": "message_stop"}))
        return events

    def _envelope(
        self, content: list[dict[str, Any]], stop_reason: str | None, stop_sequence: str | None, usage: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "id": self.message_id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": stop_sequence,
            "usage": usage,
        }


def _final_block(source: Block, signer: Signer) -> dict[str, Any]:
    if isinstance(source, TextBlock):
        final: dict[str, Any] = {"type": "text", "text": source.text}
        if source.citations:
            final["citations"] = list(source.citations)
        return final
    if isinstance(source, ThinkingBlock):
        signature = source.signature
        if signature is None:
            signature = signer.sign(source.thinking)
        else:
            signer.issue(source.thinking, signature)
        return {"type": "thinking", "thinking": source.thinking, "signature": signature}
    if isinstance(source, RedactedThinkingBlock):
        return {"type": "redacted_thinking", "data": source.data}
    if isinstance(source, ToolUseBlock):
        return {"type": "tool_use", "id": source.id, "name": source.name, "input": source.input}
    if isinstance(source, WebCall):
        raise TypeError("a web call is answered by the server's corpus (`WebCorpus.resolve`) before rendering")
    return dict(source.content)


def _block_events(index: int, source: Block, final: dict[str, Any], chunk: int) -> list[bytes]:
    def start(content_block: dict[str, Any]) -> bytes:
        return sse_event(
            "content_block_start", {"type": "content_block_start", "index": index, "content_block": content_block}
        )

    def delta(body: dict[str, Any]) -> bytes:
        return sse_event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": body})

    if isinstance(source, TextBlock):
        events = [start({"type": "text", "text": ""})]
        events += [delta({"type": "text_delta", "text": piece}) for piece in _pieces(source.text, chunk)]
        events += [delta({"type": "citations_delta", "citation": c}) for c in source.citations]
    elif isinstance(source, ThinkingBlock):
        events = [start({"type": "thinking", "thinking": "", "signature": ""})]
        events += [delta({"type": "thinking_delta", "thinking": piece}) for piece in _pieces(source.thinking, chunk)]
        events.append(delta({"type": "signature_delta", "signature": final["signature"]}))
    elif isinstance(source, ToolUseBlock):
        events = [start({"type": "tool_use", "id": source.id, "name": source.name, "input": {}})]
        fragments = [""] + _pieces(json.dumps(source.input, ensure_ascii=False), chunk)
        events += [delta({"type": "input_json_delta", "partial_json": piece}) for piece in fragments]
    elif final.get("type") == "compaction":      # the signature opens the block, the summary comes as one delta
        events = [start({"type": "compaction", "content": None, "encrypted_content": None,
                         "signature": final.get("signature")})]
        events.append(delta({"type": "compaction_delta", "content": final.get("content"),
                             "encrypted_content": final.get("encrypted_content")}))
    elif final.get("type") == "server_tool_use":      # its input streams like a client tool's
        events = [start({**final, "input": {}})]
        fragments = [""] + _pieces(json.dumps(final.get("input") or {}, ensure_ascii=False), chunk)
        events += [delta({"type": "input_json_delta", "partial_json": piece}) for piece in fragments]
    else:
        events = [start(final)]
    events.append(sse_event("content_block_stop", {"type": "content_block_stop", "index": index}))
    return events


def output_usage(content: list[dict[str, Any]]) -> tuple[int, int]:
    """Estimated (output tokens, thinking tokens) of the final content."""
    thinking_chars = sum(len(b.get("thinking", "")) for b in content if b.get("type") == "thinking")
    other_chars = 0
    for b in content:
        kind = b.get("type")
        if kind == "text":
            other_chars += len(b.get("text", ""))
        elif kind in ("tool_use", "server_tool_use"):
            other_chars += len(json.dumps(b.get("input", {}), ensure_ascii=False))
        elif kind not in ("thinking", "redacted_thinking", "compaction"):   # a compaction counts in its iteration
            other_chars += len(dumps(b))
    thinking_tokens = tokens_for_chars(thinking_chars)
    return thinking_tokens + tokens_for_chars(other_chars), thinking_tokens


def render(reply: Reply, *, message_id: str, model: str, input_usage: dict[str, Any], signer: Signer,
           context_management: dict[str, Any] | None = None) -> Rendered:
    """Resolve `reply` for a request: sign thinking, compute usage, apply the reply's `usage` overrides."""
    content = [_final_block(source, signer) for source in reply.blocks]
    output_tokens, thinking_tokens = output_usage(content)
    usage: dict[str, Any] = dict(input_usage)
    usage["output_tokens"] = output_tokens
    usage["output_tokens_details"] = {"thinking_tokens": thinking_tokens}
    usage["service_tier"] = "standard"
    if reply.usage:
        usage.update(reply.usage)
    return Rendered(message_id, reply.model or model, reply, content, usage, context_management)
