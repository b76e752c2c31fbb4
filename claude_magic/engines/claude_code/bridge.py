"""Kernel tools for Claude Code: an in-process SDK MCP server, and `can_use_tool` consent, both via the kernel.

Both callbacks run on the engine's event-loop thread; they hand the work to the turn's `TurnChannel`, and the
kernel thread driving the turn runs it with the same executor, policies and consent UI as the API engine.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
from typing import Any

from .session_client import LiveClient
from .translate import KERNEL_SERVER, display_name

__all__ = ["kernel_server", "permission_callback", "consent_hooks", "compaction_hooks", "mcp_result"]

CONSENT_SECONDS = 24 * 3600.0      # a person deciding: no hook timeout in practice


def mcp_result(block: dict[str, Any]) -> dict[str, Any]:
    """A `tool_result` block as an MCP tool result (text and images)."""
    content = block.get("content")
    items: list[dict[str, Any]] = []
    if isinstance(content, str):
        items.append({"type": "text", "text": content})
    else:
        for part in content or []:
            if part.get("type") == "text":
                items.append({"type": "text", "text": part.get("text", "")})
            elif part.get("type") == "image" and (part.get("source") or {}).get("type") == "base64":
                source = part["source"]
                items.append({"type": "image", "data": source.get("data", ""),
                              "mimeType": source.get("media_type", "image/png")})
    if not items:
        items.append({"type": "text", "text": "(no output)"})
    result: dict[str, Any] = {"content": items}
    if block.get("is_error"):
        result["is_error"] = True
    return result


def kernel_server(definitions: list[dict[str, Any]], live: LiveClient) -> Any:
    """The in-process MCP server offering `definitions` (kernel tools) to the CLI."""
    from claude_agent_sdk import SdkMcpTool, create_sdk_mcp_server

    tools = [SdkMcpTool(name=definition["name"], description=definition.get("description", ""),
                        input_schema=definition.get("input_schema") or {"type": "object", "properties": {}},
                        handler=_handler(definition["name"], live))
             for definition in definitions]
    return create_sdk_mcp_server(KERNEL_SERVER, "1.0.0", tools)


def _handler(name: str, live: LiveClient) -> Any:
    async def call(arguments: dict[str, Any]) -> dict[str, Any]:
        channel = live.channel
        if channel is None or channel.closed:
            return {"content": [{"type": "text", "text": "The tool call was not run: the turn is over."}],
                    "is_error": True}
        ids = channel.kernel_ids.get(name)
        tool_use_id = ids.popleft() if ids else f"toolu_kernel_{id(arguments):x}"
        reply: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()
        channel.put("tool", {"type": "tool_use", "id": tool_use_id, "name": name, "input": dict(arguments)},
                    reply)
        block = await asyncio.wrap_future(reply)
        return mcp_result(block)

    return call


def permission_callback(live: LiveClient) -> Any:
    """`can_use_tool`: kernel tools pass (the executor asks), others are asked of the kernel thread."""
    from claude_agent_sdk import PermissionResultAllow, PermissionResultDeny

    async def can_use_tool(tool_name: str, tool_input: dict[str, Any], context: Any) -> Any:
        channel = live.channel
        if channel is None or channel.closed:
            return PermissionResultDeny(message="The tool call was not run: the turn is over.")
        name = display_name(tool_name)
        tool_use_id = getattr(context, "tool_use_id", None) or ""
        if name != tool_name:                          # a kernel tool: consent happens where it runs
            channel.kernel_ids.setdefault(name, collections.deque()).append(tool_use_id)
            return PermissionResultAllow()
        reply: concurrent.futures.Future[tuple[bool, str]] = concurrent.futures.Future()
        channel.put("consent", {"id": tool_use_id, "name": tool_name, "input": dict(tool_input)}, reply)
        allowed, message = await asyncio.wrap_future(reply)
        return PermissionResultAllow() if allowed else PermissionResultDeny(message=message)

    return can_use_tool


def consent_hooks(live: LiveClient) -> dict[str, Any]:
    """A PreToolUse hook: every tool call passes through the kernel's consent, whatever Claude Code's own rules say.

    Claude Code allows some calls by itself (read-only shell commands); the hook sees each one first. Kernel
    tools pass (their executor asks where they run); their tool_use id is noted for the MCP handler.
    """
    from claude_agent_sdk import HookMatcher

    async def pre_tool_use(data: Any, tool_use_id: str | None, _context: Any) -> dict[str, Any]:
        channel = live.channel
        tool_name = str(data.get("tool_name", ""))
        name = display_name(tool_name)
        if channel is None or channel.closed:
            return _decision("deny", "The tool call was not run: the turn is over.")
        if name != tool_name:
            channel.kernel_ids.setdefault(name, collections.deque()).append(tool_use_id or "")
            return _decision("allow", "")
        reply: concurrent.futures.Future[tuple[bool, str]] = concurrent.futures.Future()
        channel.put("consent", {"id": tool_use_id or "", "name": tool_name,
                                "input": dict(data.get("tool_input") or {})}, reply)
        allowed, message = await asyncio.wrap_future(reply)
        return _decision("allow" if allowed else "deny", message)

    return {"PreToolUse": [HookMatcher(matcher=None, hooks=[pre_tool_use], timeout=CONSENT_SECONDS)]}


def compaction_hooks(live: LiveClient) -> dict[str, Any]:
    """A PreCompact hook: when the CLI compacts its conversation (by itself, or `/compact`), the cell says so."""
    from claude_agent_sdk import HookMatcher

    async def pre_compact(data: Any, _tool_use_id: str | None, _context: Any) -> dict[str, Any]:
        channel = live.channel
        if channel is not None and not channel.closed:
            how = "by itself (its context was filling up)" if data.get("trigger") == "auto" else "as asked"
            channel.put("notice", f"Context compacted: Claude Code summarized the conversation {how}; the "
                                  "notebook's history keeps every turn.")
        return {}

    return {"PreCompact": [HookMatcher(matcher=None, hooks=[pre_compact])]}


def _decision(decision: str, reason: str) -> dict[str, Any]:
    output: dict[str, Any] = {"hookEventName": "PreToolUse", "permissionDecision": decision}
    if reason:
        output["permissionDecisionReason"] = reason
    return {"hookSpecificOutput": output}
