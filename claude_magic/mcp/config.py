"""MCP server configuration in Claude Code's `.mcp.json` shape: parsing, `${VAR}` expansion, where files are."""

from __future__ import annotations

import hashlib
import os
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import ConfigurationError
from ..core.hidden_text import one_line as visible
from ..core.json_file import UnusableFile, load_json, read_bytes
from ..core.redaction import redact, register_secrets

__all__ = ["ServerConfig", "parse_servers", "parse_server", "config_files", "notebook_folder", "read_config_file",
           "ConfigFile", "ServersDict", "TRANSPORTS", "CONFIG_FILE"]

CONFIG_FILE = ".mcp.json"
TRANSPORTS = ("stdio", "http", "sse")
_SERVER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_STDIO_KEYS = frozenset({"type", "command", "args", "env", "cwd"})
_REMOTE_KEYS = frozenset({"type", "url", "headers"})
MAX_CONFIG_BYTES = 1024 * 1024                    # a `.mcp.json` is a few hundred bytes


@dataclass(frozen=True)
class ServerConfig:
    """One server: a command to launch (stdio) or a URL (http, sse). `repr` never shows env or header values."""

    name: str
    transport: str                                   # "stdio", "http" or "sse"
    command: str = ""
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    origin: str = ""                                  # where it was configured: a file, the config, `%claude mcp add`
    variables: tuple[str, ...] = ()                   # the `${VAR}` names its entry expands (values never shown)

    def __repr__(self) -> str:
        return f"<ServerConfig {self.name!r} {self.summary}>"

    @property
    def summary(self) -> str:
        """What starts it, exactly and on one line, secrets left out: the command line (shell-quoted) and env
        names, or the URL and header names; then the environment variables it reads. Invisible characters show."""
        if self.transport == "stdio":
            text = shlex.join([self.command, *self.args])
            if self.env:
                text += f" (env: {', '.join(sorted(self.env))})"
        else:
            text = f"{self.transport} {self.url}"
            if self.headers:
                text += f" (headers: {', '.join(sorted(self.headers))})"
        if self.variables:
            text += f" (expands {', '.join('$' + name for name in self.variables)})"
        return visible(redact(text))

    def to_json(self) -> dict[str, Any]:
        """The `.mcp.json` / Agent SDK shape (values in full: for the SDK and files only, never for display)."""
        if self.transport == "stdio":
            data: dict[str, Any] = {"type": "stdio", "command": self.command, "args": list(self.args)}
            if self.env:
                data["env"] = dict(self.env)
            return data
        data = {"type": self.transport, "url": self.url}
        if self.headers:
            data["headers"] = dict(self.headers)
        return data


class ServersDict(dict):  # type: ignore[type-arg]
    """`ClaudeMagic.mcp_servers` as stored: a plain dict whose repr (as `%config ClaudeMagic` shows it) hides values."""

    def __repr__(self) -> str:
        try:
            servers = parse_servers(self, "ClaudeMagic.mcp_servers")
        except ConfigurationError:
            return f"{{{', '.join(repr(name) for name in self)}: ...}}"
        return "{" + ", ".join(f"{name!r}: <{server.summary}>" for name, server in servers.items()) + "}"

    __str__ = __repr__


def parse_servers(data: Any, origin: str) -> dict[str, ServerConfig]:
    """`{"mcpServers": {...}}` or the bare `{NAME: {...}}` mapping, as validated `ServerConfig`s in order."""
    if isinstance(data, Mapping) and "mcpServers" in data:
        data = data["mcpServers"]
    if not isinstance(data, Mapping):
        raise ConfigurationError(f"{origin}: MCP servers must be a mapping of names to servers, "
                                 f"not {type(data).__name__}")
    return {str(name): parse_server(str(name), entry, origin) for name, entry in data.items()}


def parse_server(name: str, entry: Any, origin: str) -> ServerConfig:
    """One server entry: `{"command", "args", "env"}` or `{"type": "http"|"sse", "url", "headers"}`."""
    where = f"{origin}: MCP server {name!r}"
    try:
        return _parse(name, entry, origin, where)
    except _MissingVariable as missing:
        raise ConfigurationError(f"{where}: ${{{missing}}} is used but not set in the kernel's environment "
                                 f"(set it, or write ${{{missing}:-default}})") from None


class _MissingVariable(Exception):
    """A `${VAR}` without a default whose variable is not set."""


