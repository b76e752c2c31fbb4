"""An MCP `CallToolResult` as a tool result for Claude: text as text, images as image blocks, resources as text."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ..tools.bundles import MimeBundle
from ..tools.output import ToolOutput

__all__ = ["result_output", "MalformedResult"]

_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


class MalformedResult(Exception):
    """The server's answer is not a usable tool result (one line)."""


def result_output(result: Any) -> ToolOutput:
    """The result as `ToolOutput`: content blocks for Claude, images also shown to the user; `is_error` kept."""
    content = getattr(result, "content", None)
    if not isinstance(content, list):
        raise MalformedResult(f"expected a CallToolResult with a content list, got {type(result).__name__}")
    blocks: list[dict[str, Any]] = []
    display: list[Any] = []
    for item in content:
        block = _block(item)
        blocks.append(block)
        if block["type"] == "image":
            source = block["source"]
            display.append(MimeBundle({source["media_type"]: source["data"]}, {}, "display"))
    structured = getattr(result, "structured_content", None)
    if not blocks and structured is not None:
        try:
            blocks.append({"type": "text", "text": json.dumps(structured, ensure_ascii=False)})
        except (TypeError, ValueError) as error:
            raise MalformedResult(f"its structured content is not JSON ({error})") from None
    return ToolOutput(blocks or "(no output)", tuple(display), bool(getattr(result, "is_error", False)))


def _block(item: Any) -> dict[str, Any]:
    """One MCP content block as an Anthropic one (`anthropic.lib.tools.mcp.mcp_content` for text and images)."""
    from anthropic.lib.tools.mcp import UnsupportedMCPValueError, mcp_content

    kind = getattr(item, "type", None)
    if kind == "text":
        return dict(mcp_content(item))
    if kind == "image":
        if not _is_base64(getattr(item, "data", "")):
            return _note(f"[an image ({getattr(item, 'mime_type', '?')}) whose data is not valid base64 was left out]")
        try:
            return dict(mcp_content(item))
        except UnsupportedMCPValueError as error:
            return _note(f"[an image was left out: {error}; Claude reads JPEG, PNG, GIF and WebP]")
    if kind == "resource":
        return _resource_text(item.resource)
    if kind == "resource_link":
        described = f": {item.description}" if getattr(item, "description", None) else ""
        return _note(f"[resource link {getattr(item, 'name', '')} <{item.uri}>{described}]")
    if kind == "audio":
        return _note(f"[audio ({getattr(item, 'mime_type', '?')}) left out: Claude does not take audio]")
    return _note(f"[content of type {kind!r} left out: not supported]")


def _resource_text(resource: Any) -> dict[str, Any]:
    """An embedded resource as text: its text, a decoded text blob, an image block, or a note for binary data."""
    uri = str(getattr(resource, "uri", ""))
    mime = getattr(resource, "mime_type", None) or ""
    text = getattr(resource, "text", None)
    if isinstance(text, str):
        return {"type": "text", "text": f"[resource {uri}{f' ({mime})' if mime else ''}]\n{text}"}
    blob = getattr(resource, "blob", "")
    if mime in _IMAGE_TYPES and _is_base64(blob):
        return {"type": "image", "source": {"type": "base64", "media_type": mime, "data": blob}}
    try:
        data = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        return _note(f"[resource {uri}: its data is not valid base64, left out]")
    if not mime or mime.startswith("text/") or mime in ("application/json", "application/xml"):
        try:
            return {"type": "text", "text": f"[resource {uri}{f' ({mime})' if mime else ''}]\n{data.decode('utf-8')}"}
        except UnicodeDecodeError:
            pass
    return _note(f"[resource {uri}: {len(data):,} bytes of {mime or 'binary data'}, left out]")


def _is_base64(data: Any) -> bool:
    if not isinstance(data, str) or not data:
        return False
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _note(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}
