"""The replay engine: answers a turn from its recording, with no request, emitting the recorded blocks.

It sits behind the same seam as the live engines, so every view (live, static, panel) paints a replayed
turn exactly like a streamed one. Recorded tool calls run again locally, in order, under the same
consent rules (so the variables the turn created exist again), labelled as the notebook's saved record
(not Claude); a record this user's kernels did not write asks before each call, whatever the policy. When a
tool now returns something other than the recording, the turn goes on live from there with the new result
(the live engine's `continue_turn`; an engine without one asks the whole turn afresh), and the cell says so.
The footer shows the credential of this session, never the recorded one (a store file can say anything).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..core.conversation import INTERRUPTED_TOOL_RESULT
from ..core.errors import ClaudeMagicError, TurnInterrupted
from ..core.events import (
    BlockFinished,
    BlockStarted,
    Event,
    Notice,
    StepFinished,
    StepStarted,
    TextDelta,
    ThinkingDelta,
    ToolInputDelta,
    TurnFinished,
    TurnStarted,
)
from ..core.pricing import cost_of
from ..core.results import TurnResult
from ..core.usage import Usage
from ..engines.base import Engine, TurnRequest
from ..engines.messages_api import credential_label
from ..tools.consent import ConsentUnavailable, ask_in_console
from ..tools.context import SavedRecord, ToolCall, ToolContext
from .planner import later_turns_dropped
from .recording import RecordedTurn

__all__ = ["ReplayEngine"]


class ReplayEngine:
    """Replays one recorded turn; `live()` gives the engine that carries on if a tool result changed."""

    name = "replay"

    def __init__(self, recorded: RecordedTurn, live: Callable[[], Engine], *, later: int = 0) -> None:
        self.recorded = recorded
        self.live = live
        self.later = later            # recorded turns after this one (dropped if the replay diverges)

    def run_turn(self, request: TurnRequest) -> TurnResult:
        conversation, emit, original = request.conversation, request.emit, self.recorded.record
        record = replace(original, cell_id=request.cell_id or original.cell_id, replayed=True,
                         credential=_current_credential(request))
        result = TurnResult(turn_id=record.id, model=record.model, conversation=conversation.name,
                            engine=record.engine, credential=record.credential, cost=0.0,
                            stop_reason=record.stop_reason, status=record.status, replayed=True,
                            answered_at=original.started_at, recorded=original)
        started = time.perf_counter()
        record.start = len(conversation.messages) - (1 if conversation.messages and
                                                        conversation.messages[-1]["role"] == "user" else 0)
        checkpoint = len(conversation.messages)
        conversation.add_user(list(request.prompt))
        emit(TurnStarted(record.id, record.model, conversation.name, request.prompt_text))
        try:
            diverged = self._replay(request, result)
        except _RecordRefused as refused:     # an untrusted record's call was not run: the recorded turn stays
            conversation.truncate(checkpoint)
            conversation.answer_pending()
            result.status, result.error, result.replayed, result.content = "error", str(refused), False, []
            result.duration = time.perf_counter() - started
            emit(TurnFinished(result))
            return result
        except KeyboardInterrupt as interrupt:
            _answer_interrupted(conversation, interrupt)
            result.status, result.error, result.replayed = "interrupted", str(TurnInterrupted()), False
            diverged = None
        if diverged is not None:
            fresh = self._go_live(request, result, diverged, checkpoint)
            if fresh is not None:
                return fresh
        result.duration = time.perf_counter() - started
        if not result.replayed:           # partly asked afresh: a new answer with its own id and bill
            record = replace(record, id=uuid.uuid4().hex[:12], replayed=False, started_at=time.time(),
                             credential=result.credential)
            result.turn_id, result.answered_at, result.recorded = record.id, record.started_at, None
            result.cost = cost_of(result.usage, record.model, request.prices)
            record.usage, record.cost = result.usage, result.cost
            record.stop_reason, record.status, record.duration = result.stop_reason, result.status, result.duration
        record.end = len(conversation.messages)
        conversation.turns.append(record)
        emit(TurnFinished(result))
        return result

    # -- replaying -------------------------------------------------------------------------------
    def _replay(self, request: TurnRequest, result: TurnResult) -> str | None:
        """Emit and append the recorded steps, re-running tool calls; the changed tool's name on divergence."""
        conversation, messages = request.conversation, self.recorded.messages
        position = 1
        while position < len(messages):
            message = messages[position]
            position += 1
            if message["role"] != "assistant":
                continue                  # tool results are re-made below, never copied
            if request.cancellation is not None and request.cancellation.cancelled:
                raise KeyboardInterrupt
            content = [dict(block) for block in message["content"]]
            calls = [block for block in content if block.get("type") == "tool_use"]
            step = result.steps
            _emit_step(request.emit, step, content, "tool_use" if calls else self.recorded.record.stop_reason)
            conversation.add_assistant(content)
            result.content.extend(content)
            result.steps += 1
            if not calls:
                continue
            recorded_results = messages[position]["content"] if position < len(messages) and \
                messages[position]["role"] == "user" else []
            if request.toolbox is None:
                conversation.answer_pending("No tools are available in this session.")
                fresh = conversation.messages[-1]["content"]
            else:
                context, refused = _from_record(request)
                context = replace(context, recorded={block.get("tool_use_id", ""): block for block in
                                                     (recorded_results if isinstance(recorded_results, list) else [])
                                                     if isinstance(block, dict) and block.get("type") == "tool_result"})
                fresh = request.toolbox.run(conversation.pending_tool_uses(), request.emit, request.cancellation,
                                            context, settings=request.settings, conversation=conversation.name)
                conversation.add_user(fresh)
                if refused:
                    raise _RecordRefused(request.conversation.untrusted_record or "a store file", refused)
            changed = _first_change(fresh, recorded_results, calls)
            if changed is not None:
                return changed
        return None

    def _go_live(self, request: TurnRequest, result: TurnResult, tool: str, checkpoint: int) -> TurnResult | None:
        """A tool result changed: carry on with real requests (a new TurnResult if the engine restarts the turn)."""
        result.replayed = False
        note = (f"`{tool}` returned something different from the recording: asked afresh from there"
                + later_turns_dropped(self.later))
        try:
            engine = self.live()
        except ClaudeMagicError as error:     # no credential: the replayed part stays, the rest cannot be asked
            request.emit(Notice(note.replace("asked afresh from there", "cannot ask afresh"), "warning"))
            result.status, result.error = "error", str(error)
            return None
        request.emit(Notice(note, "warning"))
        carry_on = getattr(engine, "continue_turn", None)
        if carry_on is not None:
            carry_on(request, result)
            return None
        request.conversation.truncate(checkpoint)   # this engine runs whole turns: ask it all again
        request.conversation.answer_pending()
        return engine.run_turn(request)


