"""What a tool run knows about its front end: the consent UI, the main-thread runner, the call at hand."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .tool import Tool

__all__ = ["ToolCall", "ToolContext", "SavedRecord", "RunningCall", "running_call"]


@dataclass(frozen=True)
class SavedRecord:
    """Where replayed tool calls come from: the notebook's saved record (a store file), not Claude now."""

    path: str = ""                 # the store file the recorded turn was restored from ("" when unknown)
    trusted: bool = True           # written by this user's kernels, or accepted with `%claude restore`


@dataclass(frozen=True)
class ToolCall:
    """One `tool_use` request as the consent UI sees it."""

    id: str
    name: str
    input: dict[str, Any]
    tool: Tool | None = field(default=None, repr=False)
    policy: str = "ask"
    record: SavedRecord | None = None   # set when replay re-runs a recorded call (None: Claude asks now)


@dataclass(frozen=True)
class ToolContext:
    """Passed as `Session.ask(..., tool_context=ToolContext(...))` by a front end.

    - `approver(call) -> bool` decides calls whose policy is "ask" (None: an `input()` prompt).
      Raising `consent.ConsentUnavailable` means "could not ask" (the call is not run);
      raising KeyboardInterrupt stops the turn.
    - `run_on_main_thread(fn) -> fn()` runs `fn` on the kernel's main thread and returns its result
      (or raises its exception); needed when the turn runs on a worker thread (chat panel), because
      `run_python` and figure tools must run where IPython and matplotlib live. None: run them on the
      turn's own thread.
    - `record` is set by the replay engine: the calls come from the notebook's saved record, not from
      Claude now; an untrusted record asks before every call, whatever the policy says. `recorded` holds
      the recorded results, which tools that must not act twice (`Tool.replays_recorded`) return as they are.
    """

    approver: Callable[[ToolCall], bool] | None = None
    run_on_main_thread: Callable[[Callable[[], Any]], Any] | None = None
    record: SavedRecord | None = None
    recorded: dict[str, dict[str, Any]] = field(default_factory=dict)   # replay: tool_use_id -> its tool_result


@dataclass(frozen=True)
class RunningCall:
    """The call a tool function is running for (`running_call.get()` inside the function): provenance."""

    id: str
    name: str
    model: str
    conversation: str
    replayed: bool = False
    emit: Callable[[Any], None] | None = field(default=None, compare=False, repr=False)   # the turn's events


running_call: ContextVar[RunningCall | None] = ContextVar("claude_magic_running_call", default=None)
