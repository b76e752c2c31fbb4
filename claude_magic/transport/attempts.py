"""Each HTTP attempt the SDK makes for a turn (retries included): the Stop gate before it, the retry count after.

The client installs `stop_gate` as SDK middleware; the stream reader marks its thread's reader in
`attempt_owner` while it makes the SDK call, and reads `retries_taken` from the request that answered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

__all__ = ["stop_gate", "StreamStopped", "attempt_owner", "retries_taken"]

attempt_owner = threading.local()     # `.pump`: the reader whose thread is making the SDK call (it has `.stopped`)


class StreamStopped(Exception):
    """Raised inside the SDK's retry loop when the turn was stopped: no further attempt is sent."""


def stop_gate(request: Any, call_next: Callable[[Any], Any]) -> Any:
    """SDK middleware, run before every HTTP attempt (retries included): a stopped reader sends nothing more.

    Without it, a Ctrl-C during the SDK's wait before a retry left that retry to be sent seconds later,
    for an answer nobody reads (and, on the real API, paid for).
    """
    pump = getattr(attempt_owner, "pump", None)
    if pump is not None and pump.stopped:
        raise StreamStopped
    return call_next(request)


def retries_taken(request: Any) -> int:
    """How many retries the SDK made before sending `request` (its `x-stainless-retry-count` header)."""
    try:
        return int(request.headers.get("x-stainless-retry-count", 0))
    except (AttributeError, TypeError, ValueError):
        return 0
