"""Ctrl-C in a real kernel (`interrupt_kernel()`): while connecting, during the stream, in a tool, at a consent
prompt, during a parallel batch. Each time: the kernel lives, the history is valid (the validating server
accepts the next request), and the next turn works.

tests/kernel/test_interrupt.py and tests/tools/test_kernel_interrupts.py cover the first cases of each
(a text stream, a stalled stream, one slow tool, one consent prompt, a mixed batch); these are the
harder variants: a server that never accepts the connection, the SDK's retry wait, a thinking block or a
tool call cut mid-stream, the live widget view, a tool after an earlier tool round, the second prompt of
a batch, and a batch whose code runs on the main thread.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claude_magic.testing import ApiError, LocalServer, Reply, text, thinking, tool_use

from ..kernel.kernel_driver import INTERRUPTIBLE_TOOLS, KernelDriver, claude_kernel, texts
from ..views.stream_page import PageMirror

REPORT = ("_s = claude_magic.get_session()\n"
          "print('REPORT' + json.dumps({'status': _s.last.status if _s.last else None, "
          "'messages': _s.conversation().messages}))")
ANSWER = " ".join(f"word{number}" for number in range(400))


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local


@pytest.fixture(scope="module")
def marks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("marks")


@pytest.fixture(scope="module")
def kernel(server: LocalServer, marks: Path) -> Iterator[KernelDriver]:
    with claude_kernel(server.base_url, INTERRUPTIBLE_TOOLS.format(marks=str(marks))) as driver:
        yield driver


@pytest.fixture
def fresh(kernel: KernelDriver, server: LocalServer) -> KernelDriver:
    kernel.execute("claude_magic.get_session().conversation().reset()\n%config ClaudeMagic.max_retries = 2")
    server.clear()
    return kernel


def report(kernel: KernelDriver) -> dict[str, Any]:
    output = texts(kernel.execute(REPORT))
    return json.loads(output[output.index("REPORT") + len("REPORT"):].splitlines()[0])


def interrupt(kernel: KernelDriver, messages: list[dict[str, Any]]) -> str:
    """Ctrl-C, then what the cell showed once the kernel is idle again."""
    kernel.manager.interrupt_kernel()
    shown = texts(kernel.wait_idle(messages))
    assert "Traceback" not in shown and "KeyboardInterrupt" not in shown, shown
    assert "Interrupted" in shown, shown
    return shown


def after_interrupt(kernel: KernelDriver, server: LocalServer) -> dict[str, Any]:
    """The kernel lives, the turn says interrupted, and the next turn is accepted; returns the report."""
    state = report(kernel)
    assert state["status"] == "interrupted", state
    assert_answered(state["messages"])
    assert "alive" in texts(kernel.execute("print('alive')"))
    server.queue(Reply(text("Still here after the interrupt.")))
    assert "Still here after the interrupt." in texts(kernel.execute("%%claude\nAre you still there?"))
    assert server.rejections == []
    return state


def assert_answered(messages: list[dict[str, Any]]) -> None:
    """Every tool_use of the history has its tool_result in the next message; no unsigned thinking."""
    for index, message in enumerate(messages):
        uses = [block["id"] for block in message["content"] if block.get("type") == "tool_use"]
        if uses:
            answered = {block["tool_use_id"] for block in messages[index + 1]["content"]
                        if block.get("type") == "tool_result"}
            assert set(uses) <= answered, messages
        for block in message["content"]:
            assert block.get("type") != "thinking" or block.get("signature"), block


def shows(needle: str) -> Any:
    return lambda messages: needle in texts(messages)


def test_interrupt_while_the_server_never_accepts_the_connection(fresh: KernelDriver, server: LocalServer) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)                     # the handshake completes in the backlog; nobody ever answers
        port = silent.getsockname()[1]
        fresh.execute(f"%config ClaudeMagic.base_url = 'http://127.0.0.1:{port}'")
        try:
            messages = fresh.execute("%%claude\nHello?", until=lambda found: len(found) >= 2)
            time.sleep(0.5)
            interrupt(fresh, messages)
        finally:
            fresh.execute("%config ClaudeMagic.base_url = None")
    state = after_interrupt(fresh, server)
    assert state["messages"] == []                        # nothing came back: the turn left no trace


def test_interrupt_during_the_sdks_retry_wait_sends_nothing_later(fresh: KernelDriver, server: LocalServer) -> None:
    server.queue(ApiError(529, retry_after=1.5), Reply(text("a late answer nobody asked for")))
    messages = fresh.execute("%%claude\nHello?", until=lambda _found: len(server.message_requests) >= 1)
    time.sleep(0.2)                                       # the SDK is now sleeping before its retry
    interrupt(fresh, messages)
    state = report(fresh)
    assert state["status"] == "interrupted" and state["messages"] == []
    time.sleep(2.0)                                       # past the retry time: no request may follow
    assert len(server.message_requests) == 1, "the interrupted turn still sent its retry"
    server.clear()
    after_interrupt(fresh, server)


def test_interrupt_while_thinking_streams_drops_the_unsigned_part(fresh: KernelDriver, server: LocalServer) -> None:
    thoughts = " ".join(f"think{number}" for number in range(400))
    server.queue(Reply(thinking(thoughts), text(ANSWER), chunk=6, delay=0.02))
    fresh.execute("%config ClaudeMagic.thinking = 'adaptive'")
    try:
        messages = fresh.execute("%%claude\nThink hard.", until=shows("think5"))
        interrupt(fresh, messages)
    finally:
        fresh.execute("%config ClaudeMagic.thinking = None")
    state = after_interrupt(fresh, server)
    assert state["messages"] == []                        # a thinking block without its signature is not kept


def test_interrupt_while_a_tool_call_streams_keeps_no_half_call(fresh: KernelDriver, server: LocalServer) -> None:
    server.queue(Reply(text("Let me run it."), tool_use("quick", {"note": "x" * 3000}), chunk=4, delay=0.01))
    messages = fresh.execute("%%claude\nRun quick.", until=shows("Tool call"))
    interrupt(fresh, messages)
    state = after_interrupt(fresh, server)
    [assistant] = [message for message in state["messages"] if message["role"] == "assistant"]
    assert [block["type"] for block in assistant["content"]] == ["text"]


def test_interrupt_during_the_stream_in_the_live_widget_view(fresh: KernelDriver, server: LocalServer) -> None:
    """A front end that allows stdin gets the widget view: the interrupt ends it with the static output."""
    server.queue(Reply(text(ANSWER), chunk=6, delay=0.02))

    def painted(found: list[dict[str, Any]]) -> bool:     # the stream widget's updates are deflated: read them
        page = PageMirror()
        for message in found:
            data = message["content"].get("data", {}) if message["msg_type"] == "comm_msg" else {}
            if data.get("method") == "custom":
                page.receive(data["content"], message.get("buffers"))
        return any("word5" in block.html for block in page.blocks)

    messages = fresh.execute("%%claude\nCount slowly.", until=painted, stdin=lambda _request: None)
    shown = interrupt(fresh, messages)
    assert "word5" in shown and "word399" not in shown     # the static output replaced the widgets
    after_interrupt(fresh, server)


def test_interrupt_in_a_tool_after_an_earlier_tool_round(fresh: KernelDriver, server: LocalServer,
                                                          marks: Path) -> None:
    server.queue(Reply(tool_use("quick", {}, id="toolu_first")),
                 Reply(text("Now the slow one."), tool_use("slow", {"mark": "second-round"}, id="toolu_second")))
    messages = fresh.execute("%%claude\nRun both.", until=lambda _found: (marks / "second-round").exists())
    interrupt(fresh, messages)
    state = after_interrupt(fresh, server)
    results = {block["tool_use_id"]: block for message in state["messages"] for block in message["content"]
               if block.get("type") == "tool_result"}
    assert results["toolu_first"]["content"] == "quick result"
    assert results["toolu_second"]["is_error"]


def test_interrupt_at_the_second_consent_prompt_runs_nothing(fresh: KernelDriver, server: LocalServer,
                                                              marks: Path) -> None:
    server.queue(Reply(tool_use("guarded", {"mark": "consent-1"}, id="toolu_c1"),
                       tool_use("guarded", {"mark": "consent-2"}, id="toolu_c2")))
    prompts: list[str] = []

    def answer(request: dict[str, Any]) -> str | None:
        prompts.append(request["content"]["prompt"])
        return "y" if len(prompts) == 1 else None         # yes to the first; the user never answers the second

    messages = fresh.execute("%%claude\nRun both guarded calls.", until=lambda _found: len(prompts) >= 2,
                             stdin=answer)
    interrupt(fresh, messages)
    assert not (marks / "consent-1").exists() and not (marks / "consent-2").exists()
    state = after_interrupt(fresh, server)
    results = [block for message in state["messages"] for block in message["content"]
               if block.get("type") == "tool_result"]
    assert [result["tool_use_id"] for result in results] == ["toolu_c1", "toolu_c2"]
    assert all(result["is_error"] for result in results)


def test_interrupt_during_a_batch_waiting_to_run_code_on_the_main_thread(fresh: KernelDriver, server: LocalServer,
                                                                        marks: Path) -> None:
    """run_python waits for the calls before it (it runs on the main thread); Ctrl-C during that wait."""
    fresh.execute("claude_magic.get_session().toolbox.set_policy('run_python', 'allow')")
    code = f"import pathlib\npathlib.Path({str(marks / 'batch-main')!r}).touch()"
    server.queue(Reply(tool_use("slow_async", {"mark": "batch-loop"}, id="toolu_async"),
                       tool_use("run_python", {"code": code}, id="toolu_main")))
    try:
        messages = fresh.execute("%%claude\nRun them.", until=lambda _found: (marks / "batch-loop").exists())
        time.sleep(0.2)
        interrupt(fresh, messages)
        state = after_interrupt(fresh, server)
    finally:
        fresh.execute("claude_magic.get_session().toolbox.set_policy('run_python', 'ask')")
    assert not (marks / "batch-main").exists()
    results = [block for block in state["messages"][2]["content"] if block.get("type") == "tool_result"]
    assert [result["tool_use_id"] for result in results] == ["toolu_async", "toolu_main"]
    assert all(result["is_error"] for result in results)
