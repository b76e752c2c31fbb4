"""In a real kernel, re-running a notebook cell (same cellId, as JupyterLab sends it) replaces its turn."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from claude_magic.testing import Reply, text

from .kernel_driver import KernelDriver, claude_kernel, texts


@pytest.fixture
def kernel(claude_server: Any) -> Iterator[KernelDriver]:
    with claude_kernel(claude_server.base_url) as driver:
        yield driver


def user_texts(body: dict[str, Any]) -> list[str]:
    return [block["text"] for message in body["messages"] if message["role"] == "user"
            for block in message["content"] if block["type"] == "text"]


def test_rerun_replaces_turn_in_kernel(kernel: Any, claude_server: Any) -> None:
    claude_server.queue(Reply(text("one")), Reply(text("two")), Reply(text("two, again")))
    kernel.execute("%%claude\nfirst cell", cell_id="cell-1")
    kernel.execute("%%claude\nsecond cell", cell_id="cell-2")
    shown = texts(kernel.execute("%%claude\nsecond cell, reworded", cell_id="cell-2"))
    assert user_texts(claude_server.message_requests[-1]) == ["first cell", "second cell, reworded"]
    assert "earlier answer (turn 2) is replaced" in shown
    history = texts(kernel.execute("%claude history"))
    assert "second cell, reworded" in history and "| second cell |" not in history
    assert claude_server.rejections == []
