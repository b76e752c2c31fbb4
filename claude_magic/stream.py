"""One streamed API call: SDK events in, our events out, the (possibly partial) content kept."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .cancellation import Cancellation
from .events import BlockFinished, BlockStarted, Event, TextDelta, ThinkingDelta, ToolInputDelta
from .usage import Usage

__all__ = ["StepOutcome", "stream_step", "block_to_param"]


@dataclass
class StepOutcome:
    """What one API call produced."""

    content: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    message: Any = None                  # the SDK `Message` (final or partial snapshot)
    complete: bool = False               # `message_stop` arrived
    started: bool = False                # `message_start` arrived
    error: BaseException | None = None   # what ended the stream early, if anything
    interrupted: bool = False


def block_to_param(block: Any) -> dict[str, Any]:
    """An SDK content block as the dict that goes back to the API unchanged."""
    data = block.to_dict(exclude_none=True) if hasattr(block, "to_dict") else dict(block)
    data.pop("parsed_output", None)
    return data


def _keepable(block: dict[str, Any], finished: bool) -> bool:
    """Whether a (possibly partial) block can go back to the API."""
    kind = block.get("type")
    if kind == "text":
        return bool(block.get("text", "").strip())
    if kind == "thinking":
        return finished and bool(block.get("signature"))
    return finished


def stream_step(client: Any, params: dict[str, Any], step: int, emit: Callable[[Event], None],
                cancellation: Cancellation | None = None) -> StepOutcome:
    """Stream one request, emitting events; never raises for API/transport errors or Ctrl-C."""
    outcome = StepOutcome()
    finished: set[int] = set()
    stream = None
    unregister = None
    try:
        with client.messages.stream(**params) as stream:
            if cancellation is not None:
                unregister = cancellation.on_cancel(stream.close)
                if cancellation.cancelled:
                    raise KeyboardInterrupt
            for event in stream:
                kind = event.type
                if kind == "content_block_delta":
                    delta = event.delta
                    delta_type = delta.type
                    if delta_type == "text_delta":
                        emit(TextDelta(step, event.index, delta.text))
                    elif delta_type == "thinking_delta":
                        emit(ThinkingDelta(step, event.index, delta.thinking))
                    elif delta_type == "input_json_delta":
                        emit(ToolInputDelta(step, event.index, delta.partial_json))
                elif kind == "content_block_start":
                    block = event.content_block
                    emit(BlockStarted(step, event.index, block.type, block_to_param(block)))
                elif kind == "content_block_stop":
                    finished.add(event.index)
                    emit(BlockFinished(step, event.index, block_to_param(event.content_block)))
                elif kind == "message_start":
                    outcome.started = True
                elif kind == "message_stop":
                    outcome.complete = True
                if cancellation is not None and cancellation.cancelled:
                    raise KeyboardInterrupt
    except KeyboardInterrupt:
        outcome.interrupted = True
    except Exception as exc:  # noqa: BLE001 - classified by the caller, content kept
        if cancellation is not None and cancellation.cancelled:
            outcome.interrupted = True
        else:
            outcome.error = exc
    finally:
        if unregister is not None:
            unregister()
    snapshot = _snapshot(stream)
    if snapshot is not None:
        outcome.started = True
        outcome.message = snapshot
        outcome.stop_reason = snapshot.stop_reason if outcome.complete else None
        outcome.usage = Usage.from_sdk(snapshot.usage)
        blocks = [(index, block_to_param(block)) for index, block in enumerate(snapshot.content)]
        outcome.content = [block for index, block in blocks
                           if _keepable(block, outcome.complete or index in finished)]
    return outcome


def _snapshot(stream: Any) -> Any:
    """The message as far as it arrived (None before `message_start`)."""
    if stream is None:
        return None
    try:
        return stream.current_message_snapshot
    except (AssertionError, AttributeError, RuntimeError):
        return None
