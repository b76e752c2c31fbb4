"""A streamable-HTTP MCP server written with the `mcp` package's MCPServer (FastMCP), run by uvicorn in a thread."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer

TOKEN = "mcp-http-canary-7f3a9c1e5b2d4680"     # the bearer token the server demands; must never be shown


def build_server() -> MCPServer:
    server = MCPServer("claude-magic-http-test")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool()
    def weather(city: str) -> str:
        """Today's weather in a city (always the same, for the tests)."""
        return f"It is sunny in {city}."

    return server


class _RequireToken:
    """ASGI middleware: 401 unless `Authorization: Bearer TOKEN` (proves the client sent the configured header)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.refused = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            if headers.get(b"authorization") != f"Bearer {TOKEN}".encode():
                self.refused += 1
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"text/plain")]})
                await send({"type": "http.response.body", "body": b"missing or wrong token"})
                return
        await self.app(scope, receive, send)


class HttpMcpServer:
    """`with HttpMcpServer() as server: server.url` — the MCP endpoint on 127.0.0.1 until the block ends."""

    def __init__(self) -> None:
        self.guard = _RequireToken(build_server().streamable_http_app())
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = uvicorn.Config(self.guard, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="mcp-http-test-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def __enter__(self) -> HttpMcpServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test MCP HTTP server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)
