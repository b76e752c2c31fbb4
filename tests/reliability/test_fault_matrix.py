"""The fault matrix: every API and transport fault in a `%%claude` cell, in a tool loop and in the chat panel.

Each case checks: one clear line that says what to do (and how many retries the SDK made), the partial
output kept and marked, the next turn in the same place succeeds, and the validating server never
refused a history (`server.rejections == []`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from claude_magic.testing import (
    ApiError,
    Drop,
    LocalServer,
    Malformed,
    MidStreamError,
    Reply,
    Stall,
    block,
    text,
    tool_use,
)

from .conftest import TIMEOUT
from .places import TOOL_RESULT, CellPlace, PanelPlace, Place, Seen, ToolLoopPlace

LONG = "This answer is long enough to be cut in the middle of a sentence. " * 6
PARTIAL = LONG[:20]
SEARCH = {"type": "server_tool_use", "id": "srvtoolu_local_1", "name": "web_search", "input": {"query": "news"}}


@dataclass(frozen=True)
class Fault:
    """One row of the matrix: what the server does, and what the user must be told."""

    name: str
    items: tuple[Any, ...] = ()
    expect: str = ""                    # in the one line the user reads
    action: str = ""                    # the part of that line that says what to do
    status: str = "error"               # the turn's result.status
    attempts: int = 1                   # requests the failing step sent (SDK retries + 1)
    partial: bool = False               # part of the answer streamed before the fault: kept and marked
    hook: str = ""                      # "refuse" (server down) or "unknown_model" at the failing point
    timeout: float | None = None
    notice: bool = False                # the line is a warning notice (the turn itself completed)
    extra: dict[str, Any] = field(default_factory=dict)


def retry_errors(status: int, retry_after: float = 0.01) -> tuple[ApiError, ...]:
    return tuple(ApiError(status, retry_after=retry_after) for _ in range(3))


FAULTS = [
    Fault("400 invalid request", (ApiError(400, message="messages.0.content.0.image.source: bad image"),),
          "The API refused the request (400", "Fix what it names"),
    Fault("401 authentication", (ApiError(401),), "Authentication failed (401)", "Check ANTHROPIC_API_KEY"),
    Fault("403 permission", (ApiError(403),), "Permission denied (403)", "another model"),
    Fault("404 unknown model", (), "was not found", "`%claude models` lists", hook="unknown_model"),
    Fault("413 request too large", (ApiError(413),), "Request too large (413)", "Remove attachments"),
    Fault("429 with retry-after", retry_errors(429, 0.05), "Rate limited (429) after 2 retries", "Wait a little",
          attempts=3),
    Fault("500 internal error", retry_errors(500), "internal error (500) after 2 retries", "Try again shortly",
          attempts=3),
    Fault("529 overloaded", retry_errors(529), "Claude is overloaded (529) after 2 retries", "Try again in a moment",
          attempts=3),
    Fault("refused connection", (), "after 2 retries", "check that you are online", hook="refuse", attempts=0),
    Fault("dropped mid-stream", (Reply(text(LONG), chunk=10, fault=Drop(after_events=8)),),
          "connection dropped mid-answer", "try again", status="cut_off", partial=True),
    Fault("mid-stream error (overloaded)", (Reply(text(LONG), chunk=10, fault=MidStreamError(after_events=8)),),
          "cut off mid-stream: Claude is overloaded", "try again", status="cut_off", partial=True),
    Fault("malformed SSE", (Reply(text(LONG), chunk=10, fault=Malformed(after_events=8)),),
          "malformed stream event", "try again", status="cut_off", partial=True),
    Fault("stalled stream (read timeout)", (Reply(text(LONG), chunk=10, fault=Stall(after_events=8, seconds=30)),),
          "the server sent nothing", "ClaudeMagic.timeout", status="cut_off", partial=True, timeout=TIMEOUT),
    Fault("max_tokens reached", (Reply(text(LONG), stop_reason="max_tokens"),), "stopped early (max_tokens)",
          "raise --max-tokens", status="complete", partial=True, notice=True),
    Fault("max_tokens inside a tool call", (Reply(text("I will look."), tool_use("lookup", {"key": "y"}),
                                                  stop_reason="max_tokens"),),
          "stopped early (max_tokens)", "raise --max-tokens", status="complete", notice=True),
    Fault("refusal", (Reply(text("I can't help with that."), stop_reason="refusal"),), "declined to answer",
          "rephrase", status="complete", notice=True),
    Fault("pause_turn", (Reply(text("Searching."), block(SEARCH), stop_reason="pause_turn"),
                         Reply(text("Found it: the news."))), status="complete", attempts=2),
]
PLACES = ["cell", "tool loop", "panel"]


@pytest.fixture
def make_place(request: pytest.FixtureRequest, claude_server: LocalServer) -> Iterator[Callable[[str], Place]]:
    """Build a place by name (fixtures of the shell or the panel are only set up when used)."""
    models = dict(claude_server.models)

    def make(name: str) -> Place:
        if name == "panel":
            return PanelPlace(claude_server, request.getfixturevalue("panel"))
        shell, capsys = request.getfixturevalue("shell"), request.getfixturevalue("capsys")
        return (ToolLoopPlace if name == "tool loop" else CellPlace)(claude_server, shell, capsys)

    yield make
    claude_server.models.clear()
    claude_server.models.update(models)
    claude_server.start()


def arm(place: Place, fault: Fault, server: LocalServer) -> None:
    """Set up what happens at the failing point (before the request that fails)."""
    if fault.hook == "refuse":
        place.hook = server.stop
    elif fault.hook == "unknown_model":
        place.hook = lambda: server.models.clear()
    if fault.timeout is not None:
        place.set_timeout(fault.timeout)


def disarm(place: Place, fault: Fault, server: LocalServer, models: dict[str, Any]) -> None:
    place.hook = None
    server.start()
    server.models.update(models)
    if fault.timeout is not None:
        place.set_timeout(600.0)


def check_line(seen: Seen, fault: Fault) -> None:
    """Exactly the one line, saying what happened and what to do; no traceback."""
    assert "Traceback" not in seen.shown and "site-packages" not in seen.shown, seen.shown
    result = seen.result
    assert result is not None
    if fault.notice or not fault.expect:
        assert result.error is None
    else:
        assert result.error is not None and "\n" not in result.error, result.error
        assert fault.expect in result.error and fault.action in result.error, result.error
    if fault.expect:
        lines = seen.lines_with(fault.expect)
        assert lines, seen.shown
        assert fault.action in lines[0], lines[0]


def check_kept_and_marked(seen: Seen, fault: Fault, place: Place) -> None:
    """Partial output stays visible and in the conversation, and is marked as incomplete."""
    result = seen.result
    assert result is not None and result.status == fault.status, (result.status if result else None, result)
    messages = place.conversation_messages()
    answers = " ".join(block.get("text", "") for message in messages if message["role"] == "assistant"
                       for block in message["content"] if block.get("type") == "text")
    if fault.partial:
        assert PARTIAL in seen.shown, seen.shown
        assert PARTIAL in answers
        if fault.status == "cut_off":
            assert result.marker and (result.marker in seen.shown or f"⚠ {result.error}" in seen.shown), seen.shown
    if isinstance(place, ToolLoopPlace):
        assert TOOL_RESULT in str(messages)                        # the finished tool step is kept
        assert result.marker in seen.shown or fault.status == "complete"
    elif not fault.partial and fault.status == "error":
        assert messages == []                                      # nothing came back: no trace


def check_attempts(seen: Seen, fault: Fault, place: Place) -> None:
    """Retries are the SDK's: the requests the server got, and the count the line gives."""
    tool_step = 1 if isinstance(place, ToolLoopPlace) else 0
    assert seen.requests == tool_step + fault.attempts, seen.requests
    retries = 2 if "after 2 retries" in fault.expect else 0
    assert seen.result is not None and seen.result.retries == retries


