"""The HTTP/1.1 request handler: read a request, let `endpoints` answer it, write it with `transmit`."""

from __future__ import annotations

import socket
import struct
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from . import endpoints
from .transmit import transmit

if TYPE_CHECKING:
    from .state import ServerState

__all__ = ["Handler"]


class Handler(BaseHTTPRequestHandler):
    """One connection; keep-alive for JSON answers, closed after a stream."""

    protocol_version = "HTTP/1.1"
    server_version = "claude-magic-local-server"

    @property
    def owner(self) -> ServerState:
        """The `ServerState` this connection belongs to."""
        return self.server.owner  # type: ignore[attr-defined,no-any-return]

    def do_GET(self) -> None:  # noqa: N802 - the http.server naming scheme
        """Answer any method the same way: `endpoints.handle` routes by method and path."""
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET  # noqa: N815

    def do_HEAD(self) -> None:  # noqa: N802 - Claude Code's `HEAD /api/hello`: status and headers, no body
        """Answer like GET but send no body."""
        headers = {name.lower(): value for name, value in self.headers.items()}
        response = endpoints.handle(self.owner, "HEAD", self.path, headers, None)
        self.send_response(response.status)
        self.send_header("content-length", "0")
        self.end_headers()
        self.owner.log_line(f"HEAD {self.path} -> {response.status}")

    def _read_body(self) -> bytes | None:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                continue  # skip trailers
            return b"".join(parts)
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else None

    def _serve(self) -> None:
        self.server.set_busy(self.connection, True)  # type: ignore[attr-defined]
        try:
            self._answer()
        finally:
            self.server.set_busy(self.connection, False)  # type: ignore[attr-defined]

    def _answer(self) -> None:
        owner = self.owner
        try:
            raw = self._read_body()
            headers = {name.lower(): value for name, value in self.headers.items()}
            response = endpoints.handle(owner, self.command, self.path, headers, raw)
            outcome = transmit(self.connection, response, owner.stopping)
        except OSError:  # the client went away or the server is stopping
            self.close_connection = True
            return
        owner.log_line(f"{self.command} {self.path} -> {response.status}" + ("" if outcome != "reset" else " (reset)"))
        if outcome == "reset":
            self._reset()
        elif outcome == "close":
            self.close_connection = True

    def _reset(self) -> None:
        """Abort the connection with a TCP reset instead of an orderly close."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()  # drop the file's reference so that close() really closes the socket
        self.connection.close()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Route http.server's own messages (malformed requests) to the server's log."""
        self.owner.log_line(format % args)
