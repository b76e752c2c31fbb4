"""One conversation's long-lived `ClaudeSDKClient`, owned by one task on the engine's private event loop."""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import queue
from dataclasses import dataclass, field
from typing import Any

from ...core.redaction import redact
from ...tools.asyncloop import LoopThread

__all__ = ["LiveClient", "TurnChannel"]


@dataclass
class TurnChannel:
    """What the loop thread hands the kernel during one turn: messages, tool calls, consent requests."""

    # SimpleQueue (C): a Ctrl-C landing in `get(timeout=...)` raises cleanly; in queue.Queue it can land inside
    # the Condition's release and leave the lock broken ("release unlocked lock" on the next get)
    items: queue.SimpleQueue[tuple[str, Any, Any]] = field(default_factory=queue.SimpleQueue)
    kernel_ids: dict[str, collections.deque[str]] = field(default_factory=dict)   # tool name → tool_use ids
    closed: bool = False

    def put(self, kind: str, item: Any, reply: concurrent.futures.Future[Any] | None = None) -> None:
        self.items.put((kind, item, reply))


class LiveClient:
    """A connected `ClaudeSDKClient`; its connect and disconnect run in one task (anyio needs that)."""

    def __init__(self, loop: LoopThread, options: Any, key: tuple[Any, ...]) -> None:
        self.loop = loop
        self.options = options
        self.key = key
        self.client: Any = None
        self.position: str | None = None     # id of the conversation's last turn this session holds
        self.session_id: str | None = None
        self.model: str | None = None
        self.channel: TurnChannel | None = None
        self.dead = False
        self.resumed = False                 # started with `resume` (the session holds the earlier turns)
        self.needs_history = False           # a new session over earlier turns: the next prompt carries them
        self.cost_total = 0.0                # the CLI's `total_cost_usd` so far: it counts the whole process
        self.stderr: collections.deque[str] = collections.deque(maxlen=20)
        self._closing: asyncio.Event | None = None
        self._life: concurrent.futures.Future[Any] | None = None

    def on_stderr(self, line: str) -> None:
        self.stderr.append(redact(line.rstrip()))

    @property
    def pid(self) -> int | None:
        """The CLI process id (for the benchmark's process count), when the SDK exposes it."""
        process = getattr(getattr(self.client, "_transport", None), "_process", None)
        return getattr(process, "pid", None)

    def connect(self, timeout: float) -> None:
        """Start the CLI and wait until it is ready; raises the SDK's error when it cannot start."""
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._life = self.loop.submit(self._run(ready))
        try:
            ready.result(timeout)
        except BaseException:
            self.close()
            raise

    async def _run(self, ready: concurrent.futures.Future[None]) -> None:
        from claude_agent_sdk import ClaudeSDKClient

        self._closing = asyncio.Event()
        client = ClaudeSDKClient(self.options)
        try:
            await client.connect()
        except BaseException as error:  # noqa: BLE001 - handed to the thread waiting in `connect`
            if not ready.done():
                ready.set_exception(error)
            return
        self.client = client
        ready.set_result(None)
        try:
            await self._closing.wait()
        finally:
            self.client = None
            with contextlib.suppress(Exception):      # the process may already be gone
                await client.disconnect()

    def submit(self, coroutine: Any) -> concurrent.futures.Future[Any]:
        return self.loop.submit(coroutine)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the CLI process (idempotent)."""
        self.dead = True
        closing, life = self._closing, self._life
        if closing is not None:
            try:
                self.loop.loop().call_soon_threadsafe(closing.set)
            except RuntimeError:
                return
        if life is not None:
            try:
                life.result(timeout)
            except BaseException:  # noqa: BLE001 - shutting down: nothing left to report
                life.cancel()