def next_turn_works(place: Place, server: LocalServer) -> None:
    seen = place.ask("Are you there?", Reply(text("Recovered fine.")))
    assert seen.result is not None and seen.result.status == "complete", seen.result
    assert "Recovered fine." in seen.result.text and "Recovered fine." in seen.shown
    assert server.rejections == []


@pytest.mark.parametrize("where", PLACES)
@pytest.mark.parametrize("fault", FAULTS, ids=[fault.name for fault in FAULTS])
def test_fault(fault: Fault, where: str, make_place: Callable[[str], Place], claude_server: LocalServer) -> None:
    place = make_place(where)
    models = dict(claude_server.models)
    arm(place, fault, claude_server)
    try:
        seen = place.ask("Tell me something long.", *fault.items)
    finally:
        disarm(place, fault, claude_server, models)
    check_line(seen, fault)
    check_kept_and_marked(seen, fault, place)
    check_attempts(seen, fault, place)
    if fault.name == "pause_turn":
        check_pause_turn(seen, claude_server)
    if fault.name == "max_tokens inside a tool call":
        assert "not run" in str(place.conversation_messages()[-1]["content"])
    next_turn_works(place, claude_server)
    assert claude_server.rejections == []


def check_pause_turn(seen: Seen, server: LocalServer) -> None:
    """The paused turn went back unchanged and the continuation was joined to it."""
    assert seen.result is not None and "Found it: the news." in seen.result.text
    continued = server.message_requests[-1]
    assert continued["messages"][-1]["role"] == "assistant"
    assert continued["messages"][-1]["content"][-1] == SEARCH


def test_pause_turn_that_never_ends_stops_at_the_step_limit(make_place: Callable[[str], Place],
                                                            claude_server: LocalServer) -> None:
    place = make_place("cell")
    assert isinstance(place, CellPlace)
    place.magic.max_steps = 3
    paused = [Reply(text(f"Still searching ({number})."), block({**SEARCH, "id": f"srvtoolu_local_{number}"}),
                    stop_reason="pause_turn") for number in range(3)]
    seen = place.ask("Search forever.", *paused)
    assert seen.result is not None and seen.result.status == "max_steps" and seen.requests == 3
    assert "Stopped after 3 steps" in seen.shown and "ask Claude to continue" in seen.shown
    next_turn_works(place, claude_server)
