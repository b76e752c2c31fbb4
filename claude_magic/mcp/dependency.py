"""Whether the optional `mcp` package is installed, and the one line that says how to install it."""

from __future__ import annotations

import importlib.util

from ..core.errors import ClaudeMagicError

__all__ = ["INSTALL_HINT", "McpMissing", "mcp_available", "require_mcp"]

INSTALL_HINT = "MCP servers need the `mcp` package: pip install 'claude-magic[mcp]'"


class McpMissing(ClaudeMagicError):
    """MCP servers are configured but the `mcp` package is not installed."""


def mcp_available() -> bool:
    """True when `import mcp` would work (checked without importing it)."""
    try:
        return importlib.util.find_spec("mcp") is not None
    except (ImportError, ValueError):       # a broken or blocked install
        return False


def require_mcp() -> None:
    """Raise `McpMissing` (one line naming the install command) when the `mcp` package is missing."""
    if not mcp_available():
        raise McpMissing(INSTALL_HINT)
