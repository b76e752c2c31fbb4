"""Time limits for tool code: a SIGINT watchdog on the main thread, an injected exception elsewhere."""

from __future__ import annotations

import ctypes
import signal
import threading
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["ToolTimeout", "ToolCancelled", "call_with_deadline", "raise_in_thread"]

T = TypeVar("T")


class ToolTimeout(Exception):
    """A tool ran past its time limit."""


class ToolCancelled(BaseException):
    """Raised inside a worker thread whose turn was interrupted (not an Exception: tools should not catch it)."""


class _Watchdog:
    """Sends SIGINT to the main thread once `seconds` pass, unless finished first."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._finished = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self.fired = True
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)  # type: ignore[arg-type]

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_exc: object) -> None:
        with self._lock:
            self._finished = True
            self._timer.cancel()
        if self.fired and exc_type is None:
            time.sleep(1.0)  # the SIGINT is on its way: take its KeyboardInterrupt here, inside the guard


def _can_watch() -> bool:
    """Whether SIGINT reaches this thread as KeyboardInterrupt (main thread, default handler)."""
    return (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler)


def call_with_deadline(function: Callable[[], T], seconds: float | None) -> T:
    """`function()` on this thread; on the main thread it is interrupted after `seconds` (ToolTimeout).

    Elsewhere (or with no limit) it simply runs: code on the current thread cannot be stopped from
    outside without a signal.
    """
    if not seconds or seconds <= 0 or not _can_watch():
        return function()
    watchdog = _Watchdog(seconds)
    try:
        with watchdog:
            return function()
    except KeyboardInterrupt:
        if watchdog.fired:
            raise ToolTimeout(f"timed out after {seconds:g} s") from None
        raise


def raise_in_thread(thread_ident: int | None, exception: type[BaseException]) -> bool:
    """Best effort: raise `exception` in another thread at its next Python instruction.

    A thread blocked inside C code (a socket read, `time.sleep`) only sees it when that call returns.
    """
    if thread_ident is None:
        return False
    changed = ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_ident), ctypes.py_object(exception))
    if changed > 1:  # should never happen: undo
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_ident), None)
        return False
    return changed == 1

