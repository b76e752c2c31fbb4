"""Reading recorded SSE streams: split into events, parse, and assemble the final `Message`."""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["assemble_message", "parse_events", "split_events"]

_BOUNDARY = re.compile(rb"(?:\r\n\r\n|\n\n|\r\r)")


def split_events(data: bytes) -> list[bytes]:
    """The raw bytes of each event, blank-line terminator included; concatenating them gives `data`."""
    pieces: list[bytes] = []
    start = 0
    for match in _BOUNDARY.finditer(data):
        pieces.append(data[start : match.end()])
        start = match.end()
    if start < len(data):
        pieces.append(data[start:])
    return pieces


def parse_events(data: bytes) -> list[tuple[str | None, dict[str, Any]]]:
    """(event name, JSON data) of every event with a data field; an unterminated last event counts."""
    events: list[tuple[str | None, dict[str, Any]]] = []
    for raw in split_events(data):
        name: str | None = None
        lines: list[str] = []
        for line in raw.decode("utf-8").splitlines():
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                lines.append(value)
        if lines:
            events.append((name, json.loads("\n".join(lines))))
    return events


def _merge_usage(usage: dict[str, Any], update: dict[str, Any]) -> None:
    for key, value in update.items():
        if value is not None:
            usage[key] = value


def _apply_delta(block: dict[str, Any], delta: dict[str, Any], json_buffer: dict[int, str], index: int) -> None:
    kind = delta.get("type")
    if kind == "text_delta":
        block["text"] = block.get("text", "") + delta["text"]
    elif kind == "thinking_delta":
        block["thinking"] = block.get("thinking", "") + delta["thinking"]
    elif kind == "signature_delta":
        block["signature"] = delta["signature"]
    elif kind == "citations_delta":
        block.setdefault("citations", []).append(delta["citation"])
    elif kind == "input_json_delta":
        json_buffer[index] = json_buffer.get(index, "") + delta["partial_json"]
    else:  # compaction_delta and future kinds: copy their fields onto the block
        block.update({k: v for k, v in delta.items() if k != "type"})


def assemble_message(data: bytes) -> dict[str, Any]:
    """The `Message` a non-streamed request would have got for this recorded stream.

    Tool input that does not parse (a stream cut at `max_tokens`) is left as the block's start input.
    """
    message: dict[str, Any] = {}
    json_buffer: dict[int, str] = {}
    for _name, event in parse_events(data):
        kind = event.get("type")
        if kind == "message_start":
            message = dict(event["message"])
            message["content"] = list(message.get("content") or [])
            message["usage"] = dict(message.get("usage") or {})
        elif kind == "content_block_start":
            message["content"].append(dict(event["content_block"]))
        elif kind == "content_block_delta":
            _apply_delta(message["content"][event["index"]], event["delta"], json_buffer, event["index"])
        elif kind == "message_delta":
            message.update({k: v for k, v in event["delta"].items()})
            _merge_usage(message["usage"], event.get("usage") or {})
    for index, raw in json_buffer.items():
        try:
            message["content"][index]["input"] = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            continue
    return message
