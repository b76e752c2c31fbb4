"""Time limits for tool code: a SIGINT watchdog on the main thread, an injected exception elsewhere."""

from __future__ import annotations

import ctypes
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar

__all__ = ["ToolTimeout", "ToolCancelled", "call_with_deadline", "raise_in_thread"]

T = TypeVar("T")


class ToolTimeout(Exception):
    """A tool ran past its time limit."""


class ToolCancelled(BaseException):
    """Raised inside a worker thread whose turn was interrupted (not an Exception: tools should not catch it)."""


class _Deadline(KeyboardInterrupt):
    """The watchdog's interrupt: tool code sees a KeyboardInterrupt, as for Ctrl-C, and the guard knows it is its own."""


class _Watchdog:
    """Interrupts the main thread once `seconds` pass, and again every RESEND seconds until the call ends.

    Its SIGINTs are counted (`sent`) and its handler counts what arrived (`received`): one of ours raises
    `_Deadline`; any other SIGINT (the user's Ctrl-C) goes to the handler that was there before. Tool code
    that catches KeyboardInterrupt (a retry loop, `except BaseException`) is interrupted again, so a busy
    machine or a stubborn tool cannot outlast the limit. On the way out every SIGINT sent is received
    inside the guard, so none lands in the code that runs after it.
    """

    RESEND = 0.5
    ABSORB = 5.0          # seconds to wait for a SIGINT already sent (delivery is immediate; a bound, not a wait)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.sent = 0
        self.received = 0
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._previous: Any = None
        self._thread = threading.Thread(target=self._watch, name="claude-magic-tool-deadline", daemon=True)

    @property
    def fired(self) -> bool:
        return self.sent > 0

    def _watch(self) -> None:
        wait = self.seconds
        while not self._done.wait(wait):
            with self._lock:
                if self._done.is_set():
                    return
                if self.received == self.sent:     # one in flight at most (pending SIGINTs would merge into one)
                    self.sent += 1
                    signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)  # type: ignore[arg-type]
            wait = self.RESEND

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received < self.sent:
            self.received += 1
            raise _Deadline
        previous = self._previous            # the user's Ctrl-C: what the handler before ours would have done
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt

    def __enter__(self) -> _Watchdog:
        self._previous = signal.signal(signal.SIGINT, self._handle)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        give_up = time.monotonic() + self.ABSORB
        while True:
            try:
                if not self._done.is_set():
                    with self._lock:
                        self._done.set()        # no SIGINT is sent after this
                while self.received < self.sent and time.monotonic() < give_up:
                    time.sleep(0.005)           # the one in flight lands here, inside the guard
                break
            except _Deadline:
                continue
        signal.signal(signal.SIGINT, self._previous)


def _can_watch() -> bool:
    """Whether a signal can interrupt this thread: the main thread. Whatever SIGINT handler other code left
    (asyncio's no-op one, say) does not matter: the watchdog installs its own for the call and puts it back."""
    return threading.current_thread() is threading.main_thread()


def call_with_deadline(function: Callable[[], T], seconds: float | None) -> T:
    """`function()` on this thread; on the main thread it is interrupted after `seconds` (ToolTimeout).

    Elsewhere (or with no limit) it simply runs: code on the current thread cannot be stopped from
    outside without a signal. A call that finishes after its limit (it caught every interrupt) keeps its result.
    """
    if not seconds or seconds <= 0 or not _can_watch():
        return function()
    watchdog = _Watchdog(seconds)
    try:
        with watchdog:
            return function()
    except _Deadline:
        raise ToolTimeout(f"timed out after {seconds:g} s") from None
    except Exception:
        if watchdog.fired:     # it caught the interrupt and raised something else: still the limit's doing
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

