"""A new kernel's first `%%claude` cell paints its waiting header before the turn's heavy imports (issue 23).

The header is a plain display output shown before the SDK, ipywidgets and the renderer are imported; the view
then takes that same output over (same display id), so the cell still ends with one output. Later cells,
with everything imported, paint the view directly. A cell that fails before any view shows empties it.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from typing import Any

import pytest

from claude_magic.testing import LocalServer, Reply, text

from ..kernel.kernel_driver import send_execute
from .test_kernel import WIDGET_MIME, Kernel

WAITING = "waiting for the first token"


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


def run_failing(kernel: Kernel, code: str, timeout: float = 120) -> list[dict[str, Any]]:
    """The cell's iopub messages until idle, errors included."""
    msg_id = send_execute(kernel.client, code, allow_stdin=True)
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            message = kernel.client.get_iopub_msg(timeout=0.2)
        except queue.Empty:
            continue
        if message["parent_header"].get("msg_id") == msg_id:
            messages.append(message)
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                return messages
    raise TimeoutError(code)


def outputs(messages: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, display id, data) of the cell's display messages, in order."""
    return [(m["msg_type"], m["content"].get("transient", {}).get("display_id", ""), m["content"]["data"])
            for m in messages if m["msg_type"] in ("display_data", "update_display_data")]


@pytest.mark.parametrize("allow_stdin", [True, False], ids=["live view", "headless"])
def test_the_first_cell_shows_the_waiting_header_first_and_the_view_takes_it_over(
        kernel: Kernel, claude_server: LocalServer, allow_stdin: bool) -> None:
    claude_server.queue(Reply(text("Zebrafish regenerate their hearts.")), Reply(text("Fins too.")))
    shown = outputs(kernel.run("%%claude\nTell me about zebrafish.", allow_stdin=allow_stdin))
    kind, display_id, data = shown[0]
    assert kind == "display_data" and WAITING in data["text/html"], shown[0]
    assert [kind for kind, _, _ in shown[1:]] == ["update_display_data"] * (len(shown) - 1)
    assert {shown_id for _, shown_id, _ in shown} == {display_id}
    if allow_stdin:
        assert WIDGET_MIME in shown[1][2]
    assert "Zebrafish regenerate" in shown[-1][2]["text/html"]

    second = outputs(kernel.run("%%claude\nAnd their fins?", allow_stdin=allow_stdin))
    assert second[0][0] == "display_data" and WAITING not in second[0][2].get("text/html", "")
    assert "Fins too." in second[-1][2]["text/html"]


def test_a_first_cell_that_fails_before_its_view_leaves_an_empty_output(kernel: Kernel) -> None:
    messages = run_failing(kernel, "%%claude --schema NoSuchModel\nTell me.")
    shown = outputs(messages)
    assert [kind for kind, _, _ in shown] == ["display_data", "update_display_data"]
    assert WAITING in shown[0][2]["text/html"] and shown[1][2] == {"text/plain": ""}
    assert shown[0][1] == shown[1][1]
    assert "no variable named 'NoSuchModel'" in "".join(m["content"].get("text", "") for m in messages
                                                        if m["msg_type"] in ("stream", "error"))