def _parse(name: str, entry: Any, origin: str, where: str) -> ServerConfig:
    if not _SERVER_NAME.match(name):
        raise ConfigurationError(f"{where}: a server name is 1-40 letters, digits, '_' or '-'")
    if not isinstance(entry, Mapping):
        raise ConfigurationError(f"{where} must be a mapping such as {{\"command\": ..., \"args\": [...]}} "
                                 "or {\"type\": \"http\", \"url\": ...}")
    transport = entry.get("type") or ("stdio" if "command" in entry else "http" if "url" in entry else "")
    if transport not in TRANSPORTS:
        raise ConfigurationError(f"{where}: type must be one of {', '.join(TRANSPORTS)} "
                                 f"(or give a command or a url), not {transport!r}")
    unknown = sorted(set(entry) - (_STDIO_KEYS if transport == "stdio" else _REMOTE_KEYS))
    if unknown:
        raise ConfigurationError(f"{where}: unknown key(s) {', '.join(unknown)} for a {transport} server")
    if transport == "stdio":
        command = _expand(_string(entry.get("command"), where, "command"))
        if not command.strip():
            raise ConfigurationError(f"{where}: the command is empty")
        args = tuple(_expand(_string(arg, where, "args[]")) for arg in _list(entry.get("args", []), where))
        env = _secret_map(entry.get("env", {}), where, "env")
        cwd = entry.get("cwd")
        variables = _variables(entry)                  # every value is a checked string (or list/map of them) now
        return ServerConfig(name, "stdio", command=command, args=args, env=env,
                            cwd=_expand(_string(cwd, where, "cwd")) if cwd is not None else None, origin=origin,
                            variables=variables)
    url = _expand(_string(entry.get("url"), where, "url"))
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"{where}: url must start with http:// or https://")
    headers = _secret_map(entry.get("headers", {}), where, "headers")
    return ServerConfig(name, transport, url=url, headers=headers, origin=origin, variables=_variables(entry))


def _variables(entry: Mapping[str, Any]) -> tuple[str, ...]:
    """The `${VAR}` names a checked entry expands (its strings, its lists' and maps' strings), each once, in order."""
    texts: list[str] = []
    for value in entry.values():
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, Mapping):
            texts += [item for item in value.values() if isinstance(item, str)]
        elif isinstance(value, (list, tuple)):
            texts += [item for item in value if isinstance(item, str)]
    return tuple(dict.fromkeys(match.group(1) for text in texts for match in _VARIABLE.finditer(text)))


def _string(value: Any, where: str, key: str) -> str:
    if not isinstance(value, str):
        raise ConfigurationError(f"{where}: {key} must be a string, not {type(value).__name__}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise ConfigurationError(f"{where}: args must be a list of strings")
    return list(value)


def _secret_map(value: Any, where: str, key: str) -> dict[str, str]:
    """`env` / `headers`: strings to strings, `${VAR}` expanded; every value is registered as a secret."""
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{where}: {key} must be a mapping of names to strings")
    result = {}
    for name, raw in value.items():
        if not isinstance(raw, str):
            raise ConfigurationError(f"{where}: {key}[{name!r}] must be a string, not {type(raw).__name__}")
        expanded = _expand(raw)
        register_secrets([expanded])           # "Bearer TOKEN": the token alone becomes a secret too
        result[str(name)] = expanded
    return result


def _expand(text: str) -> str:
    """`${VAR}` and `${VAR:-default}` from the environment, as Claude Code expands `.mcp.json`."""
    def value(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = os.environ.get(name)
        if found is None:
            if default is None:
                raise _MissingVariable(name)
            return default
        return found

    return _VARIABLE.sub(value, text) if "${" in text else text


def notebook_folder(user_ns: Mapping[str, Any] | None = None) -> Path | None:
    """The running notebook's folder: VS Code's `__vsc_ipynb_file__`, else Jupyter's `JPY_SESSION_NAME`."""
    candidates = [(user_ns or {}).get("__vsc_ipynb_file__"), os.environ.get("JPY_SESSION_NAME")]
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            path = Path(candidate).expanduser()
            if path.suffix == ".ipynb" and path.parent.is_dir():
                return path.parent.resolve()
    return None


def config_files(folders: Iterable[Path | None]) -> list[Path]:
    """The `.mcp.json` files of `folders` that exist (each once, in order)."""
    found: list[Path] = []
    for folder in folders:
        if folder is None:
            continue
        candidate = folder / CONFIG_FILE
        if not candidate.is_file():      # the usual case, on every turn: one stat, no resolving
            continue
        path = candidate.resolve()
        if path not in found:
            found.append(path)
    return found


@dataclass(frozen=True)
class ConfigFile:
    """One `.mcp.json` as read: its servers and the SHA-256 of the exact bytes they were parsed from."""

    path: Path
    digest: str
    servers: dict[str, ServerConfig]


def read_config_file(path: Path) -> ConfigFile:
    """One `.mcp.json` file's servers (a one-line `ConfigurationError` when it is not valid, whatever it holds)."""
    shown = visible(str(path))
    try:
        raw = read_bytes(path, MAX_CONFIG_BYTES)
        data = load_json(raw, MAX_CONFIG_BYTES)
    except OSError as error:
        raise ConfigurationError(f"Could not read {shown}: {error.strerror}") from None
    except UnusableFile as error:
        raise ConfigurationError(f"{shown} is not a usable MCP configuration: {visible(str(error))}") from None
    try:
        servers = parse_servers(data, shown)
    except ConfigurationError as error:
        raise ConfigurationError(visible(str(error))) from None
    return ConfigFile(path, hashlib.sha256(raw).hexdigest(), servers)
