"""Running one turn's tool calls: consent first, then concurrently, results back in call order."""

from __future__ import annotations

import concurrent.futures
import contextvars
import os
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..core.conversation import INTERRUPTED_TOOL_RESULT
from ..core.events import Event, ToolCallFinished, ToolCallStarted
from ..core.redaction import redact, redact_content
from ..core.settings import Settings
from .asyncloop import shared_loop
from .bundles import MimeBundle
from .context import RunningCall, ToolCall, ToolContext, running_call
from .deadline import ToolCancelled, ToolTimeout, call_with_deadline, raise_in_thread
from .decision import decide
from .output import ToolOutput, content_text, fit_to_budget, full_text_bundle, to_output
from .tool import Tool, ToolInputError

if TYPE_CHECKING:
    from ..core.cancellation import Cancellation

__all__ = ["run_calls", "ToolLookup"]


class ToolLookup(Protocol):
    """What running calls needs from a toolbox: find a tool, its effective policy, what is turned off."""

    disabled: frozenset[str]

    def get(self, name: str) -> Tool | None: ...

    def names(self) -> list[str]: ...

    def policy(self, name: str, arguments: dict[str, Any] | None = None) -> str: ...

# Waits are sliced so that Stop, and a Ctrl-C whose signal the OS delivered to another thread, are
# noticed within this many seconds (a main thread blocked in one long wait would not see the signal).
_POLL = 0.1


@dataclass(eq=False)
class _Slot:
    """One call's progress through the batch."""

    id: str
    name: str
    input: dict[str, Any]
    tool: Tool | None
    started: float = field(default_factory=time.perf_counter)
    future: concurrent.futures.Future[Any] | None = None
    thread_ident: int | None = None
    deadline: float | None = None
    block: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        return self.block is not None


def run_calls(toolbox: ToolLookup, calls: list[dict[str, Any]], emit: Callable[[Event], None],
              cancellation: Cancellation | None, context: ToolContext | None = None,
              settings: Settings | None = None, conversation: str = "") -> list[dict[str, Any]]:
    """One `tool_result` per `tool_use` in `calls`, in order; KeyboardInterrupt carries `.results` of finished ones."""
    return _Batch(toolbox, emit, cancellation, context or ToolContext(), settings or Settings(),
                  conversation).run(calls)


