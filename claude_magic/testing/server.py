"""`LocalServer`: a local HTTP server speaking the Messages API, its state and its lifecycle.

Threads: one accept loop (woken instantly by `stop()`) and one thread per connection. `stop()`
shuts every open connection down, so it returns promptly even while a stream is stalled.
"""

from __future__ import annotations

import selectors
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Any

from .batches import BatchStore
from .caching import PromptCache
from .context_editing import CompactionSigner
from .files import FileStore
from .handler import Handler
from .models import default_models
from .oauth import OAuthIssuer
from .responder import echo_reply
from .script import ApiError, Item, QueueItem, Replay, Reply
from .signing import Signer
from .state import RecordedRequest
from .traffic import Traffic
from .web import WebCorpus

__all__ = ["LocalServer", "RecordedRequest"]

Responder = Callable[[dict[str, Any]], Any]
MAX_REQUEST_BYTES = 32 * 1024 * 1024      # the Messages API's request size limit


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that tracks its connections so that they can be cut at stop."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: LocalServer) -> None:
        self.owner = owner
        self._live: dict[socket.socket, threading.Thread] = {}
        self._busy: set[socket.socket] = set()
        self._live_lock = threading.Lock()
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection in a thread of its own, remembered until it ends."""
        thread = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), name="claude-local-conn", daemon=True
        )
        with self._live_lock:
            self._live[request] = thread
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        """Forget the connection, then close it."""
        with self._live_lock:
            self._live.pop(request, None)
            self._busy.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that went away; report anything else."""
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            return
        if error is not None:
            self.owner.report_error(error)
        super().handle_error(request, client_address)

    def set_busy(self, connection: socket.socket, busy: bool) -> None:
        """Mark a connection as answering a request (or idle between keep-alive requests)."""
        with self._live_lock:
            if busy:
                self._busy.add(connection)
            else:
                self._busy.discard(connection)

    def cut_connections(self, timeout: float) -> None:
        """End every connection: idle ones at once, busy ones after they saw the stop (or `grace`)."""
        with self._live_lock:
            live = list(self._live.items())
            busy = set(self._busy)
        deadline = time.monotonic() + timeout
        _shut([sock for sock, _thread in live if sock not in busy])
        grace = time.monotonic() + min(timeout, 0.5)  # a stopped stream resets its connection itself
        for sock, thread in live:
            if sock in busy:
                thread.join(max(0.0, grace - time.monotonic()))
        _shut([sock for sock, thread in live if thread.is_alive()])
        for _sock, thread in live:
            thread.join(max(0.0, deadline - time.monotonic()))


