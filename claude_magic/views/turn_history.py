"""A conversation's finished turns as view transcripts, so stored turns draw and export like live ones.

A finished turn is known only through the `Conversation`: its messages and its `TurnRecord`. This module
replays those into the same `Transcript` the live view folds events into, so `views.static` renders them
identically (the chat panel draws cell turns like its own) and `markdown_export` writes them with the words of
a cell's saved output (`%claude export`).
"""

from __future__ import annotations

from typing import Any

from ..core.conversation import INTERRUPTED_TOOL_RESULT, Conversation, TurnRecord
from ..core.events import BlockFinished, BlockStarted, ThinkingDelta, ToolCallFinished, TurnFinished
from ..core.results import STATUS_MARKERS, TurnResult
from ..tools.consent import DECLINED
from ..tools.output import content_text
from .transcript import Transcript

__all__ = ["turn_transcript", "turn_records", "record_key"]


def turn_records(conversation: Conversation) -> list[tuple[TurnRecord, list[dict[str, Any]]]]:
    """Each finished turn with its messages (a consistent copy, safe while another thread adds a turn)."""
    messages = list(conversation.messages)
    return [(record, messages[record.start:record.end]) for record in list(conversation.turns)]


def record_key(record: TurnRecord) -> tuple[str, int, int, str]:
    """What identifies a turn's drawing: it changes when the turn is replaced or rewritten."""
    return record.id, record.start, record.end, record.status


def turn_transcript(record: TurnRecord, messages: list[dict[str, Any]], conversation: str = "") -> Transcript:
    """The turn as a finished `Transcript`: its blocks in order, tool results on their cards, the footer."""
    transcript = Transcript()
    transcript.model = record.model
    content: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    step = 0
    for message in messages:
        blocks = message["content"]
        if isinstance(blocks, str):
            blocks = [{"type": "text", "text": blocks}]
        if message["role"] == "assistant":
            for index, block in enumerate(blocks):
                _replay_block(transcript, step, index, block)
                if block.get("type") == "tool_use":
                    names[block.get("id", "")] = str(block.get("name", "tool"))
            content.extend(blocks)
            step += 1
            continue
        for block in blocks:
            if block.get("type") == "tool_result":
                tool_use_id = block.get("tool_use_id", "")
                transcript.apply(_tool_finished(tool_use_id, names.get(tool_use_id, "tool"), block))
    transcript.apply(TurnFinished(_result(record, content, step, conversation)))
    return transcript


def _replay_block(transcript: Transcript, step: int, index: int, block: dict[str, Any]) -> None:
    kind = str(block.get("type", ""))
    start = dict(block)
    if kind == "thinking":
        start["thinking"] = ""
    transcript.apply(BlockStarted(step, index, kind, start))
    if kind == "thinking" and block.get("thinking"):
        transcript.apply(ThinkingDelta(step, index, block["thinking"]))
    transcript.apply(BlockFinished(step, index, block))


def _tool_finished(tool_use_id: str, name: str, block: dict[str, Any]) -> ToolCallFinished:
    output = content_text(block.get("content") or "")
    is_error = bool(block.get("is_error"))
    status = "done"
    if is_error:
        status = ("interrupted" if output.startswith(INTERRUPTED_TOOL_RESULT[:40])
                  else "denied" if output == DECLINED or output.startswith("The tool call was not run")
                  else "failed")
    return ToolCallFinished(tool_use_id, name, status, output, is_error, 0.0, display=_images(block.get("content")))


def _images(content: Any) -> tuple[dict[str, str], ...]:
    """Images the tool sent Claude (figures, pictures), shown again on the redrawn card."""
    if not isinstance(content, list):
        return ()
    shown = []
    for item in content:
        source = item.get("source") if isinstance(item, dict) and item.get("type") == "image" else None
        if isinstance(source, dict) and source.get("type") == "base64" and isinstance(source.get("data"), str):
            shown.append({str(source.get("media_type") or "image/png"): source["data"]})
    return tuple(shown)


def _result(record: TurnRecord, content: list[dict[str, Any]], steps: int, conversation: str) -> TurnResult:
    marker = STATUS_MARKERS.get(record.status, "")
    return TurnResult(
        turn_id=record.id, model=record.model, conversation=conversation, content=content,
        usage=record.usage, cost=record.cost, stop_reason=record.stop_reason, status=record.status,
        error=marker.removeprefix("⚠ ") or None, duration=record.duration, steps=max(steps, 1),
        engine=record.engine, credential=record.credential, request_hash=record.request_hash,
        replayed=record.replayed, answered_at=record.started_at, recorded=record if record.replayed else None,
    )
