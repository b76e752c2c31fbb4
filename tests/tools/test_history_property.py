"""Property: any sequence of turns, tool calls, failures, denials, interrupts and errors leaves a valid history.

Each example scripts a few turns for the local server (thinking blocks, parallel tool calls of every kind,
interrupted streams, Stop, API errors, cut connections), runs them through the real agent loop and toolbox,
then checks the history locally and by one more request that the validating server must accept.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_magic.core.cancellation import Cancellation
from claude_magic.core.events import Event, TextDelta
from claude_magic.core.settings import Settings
from claude_magic.session import Session
from claude_magic.testing import ApiError, Drop, LocalServer, Reply, text, thinking, tool_use
from claude_magic.tools import Toolbox, ToolCall, ToolContext
from claude_magic.transport.client import ClientFactory

CALL_KINDS = ("ok", "ok_async", "fail", "odd", "bad_args", "unknown", "denied", "ask_yes", "ask_no",
              "ask_ctrl_c", "ctrl_c", "stop", "hang")
ENDINGS = ("text", "ctrl_c_stream", "stop_stream", "api_error", "cut")


class State:
    """What the module-wide tools reach for the example being run."""

    cancellation = Cancellation()


def build_toolbox() -> Toolbox:
    box = Toolbox()

    @box.tool
    def ok(n: int) -> str:
        """Succeed."""
        return f"ok {n}"

    @box.tool
    async def ok_async(n: int) -> dict[str, int]:
        """Succeed asynchronously."""
        await asyncio.sleep(0)
        return {"n": n}

    @box.tool
    def fail() -> str:
        """Fail."""
        raise ValueError("this tool always fails")

    @box.tool
    def odd() -> Any:
        """Return something that is not JSON."""
        return object()

    @box.tool
    def denied() -> str:
        """Refused by policy."""
        return "must never run"

    @box.tool(consent="ask")
    def asked(answer: str) -> str:
        """Needs consent; the scripted user answers `answer`."""
        return f"ran after {answer}"

    @box.tool(main_thread=True)
    def ctrl_c() -> str:
        """The user presses Ctrl-C while this runs."""
        raise KeyboardInterrupt

    @box.tool
    def stop() -> str:
        """The user presses Stop while this runs."""
        State.cancellation.cancel()
        return "stopped"

    @box.tool
    def hang() -> str:
        """Run past the time limit."""
        for _ in range(300):
            time.sleep(0.01)
        return "too late"

    box.configure(policies={"denied": "deny"})
    return box


TOOLBOX = build_toolbox()
IDS = itertools.count()


def approver(call: ToolCall) -> bool:
    answer = call.input.get("answer")
    if answer == "ctrl_c":
        raise KeyboardInterrupt
    return answer == "yes"


def scripted_call(kind: str) -> Any:
    uid = f"toolu_{next(IDS)}"
    return {
        "ok": lambda: tool_use("ok", {"n": 1}, id=uid),
        "ok_async": lambda: tool_use("ok_async", {"n": 2}, id=uid),
        "fail": lambda: tool_use("fail", {}, id=uid),
        "odd": lambda: tool_use("odd", {}, id=uid),
        "bad_args": lambda: tool_use("ok", {"n": "not a number"}, id=uid),
        "unknown": lambda: tool_use("no_such_tool", {}, id=uid),
        "denied": lambda: tool_use("denied", {}, id=uid),
        "ask_yes": lambda: tool_use("asked", {"answer": "yes"}, id=uid),
        "ask_no": lambda: tool_use("asked", {"answer": "no"}, id=uid),
        "ask_ctrl_c": lambda: tool_use("asked", {"answer": "ctrl_c"}, id=uid),
        "ctrl_c": lambda: tool_use("ctrl_c", {}, id=uid),
        "stop": lambda: tool_use("stop", {}, id=uid),
        "hang": lambda: tool_use("hang", {}, id=uid),
    }[kind]()


tool_step = st.fixed_dictionaries({
    "calls": st.lists(st.sampled_from(CALL_KINDS), min_size=1, max_size=4),
    "thinking": st.booleans(),
    "text": st.booleans(),
})
turn = st.fixed_dictionaries({
    "steps": st.lists(tool_step, max_size=3),
    "ending": st.sampled_from(ENDINGS),
    "cut_after": st.integers(min_value=1, max_value=12),
})


def replies_for(plan: dict[str, Any]) -> list[Any]:
    replies: list[Any] = []
    for step in plan["steps"]:
        blocks: list[Any] = [thinking("Which tools now?")] if step["thinking"] else []
        if step["text"]:
            blocks.append(text("Calling tools."))
        blocks += [scripted_call(kind) for kind in step["calls"]]
        replies.append(Reply(*blocks))
    ending = plan["ending"]
    if ending == "api_error":
        replies.append(ApiError(500))
    elif ending == "cut":
        replies.append(Reply(thinking("Almost."), text("A partial answer that"), scripted_call("ok"),
                             fault=Drop(plan["cut_after"], reset=False)))
    else:
        replies.append(Reply(thinking("Done."), text("The final answer.")))
    return replies


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local


@pytest.fixture(scope="module")
def clients() -> Iterator[ClientFactory]:
    """One client for every example's session (building one costs ~36 ms of TLS set-up: a quarter of an example)."""
    factory = ClientFactory()
    yield factory
    factory.close()


def interrupter(ending: str, final_step: int, cancellation: Cancellation) -> Callable[[Event], None]:
    """An event consumer that presses Ctrl-C or Stop when the final answer starts streaming."""

    def emit(event: Event) -> None:
        if isinstance(event, TextDelta) and event.step == final_step:
            if ending == "ctrl_c_stream":
                raise KeyboardInterrupt
            if ending == "stop_stream":
                cancellation.cancel()

    return emit


def check_shape(messages: list[dict[str, Any]]) -> None:
    """Rules the real API enforces beyond the local validator: results first, never empty."""
    for message in messages:
        content = message["content"]
        if message["role"] != "user" or isinstance(content, str):
            continue
        kinds = [block["type"] for block in content]
        results = [kind for kind in kinds if kind == "tool_result"]
        assert kinds[: len(results)] == results, "tool_result blocks must come first"
        for block in content:
            if block["type"] == "tool_result":
                assert block["content"], "a tool_result must not be empty"


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans=st.lists(turn, min_size=1, max_size=3))
def test_any_sequence_of_turns_leaves_a_history_the_api_accepts(server: LocalServer, clients: ClientFactory,
                                                                 plans: list[dict[str, Any]]) -> None:
    server.clear()
    script: deque[Any] = deque()
    server.default = lambda _body: script.popleft() if script else Reply("Fallback answer.")
    session = Session(Settings(base_url=server.base_url, model="claude-sonnet-5-5", max_retries=0, thinking=2048,
                               max_steps=3, tool_timeout=0.05), toolbox=TOOLBOX)
    session.clients = clients
    context = ToolContext(approver=approver)
    for plan in plans:
        script.clear()
        script.extend(replies_for(plan))
        State.cancellation = cancellation = Cancellation()
        emit = interrupter(plan["ending"], len(plan["steps"]), cancellation)
        result = session.ask("Next request.", emit=emit, cancellation=cancellation, tool_context=context)
        assert result.status in ("complete", "interrupted", "error", "cut_off", "max_steps")
        conversation = session.conversation()
        assert conversation.pending_tool_uses() == []
        check_shape(conversation.messages)
    script.clear()
    final = session.ask("Is everything still valid?")
    assert final.status == "complete", final.error
    assert server.rejections == []
