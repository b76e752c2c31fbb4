"""Ctrl-C (a real kernel interrupt) during a streaming `%%claude` keeps the partial answer and the history valid."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from claude_magic.testing import Reply, text

from .kernel_driver import KernelDriver, claude_kernel, texts

ANSWER = " ".join(f"word{number}" for number in range(400))


@pytest.fixture
def kernel(claude_server: Any) -> Iterator[KernelDriver]:
    with claude_kernel(claude_server.base_url) as driver:
        yield driver


def test_interrupt_during_stream_keeps_partial_and_next_turn_works(kernel: Any, claude_server: Any) -> None:
    claude_server.queue(Reply(text(ANSWER), chunk=6, delay=0.02))

    def streaming_started(messages: list[dict[str, Any]]) -> bool:
        return "word5" in texts(messages)

    messages = kernel.execute("%%claude\nCount slowly.", until=streaming_started)
    kernel.manager.interrupt_kernel()
    messages = kernel.wait_idle(messages)
    shown = texts(messages)
    assert "word5" in shown
    assert "Interrupted" in shown
    assert "word399" not in shown
    assert "Traceback" not in shown
    claude_server.queue(Reply(text("Still here.")))
    after = texts(kernel.execute("%%claude\nAre you still there?"))
    assert "Still here." in after
    assert claude_server.rejections == []
    history = claude_server.message_requests[-1]["messages"]
    assert [message["role"] for message in history] == ["user", "assistant", "user"]
    assert history[1]["content"][0]["text"].startswith("word0")


def test_interrupt_before_first_token_leaves_no_trace(kernel: Any, claude_server: Any) -> None:
    from claude_magic.testing import Stall

    claude_server.queue(Reply(text(ANSWER), fault=Stall(after_events=0, seconds=30)))
    def request_sent(messages: list[dict[str, Any]]) -> bool:      # (the first cell paints before its request)
        return bool(claude_server.message_requests)

    messages = kernel.execute("%%claude\nHello?", until=request_sent)
    time.sleep(0.5)                      # the request is out; the server sends nothing for 30 s
    kernel.manager.interrupt_kernel()
    shown = texts(kernel.wait_idle(messages))
    assert "word0" not in shown          # the interrupt took effect before the stalled stream resumed
    assert "Interrupted" in shown
    claude_server.queue(Reply(text("Fresh start.")))
    assert "Fresh start." in texts(kernel.execute("%%claude\nHello again"))
    assert len(claude_server.message_requests[-1]["messages"]) == 1
    assert claude_server.rejections == []