def _shut(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # already closed by its own thread
            continue


class LocalServer:
    """A real HTTP server on 127.0.0.1 that answers like the Messages API.

    Queue items (`Reply`, `ApiError`, `Replay`, a string, or a callable taking the request body and
    returning one of those) answer `POST /v1/messages` requests in order; with the queue empty,
    `default` answers (an echo). Everything received is recorded.
    """

    def __init__(
        self, port: int = 0, require_api_key: str | None = None, event_delay: float = 0.0, *, host: str = "127.0.0.1"
    ) -> None:
        self.host = host
        self.port = port
        self.require_api_key = require_api_key
        self.event_delay = event_delay
        self.accept_any_model = False
        self.max_request_bytes: int | None = MAX_REQUEST_BYTES   # larger bodies get the API's 413
        self.log_requests = False
        self.default: Responder | Item = echo_reply
        self.models: dict[str, dict[str, Any]] = default_models()
        self.cache = PromptCache()
        self.signer = Signer()
        self.compactions = CompactionSigner()     # signs the compaction blocks it issues (context_editing.py)
        self.batches = BatchStore(self)           # the Message Batches API (batches.py)
        self.traffic = Traffic()                  # latency and rate limits on POST /v1/messages (traffic.py)
        self.oauth = OAuthIssuer()               # POST /v1/oauth/token and the bearer tokens it issued
        self.web = WebCorpus()                    # the pages web search and web fetch answer from (web.py)
        self.files = FileStore()                  # the Files API (files.py)
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._queue: deque[QueueItem] = deque()
        self._requests: list[RecordedRequest] = []
        self._rejections: list[tuple[Any, str]] = []
        self._stop_event = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> LocalServer:
        """Bind and serve in a background thread; returns the server. Idempotent."""
        if self._httpd is not None:
            return self
        self._stop_event = threading.Event()
        self._httpd = _HTTPServer((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self._wake = socket.socketpair()
        self._thread = threading.Thread(target=self._accept_loop, name="claude-local-server", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop accepting, cut open connections (stalled streams too) and wait for the threads."""
        httpd, thread, wake = self._httpd, self._thread, self._wake
        if httpd is None or thread is None or wake is None:
            return
        self._stop_event.set()
        wake[1].send(b"x")
        thread.join(timeout)
        httpd.server_close()
        httpd.cut_connections(timeout)
        for end in wake:
            end.close()
        self._httpd = self._thread = self._wake = None

    def _accept_loop(self) -> None:
        httpd, wake = self._httpd, self._wake
        assert httpd is not None and wake is not None
        with selectors.DefaultSelector() as selector:
            selector.register(httpd.socket, selectors.EVENT_READ)
            selector.register(wake[0], selectors.EVENT_READ)
            while not self._stop_event.is_set():
                for key, _mask in selector.select():
                    if key.fileobj is httpd.socket and not self._stop_event.is_set():
                        self._accept(httpd)

    @staticmethod
    def _accept(httpd: _HTTPServer) -> None:
        try:
            request, address = httpd.get_request()
        except OSError:  # the client gave up between select and accept
            return
        httpd.process_request(request, address)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._httpd is not None

    @property
    def base_url(self) -> str:
        """`http://HOST:PORT`, for `anthropic.Anthropic(base_url=...)` or `ANTHROPIC_BASE_URL`."""
        if self._httpd is None:
            raise RuntimeError("the local server is not started: call start() or use it as a context manager")
        return f"http://{self.host}:{self.port}"

    def __repr__(self) -> str:
        where = self.base_url if self.running else "stopped"
        return f"<LocalServer {where}, {len(self._queue)} queued, {len(self._requests)} requests>"

    # --- scripting and records -----------------------------------------------------------------

    def queue(self, *items: QueueItem) -> None:
        """Append answers for the next `POST /v1/messages` requests, first in first out."""
        for item in items:
            if not isinstance(item, (Reply, ApiError, Replay, str)) and not callable(item):
                raise TypeError(f"cannot queue {item!r}: use Reply, ApiError, Replay, a string or a callable")
        with self._lock:
            self._queue.extend(items)

    @property
    def queued(self) -> int:
        """How many queued items are still waiting for a request."""
        with self._lock:
            return len(self._queue)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, in order (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def message_requests(self) -> list[dict[str, Any]]:
        """The bodies of the `POST /v1/messages` requests, in order."""
        return [r.body for r in self.requests if r.is_message]

    @property
    def rejections(self) -> list[tuple[Any, str]]:
        """(body, message) of every request refused with 400 by the validator."""
        with self._lock:
            return list(self._rejections)

    def clear(self) -> None:
        """Drop the queue, the records, the reported errors and the prompt cache."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._rejections.clear()
            self.errors.clear()
        self.cache.clear()
        self.batches.clear()
        self.traffic.clear()
        self.oauth.clear()
        self.web.clear()
        self.files.clear()

    # --- used by the request handlers (`state.ServerState`) ---------------------------------------

    @property
    def stopping(self) -> threading.Event:
        """Set when the server stops: waits in handlers end early."""
        return self._stop_event

    def record_request(self, request: RecordedRequest) -> None:
        """Add a request to `requests`."""
        with self._lock:
            self._requests.append(request)

    def record_rejection(self, body: Any, message: str) -> None:
        """Add a validator's refusal to `rejections`."""
        with self._lock:
            self._rejections.append((body, message))

    def report_error(self, error: BaseException) -> None:
        """Keep an error of the server or of a test's responder in `errors`."""
        with self._lock:
            self.errors.append(error)

    def log_line(self, line: str) -> None:
        """Print one line to stderr when `log_requests` is on."""
        if self.log_requests:
            print(f"[local server] {line}", file=sys.stderr, flush=True)

    def next_item(self, body: dict[str, Any]) -> Item:
        """The queued item for this request (or the default), callables evaluated."""
        with self._lock:
            item: Any = self._queue.popleft() if self._queue else self.default
        for _ in range(10):
            if isinstance(item, (Reply, ApiError, Replay)):
                return item
            if isinstance(item, str):
                return Reply(item)
            if not callable(item):
                break
            item = item(body)
        raise TypeError(f"a responder must give a Reply, ApiError, Replay or string, not {item!r}")
