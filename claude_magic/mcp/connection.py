"""One MCP server's client session on the MCP event loop: start, list tools, call, stop, and what went wrong."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
import warnings
from typing import TYPE_CHECKING, Any

from ..core.redaction import redact

if TYPE_CHECKING:
    from .config import ServerConfig

__all__ = ["ServerConnection", "ServerUnavailable", "one_line", "first_cause"]

_STDERR_TAIL = 2000          # bytes of a server's stderr kept for its error line
_MAX_LINE = 300


class ServerUnavailable(Exception):
    """The server is not running (it failed to start, exited, or was stopped); the message is one line."""


def one_line(error: BaseException | str, limit: int = _MAX_LINE) -> str:
    """An error as one short line without secrets (exception groups: the first real cause)."""
    if isinstance(error, BaseException):
        error = first_cause(error)
    if isinstance(error, BaseException):
        text = str(error) or type(error).__name__
        mcp_error = getattr(error, "error", None)
        if type(error).__name__ == "MCPError" and getattr(mcp_error, "message", None):
            text = mcp_error.message
        elif type(error).__name__ == "ValidationError" and callable(getattr(error, "errors", None)):
            text = _validation_line(error)
        elif isinstance(error, OSError) and error.strerror:
            text = f"{error.strerror}" + (f": {error.filename}" if error.filename else "")
        elif isinstance(error, (TimeoutError, asyncio.TimeoutError)):
            text = "timed out"
    else:
        text = error
    flat = " ".join(redact(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _validation_line(error: Any) -> str:
    """A pydantic error as "malformed TITLE: where: what" (the server sent data that does not fit MCP)."""
    details = error.errors(include_url=False)
    first = details[0] if details else {}
    where = ".".join(str(part) for part in first.get("loc", ())) or "value"
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return f"malformed {getattr(error, 'title', 'data')} from the server: {where}: {first.get('msg', '')}{more}"


class ServerConnection:
    """The client session of one configured server. Every coroutine runs on the manager's loop.

    The session lives in one task (`_serve`), which enters and leaves the transport and the `mcp.Client`
    (anyio needs both in the same task); calls from other tasks share it (JSON-RPC ids keep them apart).
    """

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.status = "not started"       # starting, running, failed, exited, stopped
        self.last_error = ""
        self.tools: list[Any] = []        # mcp.types.Tool, as the server listed them
        self.generation = 0               # +1 at each successful start (tool objects are rebuilt then)
        self.started_at: float | None = None
        self._client: Any = None
        self._task: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        self._stderr: Any = None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def running(self) -> bool:
        return self.status == "running" and self._client is not None

    # -- starting and stopping ---------------------------------------------------------------
    async def start(self, timeout: float | None) -> None:
        """Connect and list the tools; on failure `status` is "failed" and `last_error` says why in one line."""
        if self.running:
            return
        await self.stop()
        self.status, self.last_error = "starting", ""
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._serve(ready, self._stop), name=f"mcp-{self.name}")
        try:
            await asyncio.wait_for(asyncio.shield(ready), timeout)
        except (TimeoutError, asyncio.TimeoutError):
            await self._abandon_task()
            self._fail("failed", f"did not answer within {timeout:g} s (ClaudeMagic.tool_timeout)")
        except Exception as error:  # noqa: BLE001 - any start failure becomes the server's error line
            await self._abandon_task()
            self._fail("failed", self._describe(error, starting=True))
        else:
            self.status, self.generation, self.started_at = "running", self.generation + 1, time.time()

    async def restart(self, timeout: float | None) -> None:
        """Stop the session if there is one, then start afresh."""
        await self.stop()
        self.status = "not started"
        await self.start(timeout)

    async def stop(self) -> None:
        """Close the session and end the server (a stdio process is terminated)."""
        task, stop = self._task, self._stop
        self._client = None
        if task is None or stop is None:
            return
        stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), 10.0)
        except (TimeoutError, asyncio.TimeoutError):
            await self._abandon_task()
        except BaseException:  # noqa: BLE001,S110 - its error was recorded by _serve
            pass
        self._task = self._stop = None
        if self.status in ("running", "starting"):
            self.status = "stopped"
        self._close_stderr()

    async def _abandon_task(self) -> None:
        task = self._task
        self._task, self._stop, self._client = None, None, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):  # cancelled on purpose
                await asyncio.wait_for(task, 10.0)

    async def _serve(self, ready: asyncio.Future[None], stop: asyncio.Event) -> None:
        """The session's task: open it, list tools, wait until asked to stop, close it."""
        from mcp import Client

        try:
            async with Client(self._transport(), client_info=_client_info(), cache=None) as client:
                self.tools = await _list_tools(client)
                self._client = client
                if not ready.done():
                    ready.set_result(None)
                await stop.wait()
        except BaseException as error:
            if not ready.done():
                ready.set_exception(error if isinstance(error, Exception) else RuntimeError(one_line(error)))
            elif not stop.is_set() and not isinstance(error, asyncio.CancelledError):
                self._fail("exited", self._describe(error, starting=False))
            if isinstance(error, asyncio.CancelledError):
                raise
        finally:
            self._client = None

    def _transport(self) -> Any:
        config = self.config
        if config.transport == "stdio":
            from mcp import StdioServerParameters, stdio_client

            self._close_stderr()
            self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the connection
            parameters = StdioServerParameters(command=config.command, args=list(config.args),
                                               env=dict(config.env) or None, cwd=config.cwd)
            return stdio_client(parameters, errlog=self._stderr)
        if config.transport == "sse":
            from mcp.client.sse import sse_client

            return sse_client(config.url, headers=dict(config.headers) or None)
        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        # The client MCP's own transports make (30 s to connect and write, 300 s to read a held-open stream);
        # built here because mcp's helper for it lives in a private module.
        client = httpx2.AsyncClient(headers=dict(config.headers) or None,
                                    timeout=httpx2.Timeout(30.0, read=300.0))
        return _HttpTransport(streamable_http_client, client, config.url)

    # -- calling ------------------------------------------------------------------------------
    async def call_tool(self, tool: str, arguments: dict[str, Any]) -> Any:
        """The server's `CallToolResult`; `ServerUnavailable` (one line) when it is down or dies meanwhile."""
        client = self._client
        if client is None or self.status != "running":
            raise ServerUnavailable(self.unavailable_line())
        try:
            return await client.call_tool(tool, arguments)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if _connection_lost(error) or self._client is None:
                self._fail("exited", self._describe(error, starting=False))
                self._client = None
                raise ServerUnavailable(f"MCP server {self.name!r} stopped during the call ({self.last_error}); "
                                        f"`%claude mcp restart {self.name}` starts it again") from None
            raise

    async def ping(self, timeout: float = 5.0) -> None:
        """Check a running server still answers (a dead one becomes "exited")."""
        client = self._client
        if client is None or self.status != "running":
            return
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")      # ping is deprecated in 2026-07-28 servers: any answer will do
                await asyncio.wait_for(client.send_ping(), timeout)
        except (TimeoutError, asyncio.TimeoutError):
            self.last_error = f"did not answer a ping within {timeout:g} s"
        except Exception as error:  # noqa: BLE001 - an error answer means it is alive; a lost connection, gone
            if _connection_lost(error) or type(first_cause(error)).__name__ != "MCPError":
                self._fail("exited", self._describe(error, starting=False))
                self._client = None

    def unavailable_line(self) -> str:
        """Why calls cannot reach the server now, and how to bring it back."""
        why = f"{self.status}: {self.last_error}" if self.last_error else self.status
        return (f"MCP server {self.name!r} is not running ({why}); `%claude mcp restart {self.name}` "
                "starts it again")

    # -- errors -------------------------------------------------------------------------------
    def _fail(self, status: str, line: str) -> None:
        self.status, self.last_error = status, line

    def _describe(self, error: BaseException, *, starting: bool) -> str:
        """One line: what happened, with the last line the server wrote to stderr."""
        text = one_line(error)
        if _connection_lost(error) or text in ("Connection closed", "EndOfStream", "ClosedResourceError"):
            text = "exited before answering" if starting else "the connection closed (the server exited)"
        tail = self._stderr_tail()
        return one_line(f"{text}; stderr: {tail}" if tail else text)

    def _stderr_tail(self) -> str:
        """The last non-blank line the (stdio) server wrote to stderr."""
        handle = self._stderr
        if handle is None:
            return ""
        try:
            time.sleep(0.05)      # let a dying process's last write land
            size = os.fstat(handle.fileno()).st_size
            data = os.pread(handle.fileno(), _STDERR_TAIL, max(0, size - _STDERR_TAIL))
        except (OSError, ValueError):
            return ""
        lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def _close_stderr(self) -> None:
        if self._stderr is not None:
            with contextlib.suppress(OSError):
                self._stderr.close()
            self._stderr = None


