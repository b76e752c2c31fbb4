"""Running a tool on the kernel's main thread from the panel's worker, through the kernel's event loop.

In ipykernel the main thread runs an asyncio/tornado loop while no cell executes, so a callback added
with `io_loop.add_callback` (thread-safe) runs there between cells (measured: 1-15 ms when idle; it
waits for a running cell to end). While the tool runs, SIGINT is made to raise KeyboardInterrupt (the
idle kernel ignores it), so Stop, the kernel's interrupt button and the tool time limit can end it.
"""

from __future__ import annotations

import concurrent.futures
import signal
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ..core.cancellation import Cancellation

__all__ = ["MainThreadRunner"]

T = TypeVar("T")
_POLL = 0.1


class _Job:
    """One callable on its way to the main thread: queued → running → done (or cancelled while queued)."""

    def __init__(self, function: Callable[[], Any]) -> None:
        self.function = function
        self.future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.state = "queued"
        self.interrupted = False
        self.lock = threading.Lock()

    def run(self) -> None:
        """The loop callback (main thread)."""
        try:
            self._run()
        except KeyboardInterrupt:
            # A Stop that landed as the call was ending: the outcome is settled below if it was not yet.
            if not self.future.done():
                self.future.set_exception(KeyboardInterrupt())

    def _run(self) -> None:
        with self.lock:
            if self.state == "cancelled":
                return
            self.state = "running"
        previous = signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            try:
                value = self.function()
            except BaseException as error:  # noqa: BLE001 - handed to the waiting worker thread
                self.future.set_exception(error)
            else:
                self.future.set_result(value)
            with self.lock:
                self.state = "done"
        finally:
            signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)

    def interrupt(self) -> bool:
        """Stop: drop a queued call, or raise KeyboardInterrupt in a running one. Returns whether it was queued."""
        with self.lock:
            if self.state == "queued":
                self.state = "cancelled"
                return True
            if self.state == "running" and not self.interrupted:
                self.interrupted = True
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)  # type: ignore[arg-type]
            return False


class MainThreadRunner:
    """`run(function, cancellation)` executes `function` on the main thread and returns its result."""

    def __init__(self, schedule: Callable[[Callable[[], None]], Any]) -> None:
        self._schedule = schedule

    @classmethod
    def for_kernel(cls, shell: Any = None) -> MainThreadRunner | None:
        """A runner on the running ipykernel's io_loop, or None outside a kernel."""
        if shell is None:
            try:
                from IPython import get_ipython
            except ImportError:
                return None
            shell = get_ipython()
        loop = getattr(getattr(shell, "kernel", None), "io_loop", None)
        if loop is None or not hasattr(loop, "add_callback"):
            return None
        return cls(loop.add_callback)

    def run(self, function: Callable[[], T], cancellation: Cancellation | None = None) -> T:
        """Run on the main thread and wait; Stop (`cancellation`) raises KeyboardInterrupt here promptly."""
        if threading.current_thread() is threading.main_thread():
            return function()
        job = _Job(function)
        self._schedule(job.run)
        while True:
            try:
                return job.future.result(timeout=_POLL)
            except concurrent.futures.TimeoutError:
                if cancellation is not None and cancellation.cancelled and job.interrupt():
                    raise KeyboardInterrupt from None

    def bound(self, cancellation: Cancellation | None) -> Callable[[Callable[[], Any]], Any]:
        """The `ToolContext.run_on_main_thread` callable for one turn."""
        return lambda function: self.run(function, cancellation)
