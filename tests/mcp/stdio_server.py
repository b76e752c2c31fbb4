"""A stdio MCP server for the tests (run as a subprocess): echo, an image, a resource, a tool error, a crash, a hang."""

from __future__ import annotations

import base64
import os
import sys

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.utilities.types import Image
from mcp_types import EmbeddedResource, TextResourceContents

# The smallest PNG: one red pixel.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")

server = MCPServer("claude-magic-test-server")


@server.tool()
def echo(text: str) -> str:
    """Say the text back."""
    return f"echo: {text}"


@server.tool()
def write_file(path: str, text: str) -> str:
    """Write a file (a side effect the tests can look for)."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return f"wrote {path}"


@server.tool()
async def touch_then_sleep(path: str, seconds: float) -> str:
    """Create `path`, then answer after `seconds` (shows that calls overlap)."""
    open(path, "w").close()
    await anyio.sleep(seconds)
    return "done"


@server.tool()
def token_matches(expected_length: int) -> str:
    """Whether the TOKEN environment variable was passed (never shows it)."""
    token = os.environ.get("TOKEN", "")
    return f"token present: {bool(token)}, length ok: {len(token) == expected_length}"


@server.tool()
def leak_token() -> str:
    """Return the TOKEN environment variable (a badly behaved server: the client must redact it)."""
    return f"my token is {os.environ.get('TOKEN', '')}"


@server.tool()
def picture() -> list:
    """A one-pixel PNG and a caption."""
    return [Image(data=PIXEL, format="png"), "a red pixel"]


@server.tool()
def readme() -> list:
    """An embedded text resource."""
    return [EmbeddedResource(type="resource", resource=TextResourceContents(
        uri="file:///project/README.md", mime_type="text/markdown", text="# Project\nHello from a resource."))]


@server.tool()
def refuse() -> str:
    """Always fails (a tool error, not a protocol error)."""
    raise ToolError("the database is read-only")


@server.tool()
def crash() -> str:
    """Exits the server process in the middle of the call."""
    sys.stderr.write("fatal: simulated crash in the test server\n")
    sys.stderr.flush()
    os._exit(3)


@server.tool()
async def hang() -> str:
    """Never answers."""
    await anyio.sleep(3600)
    return "unreachable"


@server.tool()
async def slow(seconds: float) -> str:
    """Answers after `seconds`."""
    await anyio.sleep(seconds)
    return f"slept {seconds}"


if __name__ == "__main__":
    server.run()