class _Batch:
    """The calls of one assistant message, decided one by one and run together."""

    def __init__(self, toolbox: ToolLookup, emit: Callable[[Event], None], cancellation: Cancellation | None,
                 context: ToolContext, settings: Settings, conversation: str = "") -> None:
        self.toolbox = toolbox
        self.model = settings.model
        self.conversation = conversation
        self.emit = emit
        self.cancellation = cancellation
        self.context = context
        self.budget = settings.tool_result_budget
        self.timeout = settings.tool_timeout if settings.tool_timeout and settings.tool_timeout > 0 else None
        self.slots: list[_Slot] = []

    def run(self, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self.slots = [_Slot(call["id"], call["name"], call.get("input") or {}, self.toolbox.get(call["name"]))
                      for call in calls]
        for slot in self.slots:
            self.emit(ToolCallStarted(slot.id, slot.name, slot.input))
        try:
            approved = [slot for slot in self.slots if not self._from_recording(slot) and self._approve(slot)]
            for slot in approved:
                if _runs_inline(slot.tool):
                    self._collect(block=True)   # a barrier: what came before it has finished
                    self._run_inline(slot)
                else:
                    self._start(slot)
            self._collect(block=True)
        except KeyboardInterrupt as interrupt:
            self._abandon(interrupt)
            raise
        return [slot.block for slot in self.slots if slot.block is not None]

    def _from_recording(self, slot: _Slot) -> bool:
        """Replay of a tool that must not act twice (a cell it added is still there): the recorded result."""
        recorded = self.context.recorded.get(slot.id) if self.context.record is not None else None
        if recorded is None or slot.tool is None or not slot.tool.replays_recorded:
            return False
        self._finish(slot, "done", ToolOutput(recorded.get("content") or "", is_error=bool(recorded.get("is_error"))))
        return True

    # -- consent ---------------------------------------------------------------------------------
    def _approve(self, slot: _Slot) -> bool:
        """Whether the call may run; if not, its result is set (unknown, disabled, denied, declined)."""
        self._check_cancelled()
        if slot.tool is None or slot.name in self.toolbox.disabled:
            available = ", ".join(name for name in self.toolbox.names() if name not in self.toolbox.disabled)
            self._finish(slot, "failed", ToolOutput(f"There is no tool named {slot.name!r} in this session "
                                                    f"(available: {available or 'none'}).", is_error=True))
            return False
        call = ToolCall(slot.id, slot.name, slot.input, slot.tool, self.toolbox.policy(slot.name, slot.input))
        decision = decide(call, self.context, self.emit)
        if not decision:
            self._finish(slot, "denied", ToolOutput(decision.refusal, is_error=True))
        return decision.allowed

    # -- running ---------------------------------------------------------------------------------
    def _running(self, slot: _Slot) -> RunningCall:
        return RunningCall(slot.id, slot.name, self.model, self.conversation, self.context.record is not None, self.emit)

    def _start(self, slot: _Slot) -> None:
        """Start a concurrent call: async ones on the private loop, sync ones on a daemon thread."""
        tool = slot.tool
        assert tool is not None
        slot.started = time.perf_counter()
        slot.deadline = slot.started + self.timeout if self.timeout else None
        if tool.is_async:
            slot.future = shared_loop().submit(tool.acall(slot.input))
            return
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        slot.future = future
        context = contextvars.copy_context()
        context.run(running_call.set, self._running(slot))
        thread = threading.Thread(target=_thread_main, args=(slot, tool, future, context),
                                  name=f"claude-tool-{slot.name}", daemon=True)
        thread.start()

    def _run_inline(self, slot: _Slot) -> None:
        """Run a main-thread tool now, on the main thread, under the time limit."""
        tool = slot.tool
        assert tool is not None
        self._check_cancelled()
        slot.started = time.perf_counter()

        running = self._running(slot)

        def call() -> Any:
            token = running_call.set(running)
            try:
                return call_with_deadline(lambda: tool.call(slot.input), self.timeout)
            finally:
                running_call.reset(token)

        runner = self.context.run_on_main_thread
        on_main = threading.current_thread() is threading.main_thread()
        try:
            value = runner(call) if runner is not None and not on_main else call()
        except ToolTimeout:
            self._finish(slot, "timeout", _timeout_output(self.timeout))
        except KeyboardInterrupt:
            raise
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - the code's failure is its result
            self._finish(slot, "failed", _failure_output(exc))
        else:
            self._finish(slot, "done", _output_of(value))

    def _collect(self, block: bool) -> None:
        """Finish calls whose futures are done; with `block`, until all are (or time out)."""
        while True:
            waiting = [slot for slot in self.slots if slot.future is not None and not slot.finished]
            if not waiting:
                return
            for slot in waiting:
                if slot.future is not None and slot.future.done():
                    self._finish_future(slot)
            now = time.perf_counter()
            for slot in waiting:
                if not slot.finished and slot.deadline is not None and now >= slot.deadline:
                    self._stop(slot, ToolTimeout)
                    self._finish(slot, "timeout", _timeout_output(self.timeout))
            self._check_cancelled()
            waiting = [slot for slot in waiting if not slot.finished]
            if not block or not waiting:
                return
            deadlines = [slot.deadline for slot in waiting if slot.deadline is not None]
            wait_for = min([_POLL] + [max(0.0, deadline - now) for deadline in deadlines])
            concurrent.futures.wait([slot.future for slot in waiting if slot.future is not None],
                                    timeout=wait_for, return_when=concurrent.futures.FIRST_COMPLETED)

    def _finish_future(self, slot: _Slot) -> None:
        future = slot.future
        assert future is not None
        if future.cancelled():
            self._finish(slot, "interrupted", ToolOutput(INTERRUPTED_TOOL_RESULT, is_error=True))
            return
        exc = future.exception()
        if isinstance(exc, ToolTimeout):
            self._finish(slot, "timeout", _timeout_output(self.timeout))
        elif exc is not None:
            self._finish(slot, "failed", _failure_output(exc))
        else:
            self._finish(slot, "done", _output_of(future.result()))

    def _stop(self, slot: _Slot, exception: type[BaseException]) -> None:
        """Ask a running call to stop: cancel its task, or raise `exception` inside its thread."""
        if slot.future is not None and not slot.future.cancel() and slot.thread_ident is not None:
            raise_in_thread(slot.thread_ident, exception)

    def _check_cancelled(self) -> None:
        if self.cancellation is not None and self.cancellation.cancelled:
            raise KeyboardInterrupt

    def _abandon(self, interrupt: KeyboardInterrupt) -> None:
        """Ctrl-C or Stop: keep what finished, stop what runs, mark the rest interrupted, tell the loop."""
        for slot in self.slots:
            if slot.finished:
                continue
            if slot.future is not None and slot.future.done():
                self._finish_future(slot)  # it finished just before the interrupt: keep its result
            else:
                self._stop(slot, ToolCancelled)
                self._emit_finished(slot, "interrupted", INTERRUPTED_TOOL_RESULT, True, ())
        interrupt.results = {slot.id: slot.block for slot in self.slots  # type: ignore[attr-defined]
                             if slot.block is not None}

    # -- results ---------------------------------------------------------------------------------
    def _finish(self, slot: _Slot, status: str, output: ToolOutput) -> None:
        """Set the call's `tool_result` (cut to the budget) and tell the views."""
        if status == "done" and output.is_error:
            status = "failed"
        is_error = output.is_error or status != "done"
        output = _redacted(output)
        content, cut = fit_to_budget(output.content, self.budget)
        slot.block = {"type": "tool_result", "tool_use_id": slot.id, "content": content}
        if is_error:
            slot.block["is_error"] = True
        display = tuple(output.display) + ((full_text_bundle(output.content),) if cut else ())
        self._emit_finished(slot, status, content_text(content), is_error, display)

    def _emit_finished(self, slot: _Slot, status: str, text: str, is_error: bool, display: tuple[Any, ...]) -> None:
        self.emit(ToolCallFinished(slot.id, slot.name, status, text, is_error,
                                   time.perf_counter() - slot.started, display))


def _redacted(output: ToolOutput) -> ToolOutput:
    """The output with credentials replaced, in what Claude gets and in the text the user is shown."""
    display = tuple(MimeBundle({mime: redact(value) if isinstance(value, str) else value
                                for mime, value in item.data.items()}, item.metadata, item.kind)
                    if isinstance(item, MimeBundle) else item for item in output.display)
    return ToolOutput(redact_content(output.content), display, output.is_error)


def _runs_inline(tool: Tool | None) -> bool:
    return tool is not None and tool.main_thread and not tool.is_async


def _thread_main(slot: _Slot, tool: Tool, future: concurrent.futures.Future[Any],
                 context: contextvars.Context) -> None:
    """Body of a sync tool's thread: run it and settle the future (stop requests arrive as exceptions)."""
    try:
        slot.thread_ident = threading.get_ident()
        if not future.set_running_or_notify_cancel():
            return
        try:
            value = context.run(tool.call, slot.input)
        except BaseException as exc:  # noqa: BLE001 - everything goes back to the batch
            future.set_exception(exc)
        else:
            future.set_result(value)
    except BaseException:  # noqa: BLE001,S110 - a late stop request landed after the result was set
        pass


def _output_of(value: Any) -> ToolOutput:
    try:
        return to_output(value)
    except Exception as exc:  # noqa: BLE001 - a broken return value is the tool's failure
        return _failure_output(exc)


def _timeout_output(seconds: float | None) -> ToolOutput:
    return ToolOutput(f"The tool call timed out after {seconds:g} s and was stopped (ClaudeMagic.tool_timeout); "
                      "its result is unknown.", is_error=True)


_INTERNAL_DIRS = tuple(os.path.dirname(path) + os.sep for path in (__file__, concurrent.futures.__file__))
_INTERNAL_PACKAGES = tuple(f"{os.sep}{package}{os.sep}" for package in ("pydantic", "anthropic", "asyncio"))


def _is_internal(filename: str) -> bool:
    """Frames of the tool machinery (ours, threads, pydantic validation), not of the tool itself."""
    return (filename.startswith(_INTERNAL_DIRS) or filename == threading.__file__
            or any(package in filename for package in _INTERNAL_PACKAGES))


def _failure_output(exc: BaseException) -> ToolOutput:
    """An exception as an error result: the SDK's `ToolError` content, else message and the tool's traceback."""
    content = getattr(exc, "content", None)
    if type(exc).__name__ == "ToolError" and content is not None:
        return ToolOutput(content, is_error=True)
    if isinstance(exc, ToolInputError):
        return ToolOutput(str(exc), is_error=True)
    summary = traceback.TracebackException.from_exception(exc)
    frames = [frame for frame in summary.stack if not _is_internal(frame.filename)]
    if not frames:  # raised by the tool machinery itself (a built-in's "no such variable"): the message is enough
        return ToolOutput(f"{type(exc).__name__}: {exc}", is_error=True)
    summary.stack = traceback.StackSummary.from_list(frames)
    return ToolOutput(f"The tool raised {type(exc).__name__}: {exc}\n\n{''.join(summary.format()).rstrip()}",
                      is_error=True)
