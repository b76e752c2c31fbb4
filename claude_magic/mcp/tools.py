"""An MCP server's tool as a `Tool`: named `mcp__SERVER__TOOL`, the server's schema, consent `ask`."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from typing import TYPE_CHECKING, Any

from ..tools.tool import Tool

if TYPE_CHECKING:
    from ..tools.output import ToolOutput
    from .manager import McpManager

__all__ = ["McpTool", "tool_name", "split_tool_name", "PREFIX", "build_tools"]

PREFIX = "mcp__"
_INVALID = re.compile(r"[^A-Za-z0-9_-]")
_MAX_NAME = 64


def tool_name(server: str, tool: str) -> str:
    """Claude Code's name for a server's tool: `mcp__SERVER__TOOL`, other characters as `_`."""
    return f"{PREFIX}{_INVALID.sub('_', server)}__{_INVALID.sub('_', tool)}"


def split_tool_name(name: str) -> tuple[str, str] | None:
    """(server, tool) of an `mcp__SERVER__TOOL` name, else None."""
    if not name.startswith(PREFIX):
        return None
    server, separator, tool = name[len(PREFIX):].partition("__")
    return (server, tool) if separator and server and tool else None


class McpTool(Tool):
    """One tool of one MCP server. Calls go to the server through the manager (an async tool: the executor
    runs it concurrently with others and cancels it at `ClaudeMagic.tool_timeout`)."""

    def __init__(self, server: str, remote: Any, manager: McpManager) -> None:
        # Not Tool.__init__: there is no Python function, the schema comes from the server.
        self.server = server
        self.remote_name: str = remote.name
        self.name = tool_name(server, remote.name)
        self.function = self.acall
        self.is_async = True
        self.builtin = False
        self.consent = "ask"                      # it acts outside the kernel
        self.main_thread = False
        self._description = remote.description or ""
        self._input_schema = _schema(remote)
        self._sdk_tool = None
        self._definition = None
        self._lock = threading.Lock()
        self._manager = manager

    @property
    def kind(self) -> str:
        return f"MCP server {self.server}"

    @property
    def sdk_tool(self) -> Any:
        raise AttributeError("an MCP tool has no SDK function tool: it is called through its server")

    @property
    def definition(self) -> dict[str, Any]:
        if self._definition is None:
            data: dict[str, Any] = {"name": self.name, "input_schema": self._input_schema}
            if self._description:
                data["description"] = self._description
            self._definition = data
        return self._definition

    async def acall(self, arguments: dict[str, Any]) -> ToolOutput:
        """The server's answer as a `ToolOutput` (a failure is a one-line error result)."""
        future = self._manager.submit_call(self.server, self.remote_name, dict(arguments))
        return await asyncio.wrap_future(future)

    def call(self, arguments: dict[str, Any]) -> ToolOutput:
        """Blocking call (from Python code; the executor uses `acall`)."""
        return self._manager.submit_call(self.server, self.remote_name, dict(arguments)).result()


class MalformedTool(ValueError):
    """A tool whose listing cannot be offered to Claude."""


def _schema(remote: Any) -> dict[str, Any]:
    schema = getattr(remote, "input_schema", None)
    if schema is None:
        schema = {"type": "object", "properties": {}}
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        raise MalformedTool(f"the input schema of {remote.name!r} is not a JSON object schema")
    try:
        return json.loads(json.dumps(schema))
    except (TypeError, ValueError) as error:
        raise MalformedTool(f"the input schema of {remote.name!r} is not JSON ({error})") from None


def build_tools(server: str, listing: list[Any], manager: McpManager) -> tuple[list[McpTool], list[str]]:
    """The server's tools in listing order, and one note per tool that cannot be offered (bad name or schema)."""
    tools: list[McpTool] = []
    notes: list[str] = []
    seen: set[str] = set()
    for remote in listing:
        try:
            item = McpTool(server, remote, manager)
        except MalformedTool as error:
            notes.append(str(error))
            continue
        if len(item.name) > _MAX_NAME:
            notes.append(f"{item.name} is longer than {_MAX_NAME} characters: not offered")
        elif item.name in seen:
            notes.append(f"two tools are both named {item.name}: the second is not offered")
        else:
            seen.add(item.name)
            tools.append(item)
    return tools, notes
