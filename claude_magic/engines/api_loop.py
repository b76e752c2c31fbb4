"""The Messages-API agent loop: stream a step, run requested tools, send results back, until Claude stops."""

from __future__ import annotations

import copy
import time
from typing import Any

from ..core.conversation import INTERRUPTED_TOOL_RESULT, Conversation, TurnRecord
from ..core.errors import ApiError, TurnInterrupted
from ..core.events import Notice, StepFinished, StepStarted, TurnFinished, TurnStarted
from ..core.model_names import resolve_model
from ..core.pricing import cost_of
from ..core.redaction import redact, redact_content
from ..core.results import TurnResult
from ..transport.client import resolved_base_url
from ..transport.context_management import sent_messages
from ..transport.context_window import ContextOverflow, ModelCatalog, check_fits
from ..transport.credentials import credential_error
from ..transport.errors import cut_off_error, translate_exception
from ..transport.request import build_params
from ..transport.stream import stream_step
from .base import TurnRequest
from .budget import over_budget
from .context_notes import managed_params, report

__all__ = ["run_turn", "continue_turn"]


def run_turn(client: Any, request: TurnRequest, credential: str = "") -> TurnResult:
    """Run one prompt to the end; the conversation is valid afterwards whatever happened."""
    conversation, settings, toolbox, emit = request.conversation, request.settings, request.toolbox, request.emit
    model = resolve_model(settings.model, settings.aliases)
    # an interpolated os.environ, a pasted key
    prompt, prompt_text = redact_content(request.prompt), redact(request.prompt_text)
    record = TurnRecord(prompt=prompt_text, cell_id=request.cell_id, model=model, engine="api", credential=credential)
    result = TurnResult(turn_id=record.id, model=model, conversation=conversation.name, engine="api",
                        credential=credential)
    checkpoint = _checkpoint(conversation)
    record.start = len(conversation.messages) - (1 if conversation.messages and
                                                    conversation.messages[-1]["role"] == "user" else 0)
    tools = toolbox.definitions(request.tool_names) if toolbox is not None else []
    conversation.add_user(prompt)
    started = time.perf_counter()
    emit(TurnStarted(record.id, model, conversation.name, prompt_text))
    try:
        _loop(client, request, tools, result)
    except KeyboardInterrupt as interrupt:
        _answer_interrupted_tools(conversation, interrupt)
        result.status, result.error = "interrupted", str(TurnInterrupted())
    except BaseException:
        _restore(conversation, checkpoint)   # not an API failure (a bad setting, a bug): no trace, keep the error
        raise
    result.duration = time.perf_counter() - started
    result.cost = cost_of(result.usage, model, request.prices)
    if not result.content and result.status != "complete" and not _has_tool_results(conversation, checkpoint):
        _restore(conversation, checkpoint)          # nothing came back: the turn leaves no trace
    else:
        record.end = len(conversation.messages)
        record.usage, record.cost, record.stop_reason = result.usage, result.cost, result.stop_reason
        record.status, record.duration = result.status, result.duration
        conversation.turns.append(record)
    emit(TurnFinished(result))
    return result


def continue_turn(client: Any, request: TurnRequest, result: TurnResult) -> None:
    """Go on with a started turn whose conversation ends with tool results (a replay whose tool result
    changed): the loop only, from step `result.steps`, adding to `result`; Ctrl-C ends it as interrupted."""
    toolbox = request.toolbox
    tools = toolbox.definitions(request.tool_names) if toolbox is not None else []
    try:
        _loop(client, request, tools, result, first_step=result.steps)
    except KeyboardInterrupt as interrupt:
        _answer_interrupted_tools(request.conversation, interrupt)
        result.status, result.error = "interrupted", str(TurnInterrupted())


def _loop(client: Any, request: TurnRequest, tools: list[dict[str, Any]], result: TurnResult,
          first_step: int = 0) -> None:
    """Steps until Claude stops, a tool round at a time, adding to `result`."""
    conversation, settings, toolbox, emit = request.conversation, request.settings, request.toolbox, request.emit
    cancellation, catalog = request.cancellation, request.catalog
    base_url = resolved_base_url(settings)
    for step in range(first_step, settings.max_steps):
        if over_budget(request, result):
            conversation.answer_pending("Not run: the session reached ClaudeMagic.max_budget_usd.")
            return
        try:
            params, support, window = _request_params(client, request, tools)
        except ApiError as error:           # the model lookup could not get a token (a refused refresh)
            conversation.answer_pending("Not run: no access token for the API could be obtained.")
            result.status, result.error = "error", str(error)
            return
        if catalog is not None and settings.context_window_check:
            refusal, pending_answer = _context_check(client, params, catalog)
            if refusal:
                conversation.answer_pending(pending_answer)
                result.status, result.error = "error", refusal
                return
        emit(StepStarted(step))
        outcome = stream_step(client, params, step, emit, cancellation)
        if outcome.error is not None and not outcome.started and request.uploads is not None \
                and request.uploads.recover(client, outcome.error):          # a file the API no longer has: upload it again
            params = _request_params(client, request, tools)[0]
            outcome = stream_step(client, params, step, emit, cancellation)
        result.steps += 1
        result.retries += outcome.retries
        result.usage = result.usage + outcome.usage + outcome.compaction_usage   # a compaction is billed apart
        if outcome.message is not None:
            result.messages.append(outcome.message)
        conversation.add_assistant(outcome.content)
        result.content.extend(outcome.content)
        report(outcome, conversation, settings, support, window, result, emit)
        emit(StepFinished(step, outcome.stop_reason, outcome.usage, outcome.complete))
        if outcome.interrupted:
            raise KeyboardInterrupt
        if outcome.error is not None or not outcome.complete:
            conversation.answer_pending(INTERRUPTED_TOOL_RESULT.replace("interrupted by the user",
                                                                        "cut off by an error"))
            error = translate_exception(outcome.error, model=params["model"], base_url=base_url,
                                        retries=outcome.retries, streaming_started=outcome.started) \
                if outcome.error is not None else cut_off_error()
            if error is None:
                raise outcome.error  # a real bug: keep its traceback
            result.status = "cut_off" if outcome.started else "error"
            result.error = str(error)
            return
        result.stop_reason = outcome.stop_reason
        if outcome.stop_reason == "tool_use":
            calls = conversation.pending_tool_uses()
            if toolbox is None:
                conversation.answer_pending("No tools are available in this session.")
            else:
                conversation.add_user(toolbox.run(calls, emit, cancellation, request.tool_context, settings=settings,
                                                  conversation=conversation.name))
            continue
        if outcome.stop_reason in ("pause_turn", "compaction"):   # paused (server tools, or after compacting)
            continue
        conversation.answer_pending(f"The tool call was not run: the answer stopped early ({outcome.stop_reason}) "
                                    "before Claude finished it.")
        if outcome.stop_reason in ("max_tokens", "model_context_window_exceeded"):
            emit(Notice(f"The answer stopped early ({outcome.stop_reason}): raise --max-tokens or ask "
                        "Claude to continue.", "warning"))
        elif outcome.stop_reason == "refusal":
            emit(Notice("Claude declined to answer this request (stop reason: refusal): rephrase it, or drop "
                        "this turn with `%claude pop`.", "warning"))
        return
    result.status = "max_steps"
    result.error = (f"Stopped after {settings.max_steps} steps (ClaudeMagic.max_steps); the tool results so "
                    "far are kept — ask Claude to continue if you want more.")
    emit(Notice(result.error, "warning"))


