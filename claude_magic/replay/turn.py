"""One turn of a session, replacing a re-run cell's turn: replay its recording when the request is unchanged,
else ask the engine afresh; the request fingerprint stamped on the result (provenance) either way.

`Session._run` calls `replay_or_ask`; the planning (which recorded turn a request replaces) is `ReplayPlanner`,
the fingerprint `request_fingerprinter`, the replay itself `ReplayEngine`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..core.answer_scrubbing import finish_turn
from ..core.conversation import Conversation
from ..core.errors import ClaudeMagicError
from ..core.events import Event, Notice, TurnFinished
from ..core.results import TurnResult
from ..core.settings import TurnOptions
from ..engines.base import Engine, TurnRequest, offered_definitions
from ..engines.selection import choose_engine
from .engine import ReplayEngine
from .fingerprint import request_fingerprinter
from .planner import ReplayPlanner

__all__ = ["replay_or_ask"]


def replay_or_ask(request: TurnRequest, options: TurnOptions, planner: ReplayPlanner, engine_name: str | None,
                  missing: ClaudeMagicError | None, engine_named: Callable[[str], Engine]) -> TurnResult:
    """Run `request`: replay the recorded turn it replaces when its fingerprint is unchanged, else ask.

    `engine_name` is the engine the settings pick (None: `missing` says why none can; a replay needs none);
    `engine_named(name)` gives the session's engine of that name. A turn that fails before it starts, or a
    re-asked turn that fails with nothing to show, leaves the old turn in place.
    """
    conversation, settings = request.conversation, request.settings
    offered: dict[str, list[dict[str, Any]]] = {}

    def fingerprinter(recorded_engine: str = "") -> Callable[[list[dict[str, Any]]], str]:
        """This request's fingerprint over the messages it is given (no credential now: as the recorded engine
        would send it); a setting the API would refuse raises here."""
        engine = engine_name or (recorded_engine if settings.engine == "auto" else "") or settings.engine
        if engine not in offered:
            offered[engine] = _fingerprinted(request, offered_definitions(request.toolbox, options.tools, engine))
        return request_fingerprinter(request.prompt, settings, engine, offered[engine])

    def fingerprint(messages: list[dict[str, Any]], recorded_engine: str = "") -> str:
        return fingerprinter(recorded_engine)(messages)

    plan = planner.plan(conversation, options, settings, fingerprint)
    try:
        candidate = plan.candidate
        if candidate is not None:        # the replay decision needs it now
            value = fingerprint(conversation.messages, candidate.record.engine)
            request_hash: Callable[[], str] = lambda: value  # noqa: E731
        else:                            # else taken while Claude answers: it is not on the way to the prompt
            history, over = _snapshot(conversation.messages), fingerprinter()
            request_hash = functools.cache(lambda: over(history))
        request = replace(request, emit=_stamping(request.emit, conversation, request_hash))
        if (candidate is not None and settings.replay and not options.fresh
                and candidate.replayable(request_hash())):
            live = lambda: engine_named(choose_engine(settings))  # noqa: E731 - carries on if a tool result changed
            result = ReplayEngine(candidate, live, later=plan.later).run_turn(request)
        else:
            if missing is not None:
                raise missing
            notice = plan.notice()
            if notice:
                request.emit(Notice(notice))
            result = engine_named(engine_name or settings.engine).run_turn(request)
    except BaseException:
        plan.undo(conversation)          # no credential, a bad setting: the old turn stays
        raise
    if plan.saved is not None and not result.replayed and not result.content and result.status != "complete":
        plan.undo(conversation)          # the re-asked turn failed: keep the old one
    else:
        _stamp(conversation, result, request_hash())
    planner.finish(conversation, plan, result.replayed)
    return result


def _snapshot(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation as it stands: a turn only appends messages or replaces the last one's content."""
    history = list(messages)
    if history:
        history[-1] = dict(history[-1])
    return history


def _stamping(emit: Callable[[Event], None], conversation: Conversation,
              request_hash: Callable[[], str]) -> Callable[[Event], None]:
    """`emit`, stamping the result's provenance and withholding thinking that held a secret (`answer_scrubbing`)
    before views see `TurnFinished` (they save it in the notebook, listeners in the store).
    The fingerprint is taken at the first event: for Claude Code that comes after the prompt is written."""
    def stamped(event: Event) -> None:
        request_hash()
        if isinstance(event, TurnFinished):
            _stamp(conversation, event.result, request_hash())
            finish_turn(conversation, event.result)
        emit(event)
    return stamped


def _stamp(conversation: Conversation, result: TurnResult, request_hash: str) -> None:
    """Provenance: the turn's record and result keep the request fingerprint and when it was asked."""
    record = next((record for record in reversed(conversation.turns) if record.id == result.turn_id), None)
    if record is None:
        result.request_hash = request_hash
        return
    if not record.replayed:
        record.request_hash = request_hash
    result.request_hash = record.request_hash
    if result.answered_at is None:
        result.answered_at = record.started_at


def _fingerprinted(request: TurnRequest, definitions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tools that belong in the fingerprint: not those offered only while a page can show them (notebook
    cells), so that a notebook replays the same with or without JupyterLab (nbclient's Run All)."""
    toolbox = request.toolbox
    if toolbox is None:
        return definitions
    kept = []
    for definition in definitions:
        item = toolbox.get(definition.get("name", ""))
        if item is None or item.fingerprinted:
            kept.append(definition)
    return kept
