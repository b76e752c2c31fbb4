"""MCP servers' tools in the notebook: `.mcp.json` configuration, a lazy server manager, tools for the toolbox.

Importing this package does not import the `mcp` package (it is needed only once a server starts):
`config` parses Claude Code's `.mcp.json` shape, `manager`/`connection` run the client sessions on a
private event-loop thread, `tools`/`results` turn server tools and results into `Tool`s and
tool results, `source` is the toolbox's tool source, `commands` is `%claude mcp`, `agent_sdk` gives
the Claude Code engine the same servers.
"""

from __future__ import annotations

from typing import Any

__all__ = ["agent_sdk_servers", "McpToolSource", "default_source", "ServerConfig"]


def __getattr__(name: str) -> Any:
    if name == "agent_sdk_servers":
        from .agent_sdk import agent_sdk_servers

        return agent_sdk_servers
    if name in ("McpToolSource", "default_source"):
        from . import source

        return getattr(source, name)
    if name == "ServerConfig":
        from .config import ServerConfig

        return ServerConfig
    raise AttributeError(f"module 'claude_magic.mcp' has no attribute {name!r}")
