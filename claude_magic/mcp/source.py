"""The toolbox's tool source for MCP servers: the merged configuration, lazy starts, and the tools in order."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import ClaudeMagicError, ConfigurationError
from ..core.hidden_text import one_line as visible
from ..tools.policy import is_pattern
from .approvals import Approvals
from .config import ConfigFile, ServerConfig, config_files, notebook_folder, read_config_file
from .dependency import INSTALL_HINT, mcp_available
from .manager import McpManager
from .tools import PREFIX, McpTool, build_tools, split_tool_name

__all__ = ["McpToolSource", "default_source", "FileServer"]

DEFAULT_START_TIMEOUT = 120.0


@dataclass(frozen=True)
class FileServer:
    """A server that comes from a project's `.mcp.json`: which file, and the hash of the content it was read from."""

    server: ServerConfig
    path: Path
    digest: str

    @property
    def key(self) -> str:
        """This server of this file content (a changed file is a new key: its hint is shown again)."""
        return f"{self.path}\0{self.digest}\0{self.server.name}"

    @property
    def approval_hint(self) -> str:
        """The one line that says what would run and how to approve it."""
        name = self.server.name
        action = "run" if self.server.transport == "stdio" else "connect to"
        return (f"MCP server `{name}` in {visible(str(self.path))} was not started: it would {action} "
                f"`{self.server.summary}`. If you trust it: `%claude mcp approve {name}`.")


class McpToolSource:
    """Where MCP tools come from, for `Toolbox.add_source`.

    Servers are merged in this order (a later layer replaces a server of the same name, the first
    position stays): `.mcp.json` in the notebook's folder, `.mcp.json` in the current folder,
    `ClaudeMagic.mcp_servers`, then `%claude mcp add`; `%claude mcp remove` hides a server for the session.
    A server starts when a turn (or `%claude tools`) first needs its tools.

    A project's file is not the user's own configuration: its servers are `pending` (never started, never
    contacted, not handed to the Claude Code CLI) until the user approves that file's exact content
    (`%claude mcp approve NAME`, kept in `Approvals`); a server of the same name that the user configured
    (`ClaudeMagic.mcp_servers`, `%claude mcp add`) replaces it and needs no approval.
    """

    def __init__(self, manager: McpManager | None = None, folders: Iterable[Path] | None = None,
                 approvals: Approvals | None = None) -> None:
        self.manager = manager or McpManager()
        self.approvals = approvals or Approvals()
        self.pending: dict[str, FileServer] = {}
        self.from_files: dict[str, FileServer] = {}
        self.configured: dict[str, ServerConfig] = {}
        self.added: dict[str, ServerConfig] = {}
        self.removed: set[str] = set()
        self.user_ns: dict[str, Any] | None = None
        self.start_timeout: float | None = DEFAULT_START_TIMEOUT
        self.config_errors: list[str] = []
        self._folders = list(folders) if folders is not None else None
        self._files: dict[Path, tuple[tuple[int, int, int], ConfigFile | str]] = {}
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

    def servers(self, *, hint: bool = True) -> dict[str, ServerConfig]:
        """Every server that may start, in order (files are re-read when they change); the manager follows.

        A project file's server that is not approved for the file's current content is left out and put
        in `pending` (with one line, once per content, on how to approve it, unless `hint` is False).
        """
        with self._lock:
            merged: dict[str, ServerConfig] = {}
            files: dict[str, FileServer] = {}
            errors: list[str] = []
            for path in config_files(self.folders()):
                loaded = self._read(path)
                if isinstance(loaded, str):
                    errors.append(loaded)
                    continue
                for name, server in loaded.servers.items():
                    files.setdefault(name, FileServer(server, loaded.path, loaded.digest))  # the notebook's wins
            merged.update({name: item.server for name, item in files.items()})
            merged.update(self.configured)
            merged.update(self.added)
            for name in self.removed:
                merged.pop(name, None)
            approved: dict[tuple[Path, str], set[str]] = {}
            pending: dict[str, FileServer] = {}
            for name, item in files.items():
                if name in self.configured or name in self.added or name in self.removed:
                    continue                          # the user's own replaces (or hides) the file's
                version = (item.path, item.digest)
                if version not in approved:
                    approved[version] = self.approvals.approved(item.path, item.digest)
                if name not in approved[version]:
                    pending[name] = item
                    del merged[name]
            self.config_errors = errors
            self.pending = pending
            self.from_files = {name: item for name, item in files.items() if merged.get(name) is item.server}
            for error in errors:
                self._warn(error)
            for item in pending.values() if hint else ():
                self._warn(item.approval_hint, key=item.key)
            self.manager.configure(merged)
            return merged

    def _read(self, path: Path) -> ConfigFile | str:
        try:
            status = path.stat()
        except OSError as error:
            return f"Could not read {visible(str(path))}: {error.strerror}"
        stamp = (status.st_mtime_ns, status.st_size, status.st_ino)
        cached = self._files.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            loaded: ConfigFile | str = read_config_file(path)
        except ConfigurationError as error:
            loaded = str(error)
        self._files[path] = (stamp, loaded)
        return loaded

    def approve(self, name: str) -> FileServer:
        """`%claude mcp approve NAME`: remember the approval of this server of its file's current content."""
        self.servers(hint=False)
        item = self.pending.get(name)
        if item is None:
            if name in self.from_files:
                raise ClaudeMagicError(f"MCP server `{name}` from {visible(str(self.from_files[name].path))} is "
                                       "already approved.")
            raise ClaudeMagicError(f"No MCP server named {name!r} waits for approval; "
                                   f"{self._waiting()}")
        self.approvals.approve(item.path, item.digest, name)
        return item

    def revoke(self, name: str) -> FileServer:
        """`%claude mcp revoke NAME`: forget the approval (the server stops and waits for approval again)."""
        self.servers(hint=False)
        item = self.from_files.get(name) or self.pending.get(name)
        if item is None or not self.approvals.revoke(item.path, name):
            raise ClaudeMagicError(f"No approved project MCP server named {name!r} "
                                   f"({', '.join(self.from_files) or 'none is approved'}).")
        self._warned.add(item.key)                    # the user just did this: no hint line about it
        self.servers()
        return item

    def _waiting(self) -> str:
        names = ", ".join(self.pending)
        return f"waiting: {names}" if names else "no project server waits for approval (`%claude mcp` lists them)"

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

    def _warn(self, line: str, once: bool = True, key: str | None = None) -> None:
        """One line on stderr (shown under the running cell), once per distinct message (or `key`) unless `once`
        is False."""
        key = key or line
        if once and key in self._warned:
            return
        self._warned.add(key)
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
