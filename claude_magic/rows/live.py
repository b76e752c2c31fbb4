"""Live mode: the rows' requests from a bounded pool of tasks on a private event loop, with the SDK's async client and retries.

Never `asyncio.run` in a kernel: the pool runs on its own loop thread (`LoopThread`); the caller waits on
a thread-safe future. Each finished request is handed to `on_done` at once (the row is kept then).
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from typing import Any

from ..core.pricing import Price
from ..core.redaction import redact
from ..core.structured import OutputSpec
from ..tools.asyncloop import LoopThread
from .jobs import Job
from .limiter import AdaptiveLimit
from .outcome import Outcome, failed, from_message

__all__ = ["run_pool", "row_error", "rows_loop", "REQUEUES"]

REQUEUES = 3          # times a row still rate-limited after the SDK's retries goes back in the queue
_loop = LoopThread("claude-magic-rows-loop")


def rows_loop() -> LoopThread:
    """The loop thread live runs use (shared by runs, started on first use)."""
    return _loop


def row_error(exc: BaseException, base_url: str) -> str:
    """One short line for a row whose request failed (after the SDK's retries)."""
    import anthropic

    if isinstance(exc, anthropic.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        kind = error.get("type") or f"http_{exc.status_code}"
        detail = str(error.get("message") or exc.message).splitlines()[0][:300]
        return redact(f"{exc.status_code} {kind}: {detail}")
    if isinstance(exc, anthropic.APITimeoutError):
        return f"timeout: no answer from {base_url} in time"
    if isinstance(exc, anthropic.APIConnectionError):
        return f"connection: could not reach {base_url}"
    return redact(f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}")


def _pushed_back(error: BaseException) -> bool:
    """Whether the API asked to slow down (429 rate limit, 529 overloaded)."""
    import anthropic

    return isinstance(error, anthropic.APIStatusError) and error.status_code in (429, 529)


async def run_pool(client: Any, jobs: list[Job], limiter: AdaptiveLimit, spec: OutputSpec | None, model: str,
                   prices: dict[str, Price] | None, base_url: str,
                   on_done: Callable[[Job, Outcome], None], on_start: Callable[[Job], None]) -> None:
    """Send every job, at most `limiter.limit` at a time; cancelling this task cancels the requests in flight.

    A row still rate-limited (429) or overloaded (529) after the SDK's retries goes to the back of the queue,
    up to `REQUEUES` times: it then waits for a slot of the limit the 429s lowered, and for their
    `retry-after`, instead of failing while the rest of the pool backs off.
    """
    pending: collections.deque[Job] = collections.deque(jobs)
    requeued: collections.Counter[str] = collections.Counter()

    async def worker() -> None:
        while pending:
            job = pending.popleft()
            await limiter.acquire()
            try:
                on_start(job)
                try:
                    message = await client.messages.create(**job.params)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # noqa: BLE001 - one row's failure is that row's error, never the run's
                    if _pushed_back(error) and requeued[job.id] < REQUEUES:
                        requeued[job.id] += 1
                        pending.append(job)
                        continue
                    outcome = failed(row_error(error, base_url))
                else:
                    outcome = from_message(message, spec, model, prices)
                on_done(job, outcome)
            finally:
                await limiter.release()

    workers = [asyncio.create_task(worker()) for _ in range(min(limiter.maximum, max(1, len(jobs))))]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
