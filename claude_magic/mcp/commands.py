"""`%claude mcp`: list the servers (status, tools, last error); add, remove, restart, approve and revoke one."""

from __future__ import annotations

from typing import Any

from ..core.errors import ClaudeMagicError, ConfigurationError
from ..core.hidden_text import one_line as visible
from ..core.redaction import redact
from .attach import attach
from .config import parse_server
from .dependency import require_mcp
from .source import McpToolSource

__all__ = ["mcp_command", "USAGE"]

USAGE = ("usage: %claude mcp [list] | add NAME [--env K=V]... -- COMMAND [ARGS...] | "
         "add NAME --url URL [--sse] [--header 'K: V']... | remove NAME | restart [NAME] | approve NAME | revoke NAME")


def mcp_command(session: Any, arguments: list[str]) -> str:
    """Dispatch `%claude mcp ...` (a one-line `ClaudeMagicError` for bad input)."""
    source = attach(session)
    if source is None:
        raise ClaudeMagicError("This session has no toolbox, so it cannot use MCP servers.")
    action, rest = (arguments[0], arguments[1:]) if arguments else ("list", [])
    if action in ("list", "ls"):
        if rest:
            raise ClaudeMagicError(USAGE)
        return listing(source)
    if action == "add":
        return add(source, rest)
    if action in ("remove", "rm"):
        if len(rest) != 1:
            raise ClaudeMagicError("usage: %claude mcp remove NAME")
        return remove(source, rest[0])
    if action == "restart":
        if len(rest) > 1:
            raise ClaudeMagicError("usage: %claude mcp restart [NAME]")
        return restart(source, rest[0] if rest else None)
    if action in ("approve", "revoke"):
        if len(rest) != 1:
            raise ClaudeMagicError(f"usage: %claude mcp {action} NAME")
        return approve(source, rest[0]) if action == "approve" else revoke(source, rest[0])
    raise ClaudeMagicError(f"Unknown `%claude mcp` action {action!r}. {USAGE}")


def listing(source: McpToolSource) -> str:
    """The servers as a table: status, tools, what starts them, where configured, the last error."""
    servers = source.servers()
    lines: list[str] = []
    if servers or source.pending:
        source.manager.refresh_status()
        tools = source.tools(start=False)
        lines += ["| server | status | tools | starts with | configured in | last error |", "|---|---|---|---|---|---|"]
        for connection in source.manager.connections():
            config = connection.config
            started = connection.generation > 0
            count = str(sum(item.server == config.name for item in tools)) if started else "—"
            error = connection.last_error or "; ".join(source.notes(config.name))
            lines.append(f"| {config.name} | {_status(connection.status)} | {count} | {_cell(config.summary)} | "
                         f"{_cell(config.origin)} | {_cell(error)} |")
        for name, item in source.pending.items():
            lines.append(f"| {name} | needs approval | — | {_cell(item.server.summary)} | {_cell(str(item.path))} | "
                         f"not started: a project file configures it; if you trust it, "
                         f"`%claude mcp approve {name}` |")
        lines += ["", "Servers start when a turn first needs their tools; their tools are named "
                  "`mcp__SERVER__TOOL` and ask before each call (`%config ClaudeMagic.tool_policies = "
                  "{'mcp__SERVER__*': 'allow'}` to allow one server's tools). `%claude tools` lists them."]
    else:
        folders = ", ".join(str(folder) for folder in source.folders())
        lines.append(f"No MCP servers are configured (looked for .mcp.json in {folders or 'no folder'}). "
                     "Add one with `%claude mcp add NAME -- COMMAND ARGS...`, `%claude mcp add NAME --url URL`, "
                     "`%config ClaudeMagic.mcp_servers = {...}` or a .mcp.json file.")
    for error in source.config_errors:
        lines += ["", f"Configuration error: {_cell(error)}"]
    return "\n".join(lines)


