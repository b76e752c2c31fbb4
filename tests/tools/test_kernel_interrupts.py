"""Ctrl-C in a real kernel (jupyter_client interrupt) during a tool, a consent prompt and a parallel batch.

Each time the turn stops, every pending `tool_use` is answered, the kernel survives and the next turn is
accepted by the validating server.
"""

from __future__ import annotations

import contextlib
import json
import queue
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel

from claude_magic.testing import LocalServer, Reply, text, tool_use

SYNC_WAIT = 60.0  # upper bound for the kernel to reach a point; only a broken run waits this long

SETUP = """
import asyncio, pathlib, time
import claude_magic
from claude_magic.tools import tool

MARKS = pathlib.Path({marks!r})

@tool
def quick() -> str:
    \"\"\"Answer at once.\"\"\"
    return "quick result"

@tool
def slow(mark: str) -> str:
    \"\"\"Leave a mark, then sleep for a long time.\"\"\"
    (MARKS / mark).touch()
    time.sleep(120)
    return "slow result"

@tool
async def slow_async(mark: str) -> str:
    \"\"\"Leave a mark, then sleep asynchronously for a long time.\"\"\"
    (MARKS / mark).touch()
    await asyncio.sleep(120)
    return "slow async result"

@tool(consent="ask")
def guarded(mark: str) -> str:
    \"\"\"Needs the user's consent.\"\"\"
    (MARKS / mark).touch()
    return "guarded result"
"""

REPORT = """
import json
_session = claude_magic.get_session()
print("REPORT" + json.dumps({"status": _session.last.status, "last": _session.conversation().messages[-1]}))
"""


