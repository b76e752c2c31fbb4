"""The panel's one worker thread: runs queued jobs (turns, redraws) one at a time, off the kernel's main thread.

Widget callbacks run on the main thread and only enqueue; everything slow or that changes the message
list happens here, in order, so two jobs never touch the panel's widgets at once.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

__all__ = ["Worker"]

log = logging.getLogger(__name__)
_STOP = object()


class Worker:
    """A daemon thread draining a FIFO of callables; a job's exception goes to `on_error`, never kills it."""

    def __init__(self, on_error: Callable[[BaseException], None], name: str = "claude-chat-panel") -> None:
        self._jobs: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._on_error = on_error
        self._idle = threading.Condition()
        self._pending = 0
        self._keys: set[str] = set()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def submit(self, job: Callable[[], None], *, key: str | None = None) -> bool:
        """Queue `job`; with `key`, skip it while a job with the same key is still waiting. Returns whether queued."""
        with self._idle:
            if self._stopped:
                return False
            if key is not None:
                if key in self._keys:
                    return False
                self._keys.add(key)
            self._pending += 1
        self._jobs.put((job, key))
        return True

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no job is queued or running (not from the worker itself); returns whether idle."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("the panel's worker cannot wait for itself")
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def stop(self, timeout: float = 2.0) -> None:
        """Let the running job finish, drop the queued ones and end the thread."""
        with self._idle:
            self._stopped = True
        self._jobs.put(_STOP)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._jobs.get()
            if item is _STOP:
                with self._idle:
                    self._pending = 0
                    self._idle.notify_all()
                return
            job, key = item  # type: ignore[misc]
            if key is not None:
                with self._idle:
                    self._keys.discard(key)
            try:
                if not self._stopped:
                    job()
            except Exception as error:  # noqa: BLE001 - shown in the panel as one line; the worker carries on
                log.exception("chat panel job failed")
                self._on_error(error)
            finally:
                with self._idle:
                    self._pending -= 1
                    if self._pending == 0:
                        self._idle.notify_all()
