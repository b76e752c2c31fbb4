"""MainThreadRunner: a worker's call runs on the main thread, and Stop reaches it there (real SIGINT)."""

from __future__ import annotations

import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from claude_magic.core.cancellation import Cancellation
from claude_magic.panel.mainthread import MainThreadRunner

from ..helpers import LIMIT


class Loop:
    """Stands in for the kernel's event loop: callbacks queued from any thread, run by the test's main thread."""

    def __init__(self) -> None:
        self.callbacks: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()

    def run_one(self) -> None:
        self.callbacks.get(timeout=LIMIT)()


class Caller(threading.Thread):
    """A worker thread calling `runner.run(function, cancellation)`; keeps what it returned or raised."""

    def __init__(self, runner: MainThreadRunner, function: Callable[[], Any], cancellation: Cancellation) -> None:
        super().__init__(daemon=True)
        self.runner, self.function, self.cancellation = runner, function, cancellation
        self.outcome: tuple[str, Any] | None = None

    def run(self) -> None:
        try:
            self.outcome = ("value", self.runner.run(self.function, self.cancellation))
        except BaseException as error:  # noqa: BLE001 - the test inspects it
            self.outcome = ("raised", error)


@pytest.fixture
def idle_kernel_sigint() -> Iterator[None]:
    """SIGINT as an idle ipykernel has it (ignored), restored afterwards."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    yield
    signal.signal(signal.SIGINT, previous)


def test_the_call_runs_on_the_main_thread_and_returns_its_value() -> None:
    loop = Loop()
    caller = Caller(MainThreadRunner(loop.callbacks.put), lambda: threading.current_thread().name, Cancellation())
    caller.start()
    loop.run_one()
    caller.join(LIMIT)
    assert caller.outcome == ("value", threading.main_thread().name)


def test_an_exception_reaches_the_caller() -> None:
    loop = Loop()
    caller = Caller(MainThreadRunner(loop.callbacks.put), lambda: 1 / 0, Cancellation())
    caller.start()
    loop.run_one()
    caller.join(LIMIT)
    assert caller.outcome is not None and isinstance(caller.outcome[1], ZeroDivisionError)


def test_stop_while_queued_never_runs_the_call() -> None:
    loop = Loop()
    ran: list[bool] = []
    cancellation = Cancellation()
    caller = Caller(MainThreadRunner(loop.callbacks.put), lambda: ran.append(True), cancellation)
    caller.start()
    cancellation.cancel()                     # the main thread is busy elsewhere: the call is still queued
    caller.join(LIMIT)
    assert caller.outcome is not None and isinstance(caller.outcome[1], KeyboardInterrupt)
    loop.run_one()                            # the loop gets to it later: nothing happens
    assert ran == []


def test_stop_while_running_interrupts_the_call_on_the_main_thread(idle_kernel_sigint: None) -> None:
    loop = Loop()
    started = threading.Event()
    interrupted: list[bool] = []

    def long_call() -> None:
        started.set()
        try:
            deadline = time.monotonic() + LIMIT
            while time.monotonic() < deadline:
                time.sleep(0.01)
        except KeyboardInterrupt:
            interrupted.append(True)
            raise

    cancellation = Cancellation()
    caller = Caller(MainThreadRunner(loop.callbacks.put), long_call, cancellation)
    caller.start()
    threading.Thread(target=lambda: (started.wait(LIMIT), cancellation.cancel()), daemon=True).start()
    loop.run_one()
    caller.join(LIMIT)
    assert interrupted == [True]
    assert caller.outcome is not None and isinstance(caller.outcome[1], KeyboardInterrupt)
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN        # the idle kernel's handler is back


def test_on_the_main_thread_it_simply_calls() -> None:
    runner = MainThreadRunner(lambda callback: pytest.fail("nothing should be scheduled"))
    assert runner.run(lambda: 42) == 42


def test_outside_a_kernel_there_is_no_runner() -> None:
    assert MainThreadRunner.for_kernel(object()) is None