class Kernel:
    """A started python3 kernel with helpers to run cells and read what they showed."""

    def __init__(self, manager: Any, client: Any) -> None:
        self.manager, self.client = manager, client

    def start(self, code: str, allow_stdin: bool = False) -> str:
        return self.client.execute(code, allow_stdin=allow_stdin)

    def wait(self, msg_id: str, until: Callable[[], bool] | None = None,
             on_stdin: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
        """Messages of `msg_id` until the kernel is idle again (or `until()` holds)."""
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + SYNC_WAIT
        while time.monotonic() < deadline:
            if until is not None and until():
                return messages
            if on_stdin is not None:
                with contextlib.suppress(queue.Empty):
                    on_stdin(self.client.get_stdin_msg(timeout=0.01))
            try:
                message = self.client.get_iopub_msg(timeout=0.05)
            except queue.Empty:
                continue
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            messages.append(message)
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                return messages
        raise TimeoutError("the kernel did not get there")

    def run(self, code: str) -> str:
        return shown(self.wait(self.start(code)))

    def report(self) -> dict[str, Any]:
        output = self.run(REPORT)
        return json.loads(output[output.index("REPORT") + len("REPORT"):].splitlines()[0])


def shown(messages: list[dict[str, Any]]) -> str:
    """What the user saw: streams, displays, errors."""
    parts = []
    for message in messages:
        content = message["content"]
        if message["msg_type"] == "stream":
            parts.append(content["text"])
        elif message["msg_type"] in ("display_data", "update_display_data", "execute_result"):
            data = content.get("data", {})
            parts.append(data.get("text/markdown") or data.get("text/plain") or "")
        elif message["msg_type"] == "error":
            parts.append(f"{content['ename']}: {content['evalue']}")
    return "\n".join(parts)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local


@pytest.fixture(scope="module")
def marks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("marks")


@pytest.fixture(scope="module")
def kernel(server: LocalServer, marks: Path) -> Iterator[Kernel]:
    import os

    env = {**os.environ, "ANTHROPIC_BASE_URL": server.base_url}
    manager, client = start_new_kernel(kernel_name="python3", env=env)
    try:
        running = Kernel(manager, client)
        assert "Error" not in running.run("%load_ext claude_magic\n" + SETUP.format(marks=str(marks)))
        yield running
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


@pytest.fixture
def fresh(kernel: Kernel, server: LocalServer) -> Kernel:
    kernel.run("claude_magic.get_session().conversation().reset()")
    server.clear()
    return kernel


def interrupted_answers(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    assert report["last"]["role"] == "user"
    return {block["tool_use_id"]: block for block in report["last"]["content"] if block["type"] == "tool_result"}


def assert_next_turn_works(kernel: Kernel, server: LocalServer) -> None:
    server.queue(Reply(text("Still here after the interrupt.")))
    assert "Still here after the interrupt." in kernel.run("%%claude\nAre you still there?")
    assert server.rejections == []


def test_interrupt_while_a_tool_runs(fresh: Kernel, server: LocalServer, marks: Path) -> None:
    server.queue(Reply(text("Running it."), tool_use("slow", {"mark": "single"}, id="toolu_slow")))
    msg_id = fresh.start("%%claude\nRun the slow tool.")
    fresh.wait(msg_id, until=(marks / "single").exists)
    fresh.manager.interrupt_kernel()
    output = shown(fresh.wait(msg_id))
    assert "Traceback" not in output
    report = fresh.report()
    assert report["status"] == "interrupted"
    answer = interrupted_answers(report)["toolu_slow"]
    assert answer["is_error"] and "interrupted" in answer["content"]
    assert_next_turn_works(fresh, server)


def test_interrupt_at_the_consent_prompt_runs_nothing(fresh: Kernel, server: LocalServer, marks: Path) -> None:
    server.queue(Reply(tool_use("guarded", {"mark": "consent"}, id="toolu_guarded")))
    prompts: list[dict[str, Any]] = []
    msg_id = fresh.start("%%claude\nRun the guarded tool.", allow_stdin=True)
    fresh.wait(msg_id, until=lambda: bool(prompts), on_stdin=prompts.append)
    assert prompts[0]["msg_type"] == "input_request" and "guarded" in prompts[0]["content"]["prompt"]
    fresh.manager.interrupt_kernel()  # the user answers nothing and presses Ctrl-C
    fresh.wait(msg_id)
    assert not (marks / "consent").exists()
    report = fresh.report()
    assert report["status"] == "interrupted"
    assert interrupted_answers(report)["toolu_guarded"]["is_error"]
    assert_next_turn_works(fresh, server)


def test_interrupt_during_a_parallel_batch_keeps_finished_results(fresh: Kernel, server: LocalServer,
                                                                  marks: Path) -> None:
    server.queue(Reply(tool_use("quick", {}, id="toolu_quick"), tool_use("slow", {"mark": "batch-sync"}, id="toolu_s"),
                       tool_use("slow_async", {"mark": "batch-async"}, id="toolu_a")))
    msg_id = fresh.start("%%claude\nRun them all.")
    fresh.wait(msg_id, until=lambda: (marks / "batch-sync").exists() and (marks / "batch-async").exists())
    fresh.manager.interrupt_kernel()
    fresh.wait(msg_id)
    report = fresh.report()
    assert report["status"] == "interrupted"
    answers = interrupted_answers(report)
    assert list(answers) == ["toolu_quick", "toolu_s", "toolu_a"]
    assert answers["toolu_quick"] == {"type": "tool_result", "tool_use_id": "toolu_quick", "content": "quick result"}
    assert answers["toolu_s"]["is_error"] and answers["toolu_a"]["is_error"]
    assert_next_turn_works(fresh, server)


def test_interrupt_while_run_python_runs_on_the_main_thread(fresh: Kernel, server: LocalServer,
                                                             marks: Path) -> None:
    fresh.run("claude_magic.get_session().toolbox.set_policy('run_python', 'allow')")
    code = f"import pathlib, time\npathlib.Path({str(marks / 'python')!r}).touch()\ntime.sleep(120)"
    server.queue(Reply(tool_use("run_python", {"code": code}, id="toolu_py")))
    msg_id = fresh.start("%%claude\nRun some Python.")
    fresh.wait(msg_id, until=(marks / "python").exists)
    fresh.manager.interrupt_kernel()
    fresh.wait(msg_id)
    report = fresh.report()
    assert report["status"] == "interrupted"
    assert interrupted_answers(report)["toolu_py"]["is_error"]
    assert_next_turn_works(fresh, server)
    assert "ok" in fresh.run("print('ok')")  # the kernel still runs ordinary cells


def test_run_python_past_its_time_limit_is_stopped_in_a_real_kernel(fresh: Kernel, server: LocalServer) -> None:
    fresh.run("claude_magic.get_session().toolbox.set_policy('run_python', 'allow')\n"
              "%config ClaudeMagic.tool_timeout = 1.0")
    try:
        server.queue(Reply(tool_use("run_python", {"code": "while True:\n    pass"}, id="toolu_loop"),
                           tool_use("run_python", {"code": "import time\ntime.sleep(120)"}, id="toolu_sleep")),
                     Reply(text("Both took too long.")))
        assert "Both took too long." in fresh.run("%%claude\nRun these.")
    finally:
        fresh.run("%config ClaudeMagic.tool_timeout = 120.0")
    results = tool_results_of(server.message_requests[-1])
    for tool_use_id in ("toolu_loop", "toolu_sleep"):
        assert results[tool_use_id]["is_error"] and "timed out after 1 s" in results[tool_use_id]["content"]
    assert fresh.report()["status"] == "complete"
    assert_next_turn_works(fresh, server)


def tool_results_of(request: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {block["tool_use_id"]: block for block in request["messages"][-1]["content"]
            if block.get("type") == "tool_result"}
