"""The panel in a real kernel: the saved transcript follows the chat, run_python runs on the main thread, interrupt stops it."""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from claude_magic.testing import LocalServer, Reply, text, tool_use

from ..helpers import LIMIT
from ..kernel.kernel_driver import KernelDriver, running_kernel, send_execute

SETUP = """\
%load_ext claude_magic
from claude_magic import get_session
from claude_magic.panel import chat
get_session().toolbox.set_policy("run_python", "allow")
panel = chat()
panel
"""


def _thread_parents() -> bool:
    """Whether the kernel's display publisher can send from a thread on behalf of another request."""
    from ipykernel.zmqshell import ZMQDisplayPublisher

    return hasattr(ZMQDisplayPublisher, "set_thread_parent")


class Iopub:
    """Every iopub message of the kernel, whichever request (or thread) sent it."""

    def __init__(self, driver: KernelDriver) -> None:
        self.client = driver.client
        self.manager = driver.manager
        self.messages: list[dict[str, Any]] = []

    def until(self, condition: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        deadline = time.monotonic() + LIMIT
        for message in self.messages:
            if condition(message):
                return message
        while time.monotonic() < deadline:
            try:
                message = self.client.get_iopub_msg(timeout=0.05)
            except queue.Empty:
                continue
            self.messages.append(message)
            if condition(message):
                return message
        raise AssertionError(f"gave up waiting for {what}")

    def run(self, code: str, cell_id: str | None = None) -> list[dict[str, Any]]:
        """Execute `code` (as notebook cell `cell_id`) and collect messages until the kernel is idle again after it."""
        msg_id = send_execute(self.client, code, cell_id=cell_id)
        start = len(self.messages)
        self.until(lambda message: message["parent_header"].get("msg_id") == msg_id
                   and message["msg_type"] == "status" and message["content"]["execution_state"] == "idle",
                   f"{code[:40]!r} to finish")
        return [message for message in self.messages[start:] if message["parent_header"].get("msg_id") == msg_id]

    def value(self, expression: str) -> str:
        """The text/plain result of evaluating `expression` in the kernel."""
        for message in self.run(expression):
            if message["msg_type"] == "execute_result":
                return str(message["content"]["data"]["text/plain"])
            if message["msg_type"] == "error":
                raise AssertionError("\n".join(message["content"]["traceback"]))
        raise AssertionError(f"no value for {expression!r}")

    def wait_idle_panel(self) -> None:
        """Poll (one short cell at a time, so main-thread tools can run in between) until the panel is idle."""
        deadline = time.monotonic() + LIMIT
        while self.value("panel.busy") != "False":
            if time.monotonic() > deadline:
                raise AssertionError("the panel stayed busy")
            time.sleep(0.05)


@pytest.fixture
def kernel(claude_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Iopub]:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", claude_server.base_url)
    with running_kernel() as driver:
        yield Iopub(driver)


def test_the_saved_transcript_in_the_panels_cell_follows_the_chat(kernel: Iopub, claude_server: LocalServer) -> None:
    shown = kernel.run(SETUP)
    chat_cell = shown[0]["parent_header"]["msg_id"]
    displays = [message["content"] for message in shown if message["msg_type"] == "display_data"]
    kinds = [sorted(content["data"]) for content in displays]
    assert ["application/vnd.jupyter.widget-view+json", "text/plain"] in kinds
    assert ["application/javascript", "text/plain"] in kinds
    [transcript] = [content for content in displays if "text/html" in content["data"]]
    display_id = transcript["transient"]["display_id"]
    assert "No messages yet" in transcript["data"]["text/html"]

    claude_server.queue(Reply(text("Hello from the *kernel*.")))
    kernel.run('panel.send("Hi from a cell")')
    update = kernel.until(lambda message: message["msg_type"] == "update_display_data"
                          and message["content"]["transient"]["display_id"] == display_id
                          and "Hello from the" in message["content"]["data"]["text/html"], "the transcript update")
    if _thread_parents():                                           # ipykernel >= 7: routed to the panel's own cell
        assert update["parent_header"]["msg_id"] == chat_cell      # (6.x has one global parent: by display_id only)
    data = update["content"]["data"]
    assert "Hello from the <em>kernel</em>." in data["text/html"] and "Hi from a cell" in data["text/markdown"]
    assert update["content"]["metadata"]["claude_magic"]["turns"] == 1
    kernel.wait_idle_panel()
    assert claude_server.rejections == []

    kernel.run("%claude reset")                                     # a command, no turn: redrawn after the cell
    kernel.until(lambda message: message["msg_type"] == "update_display_data"
                 and message["content"]["transient"]["display_id"] == display_id
                 and "No messages yet" in message["content"]["data"]["text/html"], "the transcript to empty")
    kernel.wait_idle_panel()
    assert kernel.value("len(panel.messages.children)") == "0"


def test_run_python_from_the_panel_runs_on_the_main_thread(kernel: Iopub, claude_server: LocalServer) -> None:
    kernel.run(SETUP)
    code = "import threading\nwhere = threading.current_thread().name\nwhere"
    claude_server.queue(Reply(tool_use("run_python", {"code": code})), Reply(text("Done.")))
    kernel.run('panel.send("Where do tools run?")')
    kernel.wait_idle_panel()
    outcome = kernel.value("(panel.last_result and (panel.last_result.status, panel.last_result.error), panel.error)")
    where = kernel.value("str(globals().get('where'))")           # defined in the user's namespace
    assert where == "'MainThread'", f"the panel's turn: {outcome}; requests: {len(claude_server.requests)}"
    result = claude_server.message_requests[-1]["messages"][-1]["content"][0]
    assert "MainThread" in json.dumps(result["content"]) and not result.get("is_error")
    assert kernel.value("panel.last_result.status") == "'complete'"


def test_the_kernel_interrupt_stops_a_main_thread_tool(kernel: Iopub, claude_server: LocalServer,
                                                       tmp_path: Path) -> None:
    kernel.run(SETUP)
    marker = tmp_path / "started"
    code = f"import time\nopen({str(marker)!r}, 'w').close()\nfor _ in range(1200):\n    time.sleep(0.05)"
    claude_server.queue(Reply(text("Running a long job."), tool_use("run_python", {"code": code})))
    kernel.run('panel.send("Run something long")')
    deadline = time.monotonic() + LIMIT
    while not marker.exists():
        assert time.monotonic() < deadline, "the tool did not start"
        time.sleep(0.02)
    kernel.manager.interrupt_kernel()
    kernel.wait_idle_panel()
    assert kernel.value("panel.last_result.status") == "'interrupted'"
    assert "Stopped" in kernel.value("panel.status.value")
    claude_server.queue(Reply(text("Still working.")))
    kernel.run('panel.send("Still there?")')
    kernel.wait_idle_panel()
    assert kernel.value("panel.last_result.text") == "'Still working.'"
    history = claude_server.message_requests[-1]["messages"]
    assert [message["role"] for message in history] == ["user", "assistant", "user"]
    answered, prompt = history[2]["content"]                       # the interrupted call is answered
    assert answered["type"] == "tool_result" and answered["is_error"] and prompt["text"] == "Still there?"
    assert claude_server.rejections == []


def test_re_running_the_panels_cell_closes_the_old_panel(kernel: Iopub) -> None:
    kernel.run(SETUP, cell_id="cell-1")
    kernel.run("first = panel")
    kernel.run(SETUP, cell_id="cell-1")
    assert kernel.value("first.worker.alive, first._on_turn_finished in get_session().listeners") == "(False, False)"
    assert kernel.value("panel.worker.alive, len(get_session().listeners)") == "(True, 1)"
    kernel.run(SETUP, cell_id="cell-2")                          # another cell: both panels live
    assert kernel.value("len(get_session().listeners)") == "2"
