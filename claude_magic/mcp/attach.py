"""Connecting a session's toolbox to the MCP servers: the magic's configuration, the start limit, kernel exit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .config import parse_servers
from .source import McpToolSource, default_source

__all__ = ["attach", "source_of"]

def source_of(session: Any) -> McpToolSource | None:
    """The MCP tool source of `session`'s toolbox, if it has one."""
    toolbox = getattr(session, "toolbox", None)
    for source in getattr(toolbox, "sources", ()) or ():
        if isinstance(source, McpToolSource):
            return source
    return None


def attach(session: Any, servers: Mapping[str, Any] | None = None, shell: Any = None,
           start_timeout: float | None = None) -> McpToolSource | None:
    """Give `session`'s toolbox the kernel's MCP source (once) and apply `ClaudeMagic.mcp_servers`.

    Cheap: nothing is started and the `mcp` package is not imported. The servers stop at kernel exit
    (the manager registers with `atexit`; IPython 9 has no shutdown hook any more).
    """
    toolbox = getattr(session, "toolbox", None)
    if toolbox is None:
        return None
    source = source_of(session)
    if source is None:
        source = default_source()
        toolbox.add_source(source)
    if servers is not None:
        source.set_configured(parse_servers(dict(servers), "ClaudeMagic.mcp_servers"))
    if start_timeout is not None:
        source.start_timeout = start_timeout if start_timeout > 0 else None
    if shell is not None:
        source.user_ns = getattr(shell, "user_ns", None)
    return source