class _HttpTransport:
    """Streamable HTTP with our own httpx client (for the headers), closed with the transport."""

    def __init__(self, factory: Any, http_client: Any, url: str) -> None:
        self._factory, self._http, self._url = factory, http_client, url
        self._inner: Any = None

    async def __aenter__(self) -> Any:
        await self._http.__aenter__()
        try:
            self._inner = self._factory(self._url, http_client=self._http)
            return await self._inner.__aenter__()
        except BaseException:
            await self._http.__aexit__(None, None, None)
            raise

    async def __aexit__(self, *exc: Any) -> Any:
        try:
            return await self._inner.__aexit__(*exc)
        finally:
            await self._http.__aexit__(None, None, None)


async def _list_tools(client: Any) -> list[Any]:
    """Every tool the server lists, page by page (at most 100 pages)."""
    tools: list[Any] = []
    cursor = None
    for _ in range(100):
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


def first_cause(error: BaseException) -> BaseException:
    """The first leaf of an (anyio) exception group, else the error itself."""
    while getattr(error, "exceptions", None) and isinstance(error.exceptions[0], BaseException):  # type: ignore[attr-defined]
        error = error.exceptions[0]  # type: ignore[attr-defined]
    return error


def _connection_lost(error: BaseException) -> bool:
    error = first_cause(error)
    code = getattr(getattr(error, "error", None), "code", None)
    if type(error).__name__ == "MCPError" and code is not None:
        from mcp_types import CONNECTION_CLOSED

        return code == CONNECTION_CLOSED
    return type(error).__name__ in ("ClosedResourceError", "BrokenResourceError", "EndOfStream")


def _client_info() -> Any:
    from mcp import Implementation

    from ..core.version import __version__

    return Implementation(name="claude-magic", version=__version__)
