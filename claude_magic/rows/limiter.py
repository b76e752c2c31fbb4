"""Adaptive concurrency for the live pool: fewer requests in flight after a 429 or an exhausted rate limit, more again as they succeed.

It watches every HTTP attempt through SDK middleware (retries included): a 429 or 529 halves the limit
(at most once per second) and holds new requests back for `retry-after`; `anthropic-ratelimit-*-remaining`
headers cap the limit at what is left and, at zero, hold requests until the matching `-reset` time.
Each run of `limit` successes adds one, up to the maximum (additive increase, multiplicative decrease).
The SDK still makes the retries itself. Runs on the pool's event loop only (no locks).
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import Any

__all__ = ["AdaptiveLimit"]

_REMAINING = ("requests", "tokens", "input-tokens", "output-tokens")
_CUT_EVERY = 1.0          # seconds: one multiplicative decrease per burst of 429s


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _seconds_until(stamp: str | None) -> float | None:
    """Seconds until an RFC 3339 time (the `-reset` headers)."""
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())


class AdaptiveLimit:
    """An async semaphore whose size follows the server's signals."""

    def __init__(self, maximum: int) -> None:
        self.maximum = max(1, maximum)
        self.limit = self.maximum
        self.in_flight = 0
        self.lowest = self.maximum          # the smallest limit reached (shown in the totals)
        self.rate_limited = 0               # 429 / 529 answers seen
        self._paused_until = 0.0
        self._last_cut = -_CUT_EVERY
        self._streak = 0
        self._changed: asyncio.Condition | None = None

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def acquire(self) -> None:
        """Wait for a free slot (and for any pause to end)."""
        changed = self._condition()
        async with changed:
            while True:
                wait = self._paused_until - time.monotonic()
                if wait <= 0 and self.in_flight < self.limit:
                    self.in_flight += 1
                    return
                try:
                    await asyncio.wait_for(changed.wait(), timeout=wait if wait > 0 else None)
                except asyncio.TimeoutError:
                    continue

    async def release(self) -> None:
        changed = self._condition()
        async with changed:
            self.in_flight -= 1
            changed.notify_all()

    def observe(self, status: int, headers: Any) -> None:
        """Learn from one HTTP response (called by the middleware for every attempt)."""
        now = time.monotonic()
        if status in (429, 529):
            self.rate_limited += 1
            retry_after = _number(headers.get("retry-after")) or 1.0
            self._paused_until = max(self._paused_until, now + min(retry_after, 60.0))
            if now - self._last_cut >= _CUT_EVERY:
                self._set(max(1, self.limit // 2))
                self._last_cut = now
            self._streak = 0
            return
        if status >= 400:
            return
        for kind in _REMAINING:
            remaining = _number(headers.get(f"anthropic-ratelimit-{kind}-remaining"))
            if remaining is None:
                continue
            if remaining <= 0:
                reset = _seconds_until(headers.get(f"anthropic-ratelimit-{kind}-reset"))
                self._paused_until = max(self._paused_until, now + min(reset if reset is not None else 1.0, 60.0))
            elif kind == "requests" and remaining < self.limit:
                self._set(max(1, int(remaining)))
        self._streak += 1
        if self._streak >= self.limit and self.limit < self.maximum:
            self._streak = 0
            self._set(self.limit + 1)

    def _set(self, limit: int) -> None:
        self.limit = min(self.maximum, limit)
        self.lowest = min(self.lowest, self.limit)
        if self._changed is not None:
            asyncio.get_running_loop().create_task(self._wake())

    async def _wake(self) -> None:
        changed = self._condition()
        async with changed:
            changed.notify_all()

    def middleware(self) -> Any:
        """An async SDK middleware that reports each attempt's status and headers here."""
        async def observe_rate_limits(request: Any, call_next: Any) -> Any:
            response = await call_next(request)
            self.observe(response.status_code, response.headers)
            return response

        return observe_rate_limits
