"""The MCP configuration in the Agent SDK's `ClaudeAgentOptions.mcp_servers` shape, for the Claude Code engine."""

from __future__ import annotations

from typing import Any

from .attach import attach

__all__ = ["agent_sdk_servers"]


def agent_sdk_servers(session: Any) -> dict[str, dict[str, Any]]:
    """`{NAME: McpStdioServerConfig | McpHttpServerConfig | McpSSEServerConfig}` for the servers this session
    configures (`.mcp.json`, `ClaudeMagic.mcp_servers`, `%claude mcp add`, less `%claude mcp remove`).

    The values hold env and header values in full (the SDK needs them): pass them on, never show them.
    A stdio server's `cwd` has no place in the SDK's shape and is left out.
    """
    source = attach(session)
    if source is None:
        return {}
    return {name: server.to_json() for name, server in source.servers().items()}