def add(source: McpToolSource, words: list[str]) -> str:
    """`add NAME [--env K=V]... -- COMMAND ARGS...` or `add NAME --url URL [--sse] [--header K:V]...`."""
    if not words or words[0].startswith("-"):
        raise ClaudeMagicError(USAGE)
    name, options = words[0], words[1:]
    command: list[str] = []
    if "--" in options:
        cut = options.index("--")
        options, command = options[:cut], options[cut + 1:]
    entry: dict[str, Any] = {}
    env: dict[str, str] = {}
    headers: dict[str, str] = {}
    index = 0
    while index < len(options):
        option = options[index]
        if option == "--sse":
            entry["type"] = "sse"
            index += 1
            continue
        if option not in ("--env", "-e", "--url", "--header", "-H") or index + 1 >= len(options):
            raise ClaudeMagicError(f"`%claude mcp add`: unexpected {option!r}. {USAGE}")
        value = options[index + 1]
        index += 2
        if option in ("--env", "-e"):
            key, equals, text = value.partition("=")
            if not equals or not key:
                raise ClaudeMagicError("`%claude mcp add`: --env takes NAME=VALUE")
            env[key] = text
        elif option == "--url":
            entry["url"] = value
        else:
            key, colon, text = value.partition(":")
            if not colon or not key.strip():
                raise ClaudeMagicError("`%claude mcp add`: --header takes 'Name: value'")
            headers[key.strip()] = text.strip()
    if command and "url" in entry:
        raise ClaudeMagicError("`%claude mcp add`: give either `-- COMMAND ARGS...` or `--url URL`, not both")
    if command:
        if headers:
            raise ClaudeMagicError("`%claude mcp add`: --header is for --url servers; use --env for a command")
        entry.update({"command": command[0], "args": command[1:]})
        if env:
            entry["env"] = env
    elif "url" in entry:
        if env:
            raise ClaudeMagicError("`%claude mcp add`: --env is for command servers; use --header for a URL")
        entry.setdefault("type", "http")
        if headers:
            entry["headers"] = headers
    else:
        raise ClaudeMagicError(f"`%claude mcp add {name}`: say what to start: `-- COMMAND ARGS...` or `--url URL`")
    try:
        server = parse_server(name, entry, "%claude mcp add")
    except ConfigurationError as error:
        raise ClaudeMagicError(str(error)) from None
    require_mcp()
    source.add(server)
    source.servers()
    source.tools([f"mcp__{name}__*"], start=True)
    return f"Added MCP server `{name}` ({redact(server.summary)}). " + _state(source, name)


def approve(source: McpToolSource, name: str) -> str:
    """`approve NAME`: trust a project `.mcp.json` server with its file's current content, then start it."""
    item = source.approve(name)
    require_mcp()
    source.servers()
    source.tools([f"mcp__{name}__*"], start=True)
    return (f"Approved MCP server `{name}` of {visible(str(item.path))}: `{item.server.summary}` (remembered in "
            f"{visible(str(source.approvals.path))} for this content of the file; a change asks again). "
            + _state(source, name))


def revoke(source: McpToolSource, name: str) -> str:
    """`revoke NAME`: forget the approval; the server stops and waits for approval again."""
    item = source.revoke(name)
    return (f"Revoked the approval of MCP server `{name}` of {visible(str(item.path))}: it is stopped and "
            "waits for approval again.")


def remove(source: McpToolSource, name: str) -> str:
    if name not in source.servers() and name not in source.pending:
        raise ClaudeMagicError(f"No MCP server named {name!r}; {_known(source)}")
    source.remove(name)
    return f"Removed MCP server `{name}` for this session; its tools are no longer offered."


def restart(source: McpToolSource, name: str | None) -> str:
    servers = source.servers()
    if name is not None and name not in servers:
        raise ClaudeMagicError(f"No MCP server named {name!r}; {_known(source)}")
    require_mcp()
    names = [name] if name is not None else list(servers)
    if not names:
        raise ClaudeMagicError("No MCP servers are configured: nothing to restart (`%claude mcp` explains how "
                               "to add one).")
    for item in names:
        source.manager.restart(item, source.start_timeout)
    return "\n".join(f"Restarted `{item}`: " + _state(source, item) for item in names)


def _state(source: McpToolSource, name: str) -> str:
    connection = source.manager.get(name)
    if connection is None:
        return ""
    if connection.status != "running":
        return f"It is {connection.status}: {connection.last_error}"
    tools = [item.name for item in source.tools(start=False) if item.server == name]
    listed = ", ".join(f"`{tool}`" for tool in tools) or "none"
    return f"Running, {len(tools)} tool{'s' if len(tools) != 1 else ''}: {listed}."


def _known(source: McpToolSource) -> str:
    names = list(source.servers())
    return f"the servers are: {', '.join(names)}" if names else "no MCP servers are configured"


def _status(status: str) -> str:
    return "not started (starts on first use)" if status == "not started" else status


def _cell(text: str) -> str:
    return visible(redact(text)).replace("|", "&#124;")
