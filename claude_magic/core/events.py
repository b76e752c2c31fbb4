"""Events emitted by a turn: the seam between the agent loop and every view."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from .results import TurnResult
    from .usage import Usage

__all__ = [
    "TurnStarted", "StepStarted", "BlockStarted", "TextDelta", "ThinkingDelta", "ToolInputDelta",
    "BlockFinished", "StepFinished", "ToolCallStarted", "ConsentRequested", "ToolCallFinished",
    "Notice", "TurnFinished", "Event",
]


@dataclass(frozen=True, slots=True)
class TurnStarted:
    """A turn begins: one prompt, possibly several API calls (steps)."""

    turn_id: str
    model: str
    conversation: str
    prompt: str


@dataclass(frozen=True, slots=True)
class StepStarted:
    """An API call starts; block indexes restart at 0 for each step."""

    step: int


@dataclass(frozen=True, slots=True)
class BlockStarted:
    """A content block opened (`block` is its initial form as the API sent it)."""

    step: int
    index: int
    block_type: str
    block: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TextDelta:
    """Text appended to a text block."""

    step: int
    index: int
    text: str


@dataclass(frozen=True, slots=True)
class ThinkingDelta:
    """Thinking text appended to a thinking block."""

    step: int
    index: int
    thinking: str


@dataclass(frozen=True, slots=True)
class ToolInputDelta:
    """A fragment of a tool call's JSON input."""

    step: int
    index: int
    partial_json: str


@dataclass(frozen=True, slots=True)
class BlockFinished:
    """A content block is complete; `block` is what goes back to the API."""

    step: int
    index: int
    block: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StepFinished:
    """An API call ended (`complete` is False when the stream was cut or interrupted)."""

    step: int
    stop_reason: str | None
    usage: Usage
    complete: bool = True


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    """A requested tool call is about to be considered (consent, then running)."""

    tool_use_id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ConsentRequested:
    """The user is asked whether a tool call may run."""

    tool_use_id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolCallFinished:
    """A tool call ended: status is done, failed, denied, timeout or interrupted."""

    tool_use_id: str
    name: str
    status: str
    output: str
    is_error: bool
    duration: float
    display: tuple[Any, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should read: a retry made, a step limit, a warning."""

    text: str
    level: str = "info"


@dataclass(frozen=True, slots=True)
class TurnFinished:
    """The turn ended, normally or not; `result.status` says how."""

    result: TurnResult


Event = Union[  # noqa: UP007 - a runtime alias that must also work on Python 3.10
    TurnStarted, StepStarted, BlockStarted, TextDelta, ThinkingDelta, ToolInputDelta, BlockFinished,
    StepFinished, ToolCallStarted, ConsentRequested, ToolCallFinished, Notice, TurnFinished,
]
