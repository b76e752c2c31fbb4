"""Painting at a bounded rate: changes are merged, painted at most every `interval`, and also when the stream stalls.

Like rich's `Live`, changing the data (`touch`, cheap, once per delta) is separate from painting it
(`paint`, a callback). The stream thread paints inline when the interval has passed; a small daemon
thread paints what a stalled stream left unpainted and calls `tick` about once a second (elapsed time).

Two budgets keep painting proportional to the answer rather than to time:
- time: a paint that took long pushes the next one back, so painting takes at most `budget` of the time;
- bytes: `paint` returns what the next paint will cost to send (the growing tail it re-sends); the next
  paint waits until the new content is worth `1 / ratio` of that, or until `max_wait` has passed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from time import monotonic

__all__ = ["Pacer"]


class Pacer:
    """Calls `paint()` at most every `interval` seconds while there is something new to paint."""

    def __init__(self, paint: Callable[[], int | None], *, interval: float = 0.25, budget: float = 0.5,
                 ratio: float = 1.0, max_wait: float = 0.5, tick: Callable[[], None] | None = None,
                 tick_every: float = 1.0) -> None:
        self.lock = threading.RLock()      # held while painting; hold it to change what paint reads
        self.interval = interval
        self.budget = budget
        self.ratio = ratio
        self.max_wait = max_wait
        self.paints = 0
        self._paint = paint
        self._fresh = 0                    # characters arrived since the last paint
        self._cost = 0                     # what the next paint is expected to send
        self._last = 0.0
        self._tick = tick
        self._tick_every = tick_every
        self._dirty = False
        self._next = 0.0
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def touch(self, amount: int = 0) -> None:
        """`amount` characters arrived: paint now if that is due, else leave it for later (once per fragment)."""
        self._dirty = True
        self._fresh += amount
        now = monotonic()
        if now >= self._next and (self._fresh * self.ratio >= self._cost or now - self._last >= self.max_wait):
            self.paint()

    def _due(self, now: float) -> bool:
        return self._fresh * self.ratio >= self._cost or now - self._last >= self.max_wait

    def paint(self, *, force: bool = False) -> None:
        """Paint what changed (everything pending when `force`), then wait an interval before the next."""
        with self.lock:
            if not (self._dirty or force):
                return
            self._dirty = False
            self._fresh = 0
            started = time.monotonic()
            self._cost = self._paint() or 0
            self.paints += 1
            self._last = time.monotonic()
            spent = self._last - started
            self._next = started + max(self.interval, spent / self.budget if self.budget else 0.0)

    def start(self) -> None:
        """Start the stall watcher (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="claude-magic-pacer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the watcher; no paint happens from it afterwards."""
        self._stopped.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def _watch(self) -> None:
        last_tick = time.monotonic()
        while not self._stopped.wait(self.interval / 2):
            now = time.monotonic()
            with self.lock:
                if self._stopped.is_set():
                    return
                if self._dirty and now >= self._next and self._due(now):
                    self.paint()
                if self._tick is not None and now - last_tick >= self._tick_every:
                    last_tick = now
                    self._tick()
