"""Ctrl-C in a real kernel (jupyter_client interrupt) during a tool, a consent prompt and a parallel batch.

Each time the turn stops, every pending `tool_use` is answered, the kernel survives and the next turn is
accepted by the validating server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claude_magic.testing import LocalServer, Reply, text, tool_use

from ..kernel.kernel_driver import INTERRUPTIBLE_TOOLS, KernelDriver, claude_kernel, texts

REPORT = """
import json
_session = claude_magic.get_session()
print("REPORT" + json.dumps({"status": _session.last.status, "last": _session.conversation().messages[-1]}))
"""


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
    kernel.execute("claude_magic.get_session().conversation().reset()")
    server.clear()
    return kernel


def report(kernel: KernelDriver) -> dict[str, Any]:
    output = texts(kernel.execute(REPORT))
    return json.loads(output[output.index("REPORT") + len("REPORT"):].splitlines()[0])


def interrupted_answers(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    assert state["last"]["role"] == "user"
    return {block["tool_use_id"]: block for block in state["last"]["content"] if block["type"] == "tool_result"}


def assert_next_turn_works(kernel: KernelDriver, server: LocalServer) -> None:
    server.queue(Reply(text("Still here after the interrupt.")))
    assert "Still here after the interrupt." in texts(kernel.execute("%%claude\nAre you still there?"))
    assert server.rejections == []


def test_interrupt_while_a_tool_runs(fresh: KernelDriver, server: LocalServer, marks: Path) -> None:
    server.queue(Reply(text("Running it."), tool_use("slow", {"mark": "single"}, id="toolu_slow")))
    messages = fresh.execute("%%claude\nRun the slow tool.", until=lambda _found: (marks / "single").exists())
    fresh.manager.interrupt_kernel()
    output = texts(fresh.wait_idle(messages))
    assert "Traceback" not in output
    state = report(fresh)
    assert state["status"] == "interrupted"
    answer = interrupted_answers(state)["toolu_slow"]
    assert answer["is_error"] and "interrupted" in answer["content"]
    assert_next_turn_works(fresh, server)


def test_interrupt_at_the_consent_prompt_runs_nothing(fresh: KernelDriver, server: LocalServer, marks: Path) -> None:
    server.queue(Reply(tool_use("guarded", {"mark": "consent"}, id="toolu_guarded")))
    prompts: list[dict[str, Any]] = []
    messages = fresh.execute("%%claude\nRun the guarded tool.", until=lambda _found: bool(prompts),
                             stdin=prompts.append)          # collects the prompt and answers nothing
    assert prompts[0]["msg_type"] == "input_request" and "guarded" in prompts[0]["content"]["prompt"]
    fresh.manager.interrupt_kernel()  # the user answers nothing and presses Ctrl-C
    fresh.wait_idle(messages)
    assert not (marks / "consent").exists()
    state = report(fresh)
    assert state["status"] == "interrupted"
    assert interrupted_answers(state)["toolu_guarded"]["is_error"]
    assert_next_turn_works(fresh, server)


def test_interrupt_during_a_parallel_batch_keeps_finished_results(fresh: KernelDriver, server: LocalServer,
                                                                  marks: Path) -> None:
    server.queue(Reply(tool_use("quick", {}, id="toolu_quick"), tool_use("slow", {"mark": "batch-sync"}, id="toolu_s"),
                       tool_use("slow_async", {"mark": "batch-async"}, id="toolu_a")))
    messages = fresh.execute("%%claude\nRun them all.", until=lambda _found: (marks / "batch-sync").exists()
                             and (marks / "batch-async").exists())
    fresh.manager.interrupt_kernel()
    fresh.wait_idle(messages)
    state = report(fresh)
    assert state["status"] == "interrupted"
    answers = interrupted_answers(state)
    assert list(answers) == ["toolu_quick", "toolu_s", "toolu_a"]
    assert answers["toolu_quick"] == {"type": "tool_result", "tool_use_id": "toolu_quick", "content": "quick result"}
    assert answers["toolu_s"]["is_error"] and answers["toolu_a"]["is_error"]
    assert_next_turn_works(fresh, server)


def test_interrupt_while_run_python_runs_on_the_main_thread(fresh: KernelDriver, server: LocalServer,
                                                             marks: Path) -> None:
    fresh.execute("claude_magic.get_session().toolbox.set_policy('run_python', 'allow')")
    code = f"import pathlib, time\npathlib.Path({str(marks / 'python')!r}).touch()\ntime.sleep(120)"
    server.queue(Reply(tool_use("run_python", {"code": code}, id="toolu_py")))
    messages = fresh.execute("%%claude\nRun some Python.", until=lambda _found: (marks / "python").exists())
    fresh.manager.interrupt_kernel()
    fresh.wait_idle(messages)
    state = report(fresh)
    assert state["status"] == "interrupted"
    assert interrupted_answers(state)["toolu_py"]["is_error"]
    assert_next_turn_works(fresh, server)
    assert "ok" in texts(fresh.execute("print('ok')"))  # the kernel still runs ordinary cells


def test_run_python_past_its_time_limit_is_stopped_in_a_real_kernel(fresh: KernelDriver,
                                                                    server: LocalServer) -> None:
    fresh.execute("claude_magic.get_session().toolbox.set_policy('run_python', 'allow')\n"
                  "%config ClaudeMagic.tool_timeout = 1.0")
    try:
        server.queue(Reply(tool_use("run_python", {"code": "while True:\n    pass"}, id="toolu_loop"),
                           tool_use("run_python", {"code": "import time\ntime.sleep(120)"}, id="toolu_sleep")),
                     Reply(text("Both took too long.")))
        assert "Both took too long." in texts(fresh.execute("%%claude\nRun these."))
    finally:
        fresh.execute("%config ClaudeMagic.tool_timeout = 120.0")
    results = tool_results_of(server.message_requests[-1])
    for tool_use_id in ("toolu_loop", "toolu_sleep"):
        assert results[tool_use_id]["is_error"] and "timed out after 1 s" in results[tool_use_id]["content"]
    assert report(fresh)["status"] == "complete"
    assert_next_turn_works(fresh, server)


def tool_results_of(request: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {block["tool_use_id"]: block for block in request["messages"][-1]["content"]
            if block.get("type") == "tool_result"}
