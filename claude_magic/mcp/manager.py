"""The kernel's MCP servers: one connection each, started lazily on a private event-loop thread, stopped at exit."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import threading
from collections.abc import Coroutine, Iterable
from typing import TYPE_CHECKING, Any

from ..tools.asyncloop import LoopThread
from .connection import ServerConnection, ServerUnavailable, one_line

if TYPE_CHECKING:
    from ..tools.output import ToolOutput
    from .config import ServerConfig

__all__ = ["McpManager"]

_STOP_WAIT = 15.0


class McpManager:
    """Connections by server name, all on one loop thread (never `asyncio.run` in the kernel).

    Configured servers are only connected on first use (`ensure_started`), then reused across turns
    and cells; a changed configuration restarts that server on its next use; `close` ends them all.
    """

    def __init__(self) -> None:
        self._loop = LoopThread("claude-magic-mcp")
        self._connections: dict[str, ServerConnection] = {}
        self._lock = threading.Lock()
        self._closed = False
        atexit.register(self.close)

    def __repr__(self) -> str:
        return f"<McpManager {', '.join(f'{c.name}={c.status}' for c in self.connections()) or '(no servers)'}>"

    # -- configuration ---------------------------------------------------------------------------
    def configure(self, configs: dict[str, ServerConfig]) -> None:
        """Make the connections match `configs` (in order); removed or changed servers are stopped."""
        stale: list[ServerConnection] = []
        with self._lock:
            current = self._connections
            updated: dict[str, ServerConnection] = {}
            for name, config in configs.items():
                existing = current.get(name)
                if existing is not None and existing.config.to_json() == config.to_json():
                    existing.config = config              # the origin may have changed: keep the session
                    updated[name] = existing
                else:
                    if existing is not None:
                        stale.append(existing)
                    updated[name] = ServerConnection(config)
            stale += [connection for name, connection in current.items() if name not in configs]
            self._connections = updated
        for connection in stale:
            self._stop_quietly(connection)

    def connections(self) -> list[ServerConnection]:
        with self._lock:
            return list(self._connections.values())

    def get(self, name: str) -> ServerConnection | None:
        with self._lock:
            return self._connections.get(name)

    # -- lifecycle -------------------------------------------------------------------------------
    def ensure_started(self, names: Iterable[str] | None, timeout: float | None) -> list[ServerConnection]:
        """Start the named (None: all) servers that never started, together; returns those that failed now."""
        wanted = [connection for connection in self.connections()
                  if (names is None or connection.name in set(names)) and connection.status == "not started"]
        if not wanted or self._closed:
            return []
        self._run(_together(connection.start(timeout) for connection in wanted), None)
        return [connection for connection in wanted if connection.status == "failed"]

    def restart(self, name: str, timeout: float | None) -> ServerConnection:
        """Stop the server (if it runs) and start it again."""
        connection = self.get(name)
        if connection is None:
            raise KeyError(name)
        self._run(connection.restart(timeout), None)
        return connection

    def refresh_status(self, timeout: float = 5.0) -> None:
        """Ping the running servers so `%claude mcp` shows ones that exited since."""
        running = [connection for connection in self.connections() if connection.running]
        if running and not self._closed:
            self._run(_together(connection.ping(timeout) for connection in running), timeout + 5.0)

    def close(self) -> None:
        """Stop every server and the loop (kernel exit)."""
        if self._closed:
            return
        self._closed = True
        connections = self.connections()
        if self._loop.running and connections:
            with contextlib.suppress(Exception):      # at exit nothing is left to tell
                self._run(_together(connection.stop() for connection in connections), _STOP_WAIT)
        self._loop.stop()

    def _stop_quietly(self, connection: ServerConnection) -> None:
        if self._loop.running:
            with contextlib.suppress(Exception):      # a server that will not stop is abandoned
                self._run(connection.stop(), _STOP_WAIT)

    def _run(self, coroutine: Any, timeout: float | None) -> Any:
        return self._loop.submit(coroutine).result(timeout)

    # -- calls -------------------------------------------------------------------------------------
    def submit_call(self, server: str, tool: str, arguments: dict[str, Any]) -> concurrent.futures.Future[ToolOutput]:
        """Call `tool` on `server`; the future's result is always a `ToolOutput` (errors are one-line results).

        Cancelling the future cancels the call (the MCP client tells the server).
        """
        return self._loop.submit(self._call(server, tool, arguments))

    async def _call(self, server: str, tool: str, arguments: dict[str, Any]) -> ToolOutput:
        from ..tools.output import ToolOutput
        from .results import MalformedResult, result_output

        connection = self.get(server)
        if connection is None:
            return ToolOutput(f"MCP server {server!r} is no longer configured (`%claude mcp` lists the servers).",
                              is_error=True)
        try:
            result = await connection.call_tool(tool, arguments)
            return result_output(result)
        except ServerUnavailable as error:
            return ToolOutput(str(error), is_error=True)
        except MalformedResult as error:
            return ToolOutput(f"MCP server {server!r} returned a result that cannot be read: {error}", is_error=True)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - protocol errors from the server are the call's result
            if type(error).__name__ == "ValidationError":      # pydantic: the answer is not a CallToolResult
                return ToolOutput(f"MCP server {server!r} returned a malformed result for {tool}: "
                                  f"{one_line(error, 200)}", is_error=True)
            return ToolOutput(f"MCP server {server!r} could not run {tool}: {one_line(error)}", is_error=True)


async def _together(coroutines: Iterable[Coroutine[Any, Any, Any]]) -> list[Any]:
    """Run `coroutines` concurrently; failures are returned, not raised (each connection records its own)."""
    return await asyncio.gather(*coroutines, return_exceptions=True)
