"""What a turn says about the context: the API's context management asked for, its lines, the gauge, the warning.

Per step: `managed_params` adds the edits the model supports (`transport.context_management`); `report` turns
the response into one line when a compaction or a new clearing happened (with what it saved), fills the result's
gauge (`context_tokens` / `context_window`) and, for a model without compaction, warns once per conversation
when the whole conversation, sent every turn, passes `WARN_SHARE` of the window.
"""

from __future__ import annotations

import weakref
from typing import Any

from ..core.conversation import Conversation
from ..core.events import Event, Notice
from ..core.results import TurnResult
from ..core.settings import Settings
from ..transport.context_management import ContextSupport, context_support, with_context_management
from ..transport.context_window import ModelCatalog
from ..transport.credentials import credential_error
from ..transport.stream import StepOutcome

__all__ = ["ContextState", "managed_params", "report", "WARN_SHARE"]

WARN_SHARE = 0.6


class ContextState:
    """What one conversation's turns have said already (clearings counted, the warning given); kept in memory."""

    def __init__(self) -> None:
        self.cleared = 0
        self.warned = False


_states: weakref.WeakKeyDictionary[Conversation, ContextState] = weakref.WeakKeyDictionary()


def _state(conversation: Conversation) -> ContextState:
    state = _states.get(conversation)
    if state is None:
        state = _states[conversation] = ContextState()
    return state


def model_context(client: Any, catalog: ModelCatalog | None, model: str) -> tuple[ContextSupport, int]:
    """What the model supports and its window (nothing and 0 when the server cannot say)."""
    if catalog is None:
        return ContextSupport(), 0
    import anthropic

    try:
        info = catalog.info(client, model)
    except anthropic.AnthropicError as error:
        credential = credential_error(error)  # no token could be had (a refused refresh): the turn's error, asked once
        if credential is not None:
            raise credential from None
        return ContextSupport(), 0            # else the request itself will say what is wrong
    window = int(getattr(info, "max_input_tokens", 0) or 0) if info is not None else 0
    return context_support(info), window


def managed_params(client: Any, params: dict[str, Any], settings: Settings,
                   catalog: ModelCatalog | None) -> tuple[dict[str, Any], ContextSupport, int]:
    """`params` with the context management the model supports (and the window it was sized for)."""
    if settings.context_management == "off" and not _carries_compaction(params):
        return params, ContextSupport(), 0
    support, window = model_context(client, catalog, params["model"])
    return with_context_management(params, settings, support, window), support, window


def _carries_compaction(params: dict[str, Any]) -> bool:
    first = params["messages"][0]["content"] if params["messages"] else None
    return isinstance(first, list) and bool(first) and first[0].get("type") == "compaction"


def report(outcome: StepOutcome, conversation: Conversation, settings: Settings, support: ContextSupport,
           window: int, result: TurnResult, emit: Any) -> None:
    """The gauge on `result`, and one line for a compaction, a new clearing or a context filling up."""
    usage = outcome.usage
    if usage.total_input_tokens:
        result.context_tokens = usage.total_input_tokens + usage.output_tokens
        result.context_window = window
    state = _state(conversation)
    for block in outcome.content:
        if block.get("type") == "compaction" and block.get("content"):
            _say(emit, compaction_line(outcome, block))
            state.cleared = 0
    for edit in (outcome.context_management or {}).get("applied_edits") or ():
        if edit.get("type") == "clear_tool_uses_20250919":
            count = int(edit.get("cleared_tool_uses") or 0)
            if count > state.cleared:
                _say(emit, f"Context: {count} old tool result{'s' if count != 1 else ''} "
                           f"({int(edit.get('cleared_input_tokens') or 0):,} tokens) cleared from what Claude "
                           "re-reads; you still see them in the notebook, and the history keeps them.")
            state.cleared = count
    if (settings.context_management == "auto" and not support.compact and window and not state.warned
            and result.context_tokens > WARN_SHARE * window):
        state.warned = True
        share = round(100 * result.context_tokens / window)
        why = "does not offer compaction" if support.known else "is not described by the server (no compaction)"
        _say(emit, f"{result.model} {why}, so every turn sends the whole conversation: it now fills {share} % of the "
                   f"{window:,}-token context window. Drop turns with `%claude pop`, start over with `%claude reset`, "
                   "or ask for a summary in a `%%claude --new` cell and continue from it.", "warning")


def compaction_line(outcome: StepOutcome, block: dict[str, Any]) -> str:
    """e.g. `Context compacted: 182,000 tokens of conversation now read as a 1,200-token summary …`."""
    read, summary = outcome.compaction_usage.input_tokens, outcome.compaction_usage.output_tokens
    saved = f"{read:,} tokens of conversation now read as a {summary:,}-token summary" if read else \
        "the conversation so far now reads as a summary"
    return (f"Context compacted: {saved}. Every turn stays in the notebook, the history and the store "
            "(`%claude history --full` shows the summary).")


def _say(emit: Any, text: str, level: str = "info") -> None:
    event: Event = Notice(text, level)
    emit(event)
