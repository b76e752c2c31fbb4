"""The package's version (the root re-exports it; the MCP client reports it to servers)."""

__version__ = "0.1.0"