def _request_params(client: Any, request: TurnRequest, tools: list[dict[str, Any]]) -> tuple[dict[str, Any], Any, int]:
    """The next request: the conversation from its last compaction on, large attachments by file id, and the context
    management the model supports (with what it supports and the window it was sized for)."""
    params = build_params(sent_messages(request.conversation.messages), request.settings, tools)
    params = _with_files(client, request, params)
    return managed_params(client, params, request.settings, request.catalog)


def _with_files(client: Any, request: TurnRequest, params: dict[str, Any]) -> dict[str, Any]:
    """`params` with large attachments sent by file id (`transport.file_uploads`); inline, with a note, when the
    server has no Files API or refuses the upload."""
    uploads, above = request.uploads, request.settings.files_api_above
    if uploads is None or above is None:
        return params
    import anthropic

    try:
        return uploads.prepare(client, params, above)
    except anthropic.APIStatusError as error:
        said = f"({error.status_code}: {redact(str(getattr(error, 'message', error)))[:200]})"
        if error.status_code in (400, 404, 405, 413, 415):      # this server does not take the upload
            uploads.unavailable(client)
            request.emit(Notice(f"Attachments are sent inline in this session: the Files API upload failed {said}.",
                                "warning"))
        else:                                                  # a key, rate or server problem: the request says
            request.emit(Notice(f"The attachment is sent inline this time: the Files API upload failed {said}.",
                                "warning"))
    except (anthropic.APIError, ValueError) as error:     # no connection (the request will say so), bad base64
        request.emit(Notice(f"The attachment is sent inline this time: the Files API upload failed "
                            f"({type(error).__name__}).", "warning"))
    return params


def _context_check(client: Any, params: dict[str, Any], catalog: ModelCatalog) -> tuple[str, str]:
    """(one-line error, answer for pending tool calls) when the request must not be sent, else ("", "").

    It refuses a request that cannot fit; the check's own requests (model info, token count) may also fail to
    get a credential (a profile's refresh refused): that is the turn's error too, as one line. Any other API
    failure of the check is left to the request itself (the server cannot tell the window)."""
    import anthropic

    try:
        check_fits(client, params, catalog)
    except ContextOverflow as overflow:
        return str(overflow), "Not run: the conversation no longer fits the context window."
    except anthropic.AnthropicError as error:
        credential = credential_error(error)
        if credential is not None:
            return str(credential), "Not run: no access token for the API could be obtained."
        return "", ""
    return "", ""


def _answer_interrupted_tools(conversation: Conversation, interrupt: KeyboardInterrupt) -> None:
    """Keep results of tools that finished before the interrupt; answer the rest as interrupted."""
    finished: dict[str, dict[str, Any]] = getattr(interrupt, "results", None) or {}
    pending = conversation.pending_tool_uses()
    if finished and pending:
        conversation.add_user([
            finished.get(call["id"]) or {"type": "tool_result", "tool_use_id": call["id"],
                                         "content": INTERRUPTED_TOOL_RESULT, "is_error": True}
            for call in pending
        ])
    conversation.answer_pending()


def _checkpoint(conversation: Conversation) -> tuple[int, dict[str, Any] | None]:
    last = copy.deepcopy(conversation.messages[-1]) if conversation.messages else None
    return len(conversation.messages), last


def _restore(conversation: Conversation, checkpoint: tuple[int, dict[str, Any] | None]) -> None:
    length, last = checkpoint
    conversation.truncate(length)
    if last is not None:
        conversation.messages[length - 1] = last


def _has_tool_results(conversation: Conversation, checkpoint: tuple[int, dict[str, Any] | None]) -> bool:
    """Whether the turn already added messages beyond its prompt (tool rounds)."""
    return len(conversation.messages) > checkpoint[0] + 1
