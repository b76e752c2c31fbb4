"""pacing.py: paints are merged, bounded by interval and bytes, and a stalled stream still gets painted."""

from __future__ import annotations

import threading

from claude_magic.views.pacing import Pacer


def test_touches_within_the_interval_are_merged() -> None:
    painted: list[int] = []
    pacer = Pacer(lambda: painted.append(1) or 0, interval=3600)
    for _ in range(1000):
        pacer.touch(5)
    assert pacer.paints == 1                     # the first touch paints; the rest wait for the interval
    pacer.paint(force=True)
    assert pacer.paints == 2


def test_paint_without_changes_does_nothing() -> None:
    pacer = Pacer(lambda: 0, interval=0)
    pacer.paint()
    assert pacer.paints == 0


def test_a_costly_next_paint_waits_for_enough_new_content() -> None:
    pacer = Pacer(lambda: 10_000, interval=0, ratio=1.0, max_wait=3600)
    pacer.touch(1)                                # first paint: nothing was sent yet
    for _ in range(99):
        pacer.touch(100)                          # 9,900 characters are not worth a 10,000-byte repaint
    assert pacer.paints == 1
    pacer.touch(100)
    assert pacer.paints == 2


def test_the_watcher_paints_what_a_stalled_stream_left() -> None:
    painted = threading.Event()
    calls: list[int] = []

    def paint() -> int:
        calls.append(1)
        if len(calls) == 2:
            painted.set()
        return 0

    pacer = Pacer(paint, interval=0.05)
    pacer.start()
    try:
        pacer.touch(1)                            # painted at once
        pacer.touch(1)                            # too soon: left for the watcher
        assert painted.wait(30)
    finally:
        pacer.stop()
    assert pacer.stopped


def test_ticks_come_from_the_watcher() -> None:
    ticked = threading.Event()
    pacer = Pacer(lambda: 0, interval=0.02, tick=ticked.set, tick_every=0.02)
    pacer.start()
    try:
        assert ticked.wait(30)
    finally:
        pacer.stop()
