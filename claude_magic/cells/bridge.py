"""The kernel's side of the page: a pair of comms to claude-magic's JupyterLab extension (`labextension/`).

- Kernel to page: requests on the comm `claude_magic.cells`, which the kernel opens. Comm messages from the
  kernel travel on IOPub, so they reach the page while the `%%claude` cell is still running.
- Page to kernel: replies on `claude_magic.cells.reply`, a comm the page opens. A reply cannot wait for the
  running cell to finish (the cell waits for the reply). JupyterLab 4.4 and later send the messages of a
  comm the page opened over a kernel *subshell* (JEP 91, ipykernel 7), which the kernel handles on a thread
  of its own while the main thread runs the cell.

Without subshells a reply would queue behind the running cell and never arrive in time. So the page says
whether its kernel connection uses subshells, the kernel checks that the handshake arrived off the main
thread, and the notebook tools are offered only when both hold (`FrontEnd.reason` says why not).

Several pages can show one kernel (two tabs, a reload): the newest reply comm is *the* page, and every
request names it, so only that page acts.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import threading
import time
import uuid
from typing import Any

__all__ = ["FrontEnd", "FrontEndUnavailable", "front_end", "REQUEST_TARGET", "REPLY_TARGET", "PROTOCOL"]

REQUEST_TARGET = "claude_magic.cells"
REPLY_TARGET = "claude_magic.cells.reply"
PROTOCOL = 1
HANDSHAKE_WAIT = 0.6          # seconds after the hello that a first turn waits for the page's answer

NO_KERNEL = "no Jupyter kernel (terminal IPython or plain Python): nothing can show new cells"
NO_ANSWER = ("no page answered: the front end has not got claude-magic's JupyterLab extension (VS Code, nbclient, "
             "papermill, classic Notebook), or no page is open")
NO_SUBSHELLS = ("the page's kernel connection has no subshells (JupyterLab 4.4+ with ipykernel 7+ needed), so "
                "its answers would wait behind the running cell")


class FrontEndUnavailable(Exception):
    """No page can edit the notebook now (the reason is the message)."""


class FrontEnd:
    """The comm pair to the page; `request(op, ...)` sends one request and waits for its reply."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Any = None              # the kernel's comm (requests out)
        self._page: Any = None                  # the newest page's reply comm
        self._pending: dict[str, concurrent.futures.Future[Any]] = {}
        self._answered = threading.Event()
        self._hello_at: float | None = None
        self._waited = False
        self._ids = itertools.count(1)
        self.reason = NO_ANSWER
        self.page_info: dict[str, Any] = {}

    # -- connecting ------------------------------------------------------------------------------
    def start(self) -> bool:
        """Say hello to the pages (once per kernel); False when there is no Jupyter kernel to do it from."""
        with self._lock:
            if self._hello_at is not None:
                return True
            manager = _comm_manager()
            if manager is None:
                self.reason = NO_KERNEL
                return False
            manager.register_target(REPLY_TARGET, self._page_opened)
            self._hello_at = time.monotonic()
        self._open_requests()
        return True

    def _open_requests(self) -> None:
        from comm import create_comm

        self._requests = create_comm(target_name=REQUEST_TARGET, data={"hello": PROTOCOL})

    def _page_opened(self, comm: Any, message: dict[str, Any]) -> None:
        """A page opened its reply comm (on the subshell's thread when it has subshells)."""
        data = (message.get("content") or {}).get("data") or {}
        off_main = threading.current_thread() is not threading.main_thread()
        if data.get("protocol") != PROTOCOL:
            comm.close({"error": f"claude-magic's extension speaks protocol {data.get('protocol')!r}, the kernel "
                                 f"{PROTOCOL}: reinstall claude-magic so both are the same version"})
            return
        comm.on_msg(self._on_reply)
        comm.on_close(lambda _message: self._page_closed(comm))
        with self._lock:
            old, self._page = self._page, comm
            self.page_info = {key: data.get(key) for key in ("app", "version", "subshells")}
            if data.get("subshells") and off_main:
                self.reason = ""
            else:
                self.reason = NO_SUBSHELLS
        if old is not None and old is not comm:
            self._fail_pending(old, "the page was replaced by a newer one")
        if data.get("reopen"):                   # a page that has not seen the requests comm yet (a reload)
            self._open_requests()
        self._answered.set()

    def _page_closed(self, comm: Any) -> None:
        with self._lock:
            if self._page is comm:
                self._page, self.reason = None, NO_ANSWER
        self._fail_pending(comm, "the page closed")

    def _fail_pending(self, _comm: Any, why: str) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(FrontEndUnavailable(why))

    def _on_reply(self, message: dict[str, Any]) -> None:
        data = (message.get("content") or {}).get("data") or {}
        with self._lock:
            future = self._pending.pop(str(data.get("id")), None)
        if future is None or future.done():
            return
        if data.get("ok"):
            future.set_result(data.get("result"))
        else:
            future.set_exception(FrontEndUnavailable(str(data.get("error") or "the page could not do it")))

    # -- state -----------------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """Whether a page with subshells answered: notebook tools can be offered."""
        return self._page is not None and not self.reason

    def wait_ready(self) -> bool:
        """`ready`, after waiting (once per kernel) for a page that has not answered the hello yet."""
        if self.ready or self._hello_at is None or self._waited:
            return self.ready
        self._waited = True
        left = HANDSHAKE_WAIT - (time.monotonic() - self._hello_at)
        if left > 0:
            self._answered.wait(left)
        return self.ready

    # -- requests --------------------------------------------------------------------------------
    def request(self, op: str, timeout: float | None = 30.0, **arguments: Any) -> Any:
        """Send `op` to the page and return its result; FrontEndUnavailable when it can't or doesn't answer.

        `timeout` None waits until the page answers (a person deciding); Ctrl-C stops the wait.
        """
        with self._lock:
            page, requests = self._page, self._requests
            if page is None or requests is None or self.reason:
                raise FrontEndUnavailable(self.reason or NO_ANSWER)
            key = f"{next(self._ids)}-{uuid.uuid4().hex[:8]}"
            future: concurrent.futures.Future[Any] = concurrent.futures.Future()
            self._pending[key] = future
        requests.send({"id": key, "to": page.comm_id, "op": op, **arguments})
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise FrontEndUnavailable(f"the page did not answer within {timeout:g} s") from None
        finally:
            with self._lock:
                self._pending.pop(key, None)

    def notify(self, op: str, **arguments: Any) -> None:
        """Send `op` without waiting for an answer (nothing happens when no page is ready)."""
        page, requests = self._page, self._requests
        if page is not None and requests is not None and not self.reason:
            requests.send({"id": "", "to": page.comm_id, "op": op, **arguments})


def _comm_manager() -> Any:
    """The kernel's comm manager, or None outside a Jupyter kernel."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    try:
        import comm
    except ImportError:
        return None
    return comm.get_comm_manager()


_front_end: FrontEnd | None = None
_front_end_lock = threading.Lock()


def front_end() -> FrontEnd:
    """The kernel's one `FrontEnd`."""
    global _front_end
    with _front_end_lock:
        if _front_end is None:
            _front_end = FrontEnd()
        return _front_end
