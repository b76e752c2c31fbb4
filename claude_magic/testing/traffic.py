"""Rate limits and latency on the local server's `POST /v1/messages`, for testing and measuring concurrent clients.

Through `server.traffic`:
- `latency`: seconds every answer waits before it is sent (a fixed per-request latency);
- `max_concurrent`: more requests in flight than this get 429 `rate_limit_error` with `retry-after`;
- `requests_per_window` / `window`: a request budget per window (429 once spent), with
  `anthropic-ratelimit-requests-limit / -remaining / -reset` on every answer;
- `retry_after`: the seconds sent in `retry-after` (default 0.2 so tests stay fast).
`rate_limited` counts the 429s sent, `peak` the most requests seen in flight at once.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

__all__ = ["Traffic"]


class Traffic:
    """Admission of message requests: latency, a concurrency cap and a windowed budget."""

    def __init__(self) -> None:
        self.latency = 0.0
        self.max_concurrent: int | None = None
        self.requests_per_window: int | None = None
        self.window = 60.0
        self.retry_after = 0.2
        self.rate_limited = 0
        self.peak = 0
        self._in_flight = 0
        self._window_start = time.monotonic()
        self._used = 0
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self.rate_limited = self.peak = self._in_flight = self._used = 0
            self._window_start = time.monotonic()

    def admit(self) -> tuple[bool, dict[str, str]]:
        """Whether a request may go on (call `leave()` after it when it did), and the rate-limit headers."""
        with self._lock:
            now = time.monotonic()
            if now - self._window_start >= self.window:
                self._window_start, self._used = now, 0
            headers = self._headers(now)
            over_budget = self.requests_per_window is not None and self._used >= self.requests_per_window
            over_concurrency = self.max_concurrent is not None and self._in_flight >= self.max_concurrent
            if over_budget or over_concurrency:
                self.rate_limited += 1
                wait = self.retry_after
                if over_budget:
                    wait = max(wait, self.window - (now - self._window_start))
                headers["retry-after"] = f"{wait:g}"
                return False, headers
            self._used += 1
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
            headers = self._headers(now)
            return True, headers

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _headers(self, now: float) -> dict[str, str]:
        if self.requests_per_window is None:
            return {}
        reset = time.time() + self.window - (now - self._window_start)
        stamp = datetime.fromtimestamp(reset, timezone.utc).isoformat().replace("+00:00", "Z")
        return {
            "anthropic-ratelimit-requests-limit": str(self.requests_per_window),
            "anthropic-ratelimit-requests-remaining": str(max(0, self.requests_per_window - self._used)),
            "anthropic-ratelimit-requests-reset": stamp,
        }