class _RecordRefused(Exception):
    """A recorded call of a store this user did not write was declined, or could not be asked about."""

    def __init__(self, path: str, tools: list[str]) -> None:
        names = ", ".join(f"`{name}`" for name in dict.fromkeys(tools))
        super().__init__(f"The recorded tool call ({names}) was not run: it comes from {path}, which was not "
                         "written by this user's kernels; the recorded turn is kept (`%claude restore` accepts "
                         "the file).")


def _from_record(request: TurnRequest) -> tuple[ToolContext, list[str]]:
    """The front end's tool context, saying that the calls come from the saved record (and whether it is
    trusted), and the list that collects the names of an untrusted record's calls that were not approved."""
    context = request.tool_context if isinstance(request.tool_context, ToolContext) else ToolContext(
        approver=getattr(request.tool_context, "approver", None),
        run_on_main_thread=getattr(request.tool_context, "run_on_main_thread", None))
    source = request.conversation.untrusted_record
    refused: list[str] = []
    if source is None:
        return replace(context, record=SavedRecord()), refused
    ask = context.approver or ask_in_console

    def approver(call: ToolCall) -> bool:
        try:
            answer = ask(call)
        except ConsentUnavailable:
            refused.append(call.name)
            raise
        if answer is not True:
            refused.append(call.name)
        return answer

    return replace(context, approver=approver, record=SavedRecord(source, trusted=False)), refused


def _current_credential(request: TurnRequest) -> str:
    """The secret-free label of the credential this session would use now ("" when none resolves)."""
    try:
        return credential_label(request.settings)
    except ClaudeMagicError:          # a broken profile: the replay needs no credential, so none is shown
        return ""


def _emit_step(emit: Callable[[Event], None], step: int, content: list[dict[str, Any]], stop_reason: str | None) -> None:
    """The events a live step would have emitted for these blocks (each text in one delta)."""
    emit(StepStarted(step))
    for index, block in enumerate(content):
        kind = block.get("type", "")
        if kind == "text":
            emit(BlockStarted(step, index, kind, {**block, "text": ""}))
            emit(TextDelta(step, index, block.get("text", "")))
        elif kind == "thinking":
            emit(BlockStarted(step, index, kind, {**block, "thinking": ""}))
            emit(ThinkingDelta(step, index, block.get("thinking", "")))
        elif kind == "tool_use":
            emit(BlockStarted(step, index, kind, {**block, "input": {}}))
            emit(ToolInputDelta(step, index, json.dumps(block.get("input", {}), ensure_ascii=False)))
        else:
            emit(BlockStarted(step, index, kind, dict(block)))
        emit(BlockFinished(step, index, dict(block)))
    emit(StepFinished(step, stop_reason, Usage(), True))


def _first_change(fresh: list[dict[str, Any]], recorded: Any, calls: list[dict[str, Any]]) -> str | None:
    """The name of the first tool whose result differs from the recording (None: all the same)."""
    names = {call.get("id"): call.get("name", "a tool") for call in calls}
    was = _results(recorded if isinstance(recorded, list) else [])
    now = _results(fresh)
    for tool_use_id, result in now.items():
        if was.get(tool_use_id) != result:
            return str(names.get(tool_use_id, "a tool"))
    missing = set(was) - set(now)
    return str(names.get(next(iter(missing)), "a tool")) if missing else None


def _results(blocks: list[dict[str, Any]]) -> dict[str, tuple[str, bool]]:
    """tool_use_id -> (canonical content, is_error) of the tool_result blocks."""
    return {block.get("tool_use_id", ""): (json.dumps(block.get("content"), sort_keys=True, ensure_ascii=False),
                                           bool(block.get("is_error")))
            for block in blocks if isinstance(block, dict) and block.get("type") == "tool_result"}


def _answer_interrupted(conversation: Any, interrupt: KeyboardInterrupt) -> None:
    """Keep the tool results that finished before Ctrl-C; answer the rest as interrupted."""
    finished: dict[str, dict[str, Any]] = getattr(interrupt, "results", None) or {}
    pending = conversation.pending_tool_uses()
    if finished and pending:
        conversation.add_user([finished.get(call["id"]) or {"type": "tool_result", "tool_use_id": call["id"],
                                                            "content": INTERRUPTED_TOOL_RESULT, "is_error": True}
                               for call in pending])
    conversation.answer_pending()

