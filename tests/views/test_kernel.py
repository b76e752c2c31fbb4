"""The views in a real kernel: live widgets that grow while the cell runs, then the static output; headless
kernels and nbclient keep the static output; nbconvert shows it."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbconvert import HTMLExporter

from claude_magic.testing import LocalServer, Reply, text, thinking, tool_use

from ..helpers import run_notebook
from ..kernel.kernel_driver import send_execute, start_kernel
from .helpers import XSS_TEXT, assert_inert

ANSWER = ("## Result\n\nThe answer is **forty-two**.\n\n" + "More words in a paragraph. " * 30 + "\n\n" + XSS_TEXT
          + "\n\nFinal sentence.")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


class Kernel:
    """A real kernel; `run` returns every iopub message until the cell is idle (widget messages included)."""

    def __init__(self) -> None:
        self.manager, self.client = start_kernel()

    def run(self, code: str, *, allow_stdin: bool = True, timeout: float = 120) -> list[dict[str, Any]]:
        msg_id = send_execute(self.client, code, allow_stdin=allow_stdin)
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = self.client.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                continue
            mine = message["parent_header"].get("msg_id") == msg_id
            if mine or message["msg_type"].startswith("comm_"):
                messages.append(message)
            if mine and message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                errors = [m["content"] for m in messages if m["msg_type"] == "error"]
                assert not errors, errors
                return messages
        raise TimeoutError(code)

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture
def kernel(claude_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Kernel]:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", claude_server.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "local-test-key")
    started = Kernel()
    try:
        started.run("%load_ext claude_magic")
        yield started
    finally:
        started.close()


def widget_values(messages: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    """(position, comm id, value) of every widget `value` sent, from comm_open and comm_msg."""
    found = []
    for position, message in enumerate(messages):
        if message["msg_type"] in ("comm_open", "comm_msg"):
            state = message["content"].get("data", {}).get("state", {})
            if isinstance(state.get("value"), str):
                found.append((position, message["content"]["comm_id"], state["value"]))
    return found


def test_live_widgets_grow_while_the_cell_runs_then_become_static(kernel: Kernel, claude_server: LocalServer) -> None:
    kernel.run("%config ClaudeMagic.stream_widget = False")      # the stock-widget view (tests/views/test_stream_kernel.py: the default)
    claude_server.queue(Reply(thinking("I should *think* about $x_1$ first."), text(ANSWER), delay=0.01, chunk=8))
    messages = kernel.run("%%claude --think\nWhat is the answer?")
    kinds = [message["msg_type"] for message in messages]
    # A kernel's first turn paints a waiting header first (tests/views/test_first_paint.py); the widgets take it over.
    first = next(position for position, message in enumerate(messages)
                 if message["msg_type"] in ("display_data", "update_display_data")
                 and WIDGET_MIME in message["content"]["data"])
    shown = messages[first]["content"]
    display_id = shown["transient"]["display_id"]
    assert messages[kinds.index("display_data")]["content"]["transient"]["display_id"] == display_id
    final_at = len(kinds) - 1 - kinds[::-1].index("update_display_data")
    final = messages[final_at]["content"]
    assert final["transient"]["display_id"] == display_id

    # The answer grew in the widgets before the static output replaced them.
    growing = [len(value) for position, _comm, value in widget_values(messages)
               if position < final_at and "forty-two" in value]
    partial = [value for position, _comm, value in widget_values(messages)
               if position < final_at and "forty-two" in value and "Final sentence" not in value]
    assert growing and partial, "the live view showed part of the answer before the end"
    opened = [m["content"]["data"]["state"] for m in messages if m["msg_type"] == "comm_open"]
    accordions = [state for state in opened if state.get("_model_name") == "AccordionModel"]
    assert accordions and accordions[0]["selected_index"] is None and accordions[0]["titles"] == ["Thinking…"]

    for _position, _comm, value in widget_values(messages):
        assert_inert(value, own=True)
    html = final["data"]["text/html"]
    assert "<strong>forty-two</strong>" in html and '<details class="claude-magic-thinking">' in html
    assert "$x_1$" in html
    assert_inert(html)
    assert final["metadata"]["claude_magic"]["model"]
    assert "forty-two" in final["data"]["text/markdown"]

    opened_ids = {m["content"]["comm_id"] for m in messages if m["msg_type"] == "comm_open"}
    closed_ids = {m["content"]["comm_id"] for m in messages if m["msg_type"] == "comm_close"}
    assert opened_ids and opened_ids <= closed_ids                 # every widget is closed at the end
    assert kinds.index("comm_close") > final_at


def test_tool_card_in_a_real_kernel(kernel: Kernel, claude_server: LocalServer) -> None:
    kernel.run("%config ClaudeMagic.stream_widget = False")
    kernel.run("from claude_magic.tools import tool\n"
               "@tool\ndef add(a: int, b: int) -> int:\n    '''Add two numbers.'''\n    return a + b\n")
    claude_server.queue(Reply(tool_use("add", {"a": 2, "b": 3})), Reply(text("The sum is **5**.")))
    messages = kernel.run("%%claude\nAdd 2 and 3.")
    values = [value for _position, _comm, value in widget_values(messages)]
    assert any("🔧 add" in value for value in values)
    final = [m for m in messages if m["msg_type"] == "update_display_data"][-1]["content"]["data"]["text/html"]
    assert "🔧 add" in final and "done" in final and "The sum is <strong>5</strong>." in final


def test_a_headless_kernel_gets_no_widgets_and_ends_static(kernel: Kernel, claude_server: LocalServer) -> None:
    claude_server.queue(Reply(text("Plain *answer*."), delay=0.002))
    messages = kernel.run("%%claude\nHi", allow_stdin=False)
    assert not [m for m in messages if m["msg_type"] == "comm_open"]
    final = [m for m in messages if m["msg_type"] == "update_display_data"][-1]["content"]
    assert "Plain <em>answer</em>." in final["data"]["text/html"]


def test_nbclient_saves_the_static_output_and_nbconvert_shows_it(claude_server: LocalServer, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", claude_server.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "local-test-key")
    claude_server.queue(Reply(thinking("Reasoning *here*."), text(ANSWER), chunk=50))
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("%load_ext claude_magic"),
                      nbformat.v4.new_code_cell("%%claude --think\nWhat is the answer?")]
    run_notebook(notebook, timeout=120, resources={"metadata": {"path": str(tmp_path)}})
    path = tmp_path / "saved.ipynb"
    nbformat.write(notebook, path)
    saved = nbformat.read(path, as_version=4)
    outputs = saved.cells[1].outputs
    assert len(outputs) == 1 and outputs[0].output_type == "display_data"
    assert WIDGET_MIME not in outputs[0].data
    assert "<strong>forty-two</strong>" in outputs[0].data["text/html"]
    assert outputs[0].metadata["claude_magic"]["usage"]["output_tokens"] > 0
    body, _resources = HTMLExporter().from_notebook_node(saved)
    start = body.index('<div class="claude-magic-output">')
    assert "<strong>forty-two</strong>" in body[start:] and "Reasoning <em>here</em>." in body[start:]
    assert_inert(body[start:body.index("</div></div>", body.index("end_turn", start))])


def test_live_view_can_be_turned_off(kernel: Kernel, claude_server: LocalServer) -> None:
    kernel.run("%config ClaudeMagic.live_view = False")
    claude_server.queue(Reply(text("No *widgets* here."), delay=0.002))
    messages = kernel.run("%%claude\nHi")
    assert not [m for m in messages if m["msg_type"] == "comm_open"]
    final = [m for m in messages if m["msg_type"] == "update_display_data"][-1]["content"]
    assert "No <em>widgets</em> here." in final["data"]["text/html"]
