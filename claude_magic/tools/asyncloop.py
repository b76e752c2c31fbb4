"""The private asyncio loop, on a daemon thread, where async tools run (never `asyncio.run` in a kernel)."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any

__all__ = ["LoopThread", "shared_loop"]


class LoopThread:
    """An event loop running forever on its own daemon thread, started on first use."""

    def __init__(self, name: str = "claude-magic-tools-loop") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop (started now if needed)."""
        with self._lock:
            if self._loop is None or not self.running:
                from ..core.early_imports import import_before_threads

                import_before_threads()      # what runs on the loop (MCP, the Agent SDK) imports anyio
                loop = asyncio.new_event_loop()
                ready = threading.Event()
                thread = threading.Thread(target=self._run, args=(loop, ready), name=self._name, daemon=True)
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def submit(self, coroutine: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        """Schedule `coroutine`; cancelling the returned future cancels the task."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop())

    def stop(self, timeout: float = 2.0) -> None:
        """Cancel what is left, stop the loop and wait for the thread."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None or not thread.is_alive():
            return

        def shutdown() -> None:
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.stop()

        loop.call_soon_threadsafe(shutdown)
        thread.join(timeout)


_shared = LoopThread()
atexit.register(_shared.stop)


def shared_loop() -> LoopThread:
    """The process-wide loop thread for async tools."""
    return _shared
