"""P5 and P6: concurrency of a turn's tool phase, and the agent loop's overhead per tool call.

P5: four independent tools that each sleep 1 s, called in one turn -> wall time of the tool phase
    (first ToolCallStarted to last ToolCallFinished). Target <= 1.3 s (sequential: 4 s).
P6: loop overhead per tool call with a no-op tool -> time from a step's end (StepFinished) to the next
    request (StepStarted): running the tool, recording its result, building the next request (which
    copies the history, so it grows with the turn's length). Target <= 5 ms. Also the executor alone
    (`Toolbox.run`) and a 50-call batch, per call.

Runs the real agent loop and SDK against the local server: `python benchmarks/bench_tools.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from claude_magic.core.events import Event, StepFinished, StepStarted, ToolCallFinished, ToolCallStarted
from claude_magic.core.settings import Settings
from claude_magic.session import Session
from claude_magic.testing import LocalServer, Reply, tool_use
from claude_magic.tools import Toolbox

P5_TARGET = 1.3
P6_TARGET = 0.005


def make_toolbox() -> Toolbox:
    box = Toolbox()

    @box.tool
    def sleep_sync(seconds: float) -> str:
        """Sleep on a thread."""
        time.sleep(seconds)
        return "slept"

    @box.tool
    async def sleep_async(seconds: float) -> str:
        """Sleep on the private loop."""
        await asyncio.sleep(seconds)
        return "slept"

    @box.tool
    def noop() -> str:
        """Do nothing."""
        return "ok"

    return box


class Clock:
    """Records (time, event) for every event of a turn."""

    def __init__(self) -> None:
        self.marks: list[tuple[float, Event]] = []

    def __call__(self, event: Event) -> None:
        self.marks.append((time.perf_counter(), event))

    def first(self, kind: type) -> float:
        return next(at for at, event in self.marks if isinstance(event, kind))

    def last(self, kind: type) -> float:
        return [at for at, event in self.marks if isinstance(event, kind)][-1]

    def gaps(self) -> list[float]:
        """StepFinished -> next StepStarted, for each tool step."""
        gaps, finished = [], None
        for at, event in self.marks:
            if isinstance(event, StepFinished):
                finished = at
            elif isinstance(event, StepStarted) and finished is not None:
                gaps.append(at - finished)
                finished = None
        return gaps


def turn(server: LocalServer, session: Session, replies: list[Reply]) -> Clock:
    server.queue(*replies)
    clock = Clock()
    result = session.ask("Benchmark turn.", emit=clock)
    assert result.status == "complete", result.error
    return clock


def p5(server: LocalServer, session: Session, repeat: int) -> dict[str, float]:
    variants: dict[str, Callable[[], list[Any]]] = {
        "4 sync tools (threads)": lambda: [tool_use("sleep_sync", {"seconds": 1.0}) for _ in range(4)],
        "4 async tools (private loop)": lambda: [tool_use("sleep_async", {"seconds": 1.0}) for _ in range(4)],
        "2 sync + 2 async": lambda: [tool_use("sleep_sync", {"seconds": 1.0}), tool_use("sleep_async", {"seconds": 1.0}),
                                     tool_use("sleep_sync", {"seconds": 1.0}), tool_use("sleep_async", {"seconds": 1.0})],
    }
    figures = {}
    for label, calls in variants.items():
        phases = []
        for _ in range(repeat):
            clock = turn(server, session, [Reply(*calls()), Reply("Done.")])
            phases.append(clock.last(ToolCallFinished) - clock.first(ToolCallStarted))
        figures[label] = max(phases)
    return figures


def p6(server: LocalServer, session: Session, toolbox: Toolbox, steps: int) -> dict[str, float]:
    clock = turn(server, session, [Reply(tool_use("noop", {})) for _ in range(steps)] + [Reply("Done.")])
    gaps = clock.gaps()
    batch = turn(server, session, [Reply(*[tool_use("noop", {}) for _ in range(50)]), Reply("Done.")])
    batch_phase = batch.last(ToolCallFinished) - batch.first(ToolCallStarted)
    direct = []
    for index in range(500):
        started = time.perf_counter()
        toolbox.run([{"type": "tool_use", "id": f"toolu_{index}", "name": "noop", "input": {}}],
                    lambda _event: None, None, None, Settings())
        direct.append(time.perf_counter() - started)
    return {
        "loop step, one no-op call (all, median)": statistics.median(gaps),
        "loop step, first 10 steps (median)": statistics.median(gaps[:10]),
        f"loop step, last 10 of {steps} (median)": statistics.median(gaps[-10:]),
        "per call in a 50-call batch": batch_phase / 50,
        "Toolbox.run, one call (median)": statistics.median(direct),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="P5 turns per variant (the worst is reported)")
    parser.add_argument("--steps", type=int, default=100, help="P6 tool steps in one turn")
    arguments = parser.parse_args()
    os.environ.setdefault("ANTHROPIC_API_KEY", "local-benchmark-key")  # only the local server sees it
    toolbox = make_toolbox()
    with LocalServer() as server:
        settings = Settings(base_url=server.base_url, model="claude-sonnet-5-5", max_retries=0,
                            max_steps=arguments.steps + 5)
        session = Session(settings, toolbox=toolbox)
        turn(server, session, [Reply(tool_use("noop", {})), Reply("Warm up.")])
        print("P5: four 1 s tools in one turn, wall time of the tool phase (worst of "
              f"{arguments.repeat}; target <= {P5_TARGET} s, sequential 4 s)")
        for label, seconds in p5(server, session, arguments.repeat).items():
            print(f"  {label:<34} {seconds:6.3f} s   {seconds / P5_TARGET:5.2f} x target   "
                  f"{4.0 / seconds:4.2f} x faster than sequential")
        print(f"P6: agent-loop overhead per tool call, no-op tool (target <= {P6_TARGET * 1000:.0f} ms)")
        for label, seconds in p6(server, session, toolbox, arguments.steps).items():
            print(f"  {label:<40} {seconds * 1000:7.3f} ms   {seconds / P6_TARGET:5.2f} x target")


if __name__ == "__main__":
    main()
