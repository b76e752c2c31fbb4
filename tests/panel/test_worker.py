"""The panel's worker thread: order, coalesced redraws, errors that do not kill it, stopping."""

from __future__ import annotations

import threading

import pytest

from claude_magic.panel.worker import Worker

from ..helpers import LIMIT


def test_jobs_run_one_at_a_time_in_order_on_the_worker_thread() -> None:
    errors: list[BaseException] = []
    worker = Worker(errors.append)
    seen: list[tuple[int, bool]] = []
    for number in range(20):
        worker.submit(lambda number=number: seen.append((number, threading.current_thread() is worker.thread)))
    assert worker.wait_idle(LIMIT)
    assert seen == [(number, True) for number in range(20)] and errors == []
    worker.stop()


def test_a_keyed_job_is_queued_once_while_it_waits() -> None:
    worker = Worker(lambda error: None)
    gate = threading.Event()
    worker.submit(gate.wait)                      # hold the worker so the next ones wait in the queue
    runs: list[str] = []
    assert worker.submit(lambda: runs.append("redraw"), key="redraw")
    assert not worker.submit(lambda: runs.append("redraw"), key="redraw")
    gate.set()
    assert worker.wait_idle(LIMIT)
    assert worker.submit(lambda: runs.append("redraw"), key="redraw")   # queued again once it ran
    assert worker.wait_idle(LIMIT)
    assert runs == ["redraw", "redraw"]
    worker.stop()


def test_a_failing_job_is_reported_and_the_next_one_runs() -> None:
    errors: list[BaseException] = []
    worker = Worker(errors.append)
    ran = []
    worker.submit(lambda: 1 / 0)
    worker.submit(lambda: ran.append(True))
    assert worker.wait_idle(LIMIT)
    assert [type(error) for error in errors] == [ZeroDivisionError] and ran == [True]
    worker.stop()


def test_stop_finishes_the_running_job_and_skips_the_rest() -> None:
    worker = Worker(lambda error: None)
    started, gate = threading.Event(), threading.Event()
    ran: list[str] = []
    worker.submit(lambda: (started.set(), gate.wait(LIMIT), ran.append("running")))
    worker.submit(lambda: ran.append("queued"))
    started.wait(LIMIT)
    stopper = threading.Thread(target=worker.stop, kwargs={"timeout": LIMIT})
    stopper.start()
    gate.set()
    stopper.join(LIMIT)
    assert ran == ["running"] and not worker.alive
    assert not worker.submit(lambda: ran.append("late"))
    assert worker.wait_idle(LIMIT)


def test_the_worker_cannot_wait_for_itself() -> None:
    worker = Worker(lambda error: None)
    caught: list[BaseException] = []

    def wait_inside() -> None:
        with pytest.raises(RuntimeError) as info:
            worker.wait_idle(1)
        caught.append(info.value)

    worker.submit(wait_inside)
    assert worker.wait_idle(LIMIT)
    assert caught and "cannot wait for itself" in str(caught[0])
    worker.stop()
