"""A thread-safe stop signal that can also close the stream that is blocking a turn."""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["Cancellation"]


class Cancellation:
    """Set by Stop buttons (from any thread); checked on every stream event and between tools."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._closers: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        """Request the stop and close whatever is blocking (an open HTTP stream)."""
        self._event.set()
        with self._lock:
            closers = list(self._closers)
        for close in closers:
            try:
                close()
            except Exception:  # noqa: BLE001 - closing a dead stream must not break Stop
                continue

    def on_cancel(self, close: Callable[[], None]) -> Callable[[], None]:
        """Register `close` until the returned function is called."""
        with self._lock:
            self._closers.append(close)

        def unregister() -> None:
            with self._lock:
                if close in self._closers:
                    self._closers.remove(close)

        return unregister

    def wait(self, timeout: float) -> bool:
        """Sleep up to `timeout` seconds, waking early on cancel; returns whether cancelled."""
        return self._event.wait(timeout)
