"""Writing a response to a socket: headers with the first bytes, paced events, and faults.

With no delay the whole body goes out in one `sendall`, so the server is never the bottleneck of a
benchmark. A delay or a fault splits the body into events; waits are cut short by the server's stop
event, after which the connection is reset.
"""

from __future__ import annotations

import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Literal

from .rendering import dumps, sse_event
from .script import Drop, Fault, Malformed, MidStreamError, Stall

try:  # Linux: lets a reset wait until the bytes already written have left the socket
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_SIOCOUTQNSD = 0x894B  # Linux ioctl: bytes in the send queue not yet sent

__all__ = ["Outcome", "Response", "transmit", "wait_until_sent"]

Outcome = Literal["keep", "close", "reset"]

_GARBLED = (
    b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_de\n\n'
)


@dataclass
class Response:
    """What to send: status, headers, body chunks (SSE events when `stream`), pacing and fault."""

    status: int
    chunks: list[bytes]
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    stream: bool = False
    delay: float = 0.0
    fault: Fault | None = None

    def head(self) -> bytes:
        """Status line and headers. Streams end with the connection; other bodies have a length."""
        try:
            reason = HTTPStatus(self.status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [f"HTTP/1.1 {self.status} {reason}", f"content-type: {self.content_type}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if self.stream:
            lines += ["cache-control: no-cache", "connection: close"]
        else:
            lines.append(f"content-length: {sum(len(c) for c in self.chunks)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class _Writer:
    """Sends the head together with the first bytes written."""

    def __init__(self, sock: socket.socket, head: bytes) -> None:
        self.sock = sock
        self.pending = head

    def write(self, data: bytes) -> None:
        if self.pending:
            data, self.pending = self.pending + data, b""
        if data:
            self.sock.sendall(data)

    def finish(self) -> None:
        self.write(b"")


def wait_until_sent(sock: socket.socket, stop: threading.Event, limit: float = 2.0) -> None:
    """Wait until what was written has left the socket, so that a reset loses none of it."""
    deadline = time.monotonic() + limit
    while fcntl is not None and sys.platform == "linux" and time.monotonic() < deadline:
        try:
            (unsent,) = struct.unpack("i", fcntl.ioctl(sock.fileno(), _SIOCOUTQNSD, b"\0\0\0\0"))
        except OSError:
            break
        if unsent == 0 or stop.wait(0.002):
            return
    stop.wait(0.05)


def _send(out: _Writer, chunks: list[bytes], delay: float, stop: threading.Event, first: bool) -> bool:
    """Write chunks, `delay` apart; False if the server stopped meanwhile."""
    if delay <= 0:
        out.write(b"".join(chunks))
        return not stop.is_set()
    for index, chunk in enumerate(chunks):
        if (index > 0 or not first) and stop.wait(delay):
            return False
        out.write(chunk)
    return True


def transmit(sock: socket.socket, response: Response, stop: threading.Event) -> Outcome:
    """Send `response`; say how the connection must end."""
    out = _Writer(sock, response.head())
    fault = response.fault
    chunks = response.chunks
    cut = min(fault.after_events, len(chunks)) if fault is not None else len(chunks)
    done = _send(out, chunks[:cut], response.delay, stop, first=True) if cut else not stop.is_set()
    if not done:
        return "reset"
    if isinstance(fault, Stall):
        if stop.wait(fault.seconds):
            return "reset"
        if not _send(out, chunks[cut:], response.delay, stop, first=cut == 0):
            return "reset"
    elif isinstance(fault, Drop):
        if fault.reset:
            wait_until_sent(sock, stop)
            return "reset"
        return "close"
    elif isinstance(fault, MidStreamError):
        error = {"type": "error", "error": {"type": fault.error_type, "message": fault.message}}
        out.write(sse_event("error", error) if response.stream else dumps(error).encode())
        return "close"
    elif isinstance(fault, Malformed):
        out.write(_GARBLED)
        return "close"
    out.finish()
    return "close" if response.stream else "keep"
