"""The registry's tool source for MCP servers: the merged configuration, lazy starts, and the tools in order."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ..tools.consent import is_pattern
from .config import ServerConfig, config_files, notebook_folder, read_config_file
from .dependency import INSTALL_HINT, mcp_available
from .manager import McpManager
from .tools import PREFIX, McpTool, build_tools, split_tool_name

__all__ = ["McpToolSource", "default_source"]

DEFAULT_START_TIMEOUT = 120.0


class McpToolSource:
    """Where MCP tools come from, for `Toolbox.add_source`.

    Servers are merged in this order (a later layer replaces a server of the same name, the first
    position stays): `.mcp.json` in the notebook's folder, `.mcp.json` in the current folder,
    `ClaudeMagic.mcp_servers`, then `%claude mcp add`; `%claude mcp remove` hides a server for the session.
    A server starts when a turn (or `%claude tools`) first needs its tools.
    """

    def __init__(self, manager: McpManager | None = None, folders: Iterable[Path] | None = None) -> None:
        self.manager = manager or McpManager()
        self.configured: dict[str, ServerConfig] = {}
        self.added: dict[str, ServerConfig] = {}
        self.removed: set[str] = set()
        self.user_ns: dict[str, Any] | None = None
        self.start_timeout: float | None = DEFAULT_START_TIMEOUT
        self.config_errors: list[str] = []
        self._folders = list(folders) if folders is not None else None
        self._files: dict[Path, tuple[float, dict[str, ServerConfig] | str]] = {}
        self._built: dict[str, tuple[int, list[McpTool], list[str]]] = {}
        self._warned: set[str] = set()
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"<McpToolSource servers={list(self.servers())}>"

    # -- configuration ---------------------------------------------------------------------------
    def folders(self) -> list[Path]:
        """Where `.mcp.json` is looked for: the notebook's folder, then the current folder."""
        if self._folders is not None:
            return self._folders
        found = [notebook_folder(self.user_ns), Path(os.getcwd())]
        return [folder for folder in found if folder is not None]

    def servers(self) -> dict[str, ServerConfig]:
        """Every configured server in order (files are re-read when they change); the manager follows."""
        with self._lock:
            merged: dict[str, ServerConfig] = {}
            errors: list[str] = []
            for path in config_files(self.folders()):
                loaded = self._read(path)
                if isinstance(loaded, str):
                    errors.append(loaded)
                else:
                    for name, server in loaded.items():
                        merged.setdefault(name, server)   # the notebook's folder comes first and wins
            merged.update(self.configured)
            merged.update(self.added)
            for name in self.removed:
                merged.pop(name, None)
            self.config_errors = errors
            for error in errors:
                self._warn(error)
            self.manager.configure(merged)
            return merged

    def _read(self, path: Path) -> dict[str, ServerConfig] | str:
        try:
            mtime = path.stat().st_mtime
        except OSError as error:
            return f"Could not read {path}: {error.strerror}"
        cached = self._files.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            loaded: dict[str, ServerConfig] | str = read_config_file(path)
        except ConfigurationError as error:
            loaded = str(error)
        self._files[path] = (mtime, loaded)
        return loaded

    def set_configured(self, servers: dict[str, ServerConfig]) -> None:
        """`ClaudeMagic.mcp_servers`, parsed."""
        with self._lock:
            self.configured = dict(servers)

    def add(self, server: ServerConfig) -> None:
        """`%claude mcp add`: a server for this session (replaces one of the same name)."""
        with self._lock:
            self.removed.discard(server.name)
            self.added[server.name] = server

    def remove(self, name: str) -> None:
        """`%claude mcp remove`: stop the server and stop offering its tools this session."""
        with self._lock:
            self.added.pop(name, None)
            self.removed.add(name)
            self._built.pop(name, None)
        self.servers()

    # -- the ToolSource interface ----------------------------------------------------------------
    def tools(self, names: Iterable[str] | None = None, *, start: bool = True) -> list[McpTool]:
        """The servers' tools in configuration order; with `start`, the servers `names` needs start first."""
        servers = self.servers()
        if not servers:
            return []
        if start:
            needed = _servers_for(names, list(servers))
            if needed:
                self._start(needed)
        tools: list[McpTool] = []
        for connection in self.manager.connections():
            tools += self._tools_of(connection)
        return tools

    def _start(self, names: list[str]) -> None:
        if not mcp_available():
            self._warn(INSTALL_HINT)
            return
        failed = self.manager.ensure_started(names, self.start_timeout)
        for connection in failed:
            self._warn(f"MCP server {connection.name!r} did not start: {connection.last_error} "
                       f"(`%claude mcp` shows the servers; `%claude mcp restart {connection.name}` tries again)",
                       once=False)

    def _tools_of(self, connection: Any) -> list[McpTool]:
        """The connection's tools, rebuilt only when it (re)started, so definitions keep their bytes."""
        with self._lock:
            built = self._built.get(connection.name)
            if built is None or built[0] != connection.generation:
                tools, notes = build_tools(connection.name, connection.tools, self.manager)
                built = (connection.generation, tools, notes)
                self._built[connection.name] = built
            return built[1]

    def notes(self, server: str) -> list[str]:
        """Tools of `server` that could not be offered, and why."""
        built = self._built.get(server)
        return list(built[2]) if built else []

    def _warn(self, line: str, once: bool = True) -> None:
        """One line on stderr (shown under the running cell), once per distinct message unless `once` is False."""
        if once and line in self._warned:
            return
        self._warned.add(line)
        print(f"claude-magic: {line}", file=sys.stderr, flush=True)


def _servers_for(names: Iterable[str] | None, servers: list[str]) -> list[str]:
    """Which servers must run to list `names` (tool names or globs; None: all)."""
    if names is None:
        return servers
    needed: list[str] = []
    for name in names:
        if is_pattern(name):
            matching = [server for server in servers if _glob_may_match(name, server)]
        else:
            split = split_tool_name(name)
            matching = [split[0]] if split and split[0] in servers else []
        needed += [server for server in matching if server not in needed]
    return needed


def _glob_may_match(pattern: str, server: str) -> bool:
    """Whether `pattern` may match a name of this server: its literal head fits `mcp__SERVER__` (a safe guess)."""
    probe = f"{PREFIX}{server}__"
    head = pattern
    for index, char in enumerate(pattern):
        if char in "*?[":
            head = pattern[:index]
            break
    return probe.startswith(head) or head.startswith(probe)


_default: McpToolSource | None = None
_default_lock = threading.Lock()


def default_source() -> McpToolSource:
    """The kernel's MCP tool source (what `default_toolbox()` consults)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = McpToolSource()
        return _default
