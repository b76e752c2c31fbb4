"""500 turns in one conversation against the local server, each painted by the live widget view.

Printed (never asserted): the time per turn at turn 1 and at turn 500. Asserted: no thread and no widget
is left behind per turn, no display hook stays registered, the history is never refused, and the memory
the session holds grows by no more than a small multiple of the conversation's own size.

Memory is traced (tracemalloc) from turn 400 to turn 490: what was allocated then and is still alive
must be about the size of the messages those 90 turns added (a per-turn leak of a few KiB would show);
tracing costs several times the turn itself, so the other turns run untraced and the time printed for
turn 500 is not tracemalloc's.
"""

from __future__ import annotations

import gc
import json
import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.displaypub import DisplayPublisher

from claude_magic.session import Session
from claude_magic.testing import LocalServer
from claude_magic.views.live import LiveView

from ..helpers import wait_until
from .conftest import SDK_LOGGERS, open_widgets, panel_settings

TURNS = 500
WARM_UP = 10                  # turns before the baseline (imports, caches, first connections)
TRACED_FROM, TRACED_UNTIL = TURNS - 100, TURNS - 10
MEMORY_FACTOR = 5             # Python objects for a message take a few times its JSON size
MEMORY_SLACK = 256 * 1024


class CountingPublisher(DisplayPublisher):
    """Counts what would be displayed and keeps none of it (a notebook front end keeps it, not the kernel)."""

    def __init__(self) -> None:
        super().__init__()
        self.published = 0

    def publish(self, data: Any, metadata: Any = None, *args: Any, **kwargs: Any) -> None:
        self.published += 1


@pytest.fixture
def quiet_shell(ipython_shell: Any) -> Iterator[Any]:
    saved, ipython_shell.display_pub = ipython_shell.display_pub, CountingPublisher()
    try:
        yield ipython_shell
    finally:
        ipython_shell.display_pub = saved


def prompt(number: int) -> str:
    return f"Question {number}: what changed in the data since the previous question, in one short paragraph?"


def settled_threads(limit: int) -> int:
    """Thread count once per-turn threads (stream pump, pacer, server connections) have ended."""
    wait_until(lambda: threading.active_count() <= limit, f"threads to settle at {limit}", limit=10)
    return threading.active_count()


def test_500_turns_in_one_conversation(quiet_shell: Any, claude_server: LocalServer,
                                       caplog: pytest.LogCaptureFixture) -> None:
    for name in SDK_LOGGERS:                       # 500 turns of captured DEBUG records would be the growth
        caplog.set_level("WARNING", logger=name)
    session = Session(panel_settings(claude_server, max_retries=0))
    hooks = len(quiet_shell.events.callbacks["post_run_cell"])
    seconds: list[float] = []
    baseline: dict[str, int] = {}
    for number in range(1, TURNS + 1):
        view = LiveView(interval=0.05, shell=quiet_shell)
        started = time.perf_counter()
        result = session.ask(prompt(number), emit=view)
        seconds.append(time.perf_counter() - started)
        assert result.status == "complete", (number, result.error)
        assert view.finished and view.handle is not None
        assert claude_server.rejections == [], number
        claude_server.clear()                    # the server's own records are the test's memory, not ours
        if number == WARM_UP:
            baseline = {"threads": settled_threads(threading.active_count() + 8), "widgets": len(open_widgets())}
        elif number == TRACED_FROM:
            gc.collect()
            tracemalloc.start()
            baseline.update(memory=tracemalloc.get_traced_memory()[0], size=conversation_size(session))
        elif number == TRACED_UNTIL:
            gc.collect()
            memory = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            grown, size = memory - baseline["memory"], conversation_size(session) - baseline["size"]
        if number > WARM_UP and number % 50 == 0:
            assert len(open_widgets()) == baseline["widgets"], number
            assert len(quiet_shell.events.callbacks["post_run_cell"]) == hooks, number
    threads = settled_threads(baseline["threads"])
    late = sorted(seconds[-10:])[5]
    print(f"\nlong session: {TURNS} turns, {len(session.conversation().messages)} messages, "
          f"{conversation_size(session) / 1024:.0f} KiB of conversation JSON")
    print(f"time per turn: turn 1 {seconds[0] * 1000:.1f} ms, turn {WARM_UP} {seconds[WARM_UP - 1] * 1000:.1f} ms, "
          f"turn {TURNS} {seconds[-1] * 1000:.1f} ms (median of the last 10: {late * 1000:.1f} ms)")
    print(f"memory held after turns {TRACED_FROM + 1}-{TRACED_UNTIL}: +{grown / 1024:.0f} KiB for +{size / 1024:.0f} KiB of "
          f"conversation ({grown / max(size, 1):.1f}×); threads {baseline['threads']} → {threads}; "
          f"widgets {baseline['widgets']} → {len(open_widgets())}; displays {quiet_shell.display_pub.published}")
    assert len(session.conversation()) == TURNS
    assert threads <= baseline["threads"]
    assert len(open_widgets()) == baseline["widgets"]
    assert grown <= MEMORY_FACTOR * size + MEMORY_SLACK, (grown, size)


def conversation_size(session: Session) -> int:
    return len(json.dumps(session.conversation().to_dict()))


def test_the_chat_panel_holds_one_entry_per_turn_and_nothing_once_closed(claude_server: LocalServer) -> None:
    """50 panel turns: each leaves exactly its entry (an HTMLMath with its Layout and style); close() leaves none."""
    from claude_magic.panel import ChatPanel

    before = len(open_widgets())
    chat = ChatPanel(Session(panel_settings(claude_server, max_retries=0)))
    counts = []
    try:
        assert chat.wait(30)
        for number in range(1, 51):
            chat.send(prompt(number))
            assert chat.wait(30) and chat.last_result is not None and chat.last_result.status == "complete"
            claude_server.clear()
            counts.append(len(open_widgets()))
    finally:
        chat.close()
    assert {later - earlier for earlier, later in zip(counts, counts[1:], strict=False)} == {3}, counts
    assert len(open_widgets()) == before
