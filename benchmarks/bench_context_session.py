"""A 200-turn agent session with large tool results, with and without context management (issue 25).

    python benchmarks/bench_context_session.py [--turns 200]

Each turn: a prompt, a tool call returning ~2,000 tokens (what `describe_dataframe` or `run_python` give), a short
answer. The local server runs in a process of its own (so this process's CPU time is the kernel side only) with the
model's real window (1M tokens) and the default triggers (`--clear-trigger`, `--compact-trigger`): old tool
results cleared from 100,000 input tokens, compaction at 150,000. Prints, for both runs: input tokens sent (what the API counted: uncached, cache write, cache
read), cost (Sonnet 5.5 list prices, cache multipliers), the cost per turn at turns 20 and 200, and the kernel-side
CPU time per turn (medians of turns 6-15 and 191-200). Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("ANTHROPIC_API_KEY", "local-benchmark-key")

MODEL = "claude-sonnet-5-5"
BIG = "row,value\n" + "".join(f"{number},{number * 7 % 13}\n" for number in range(700))


def agent(body: dict[str, Any]) -> Any:
    from claude_magic.testing import Reply, tool_use

    last = body["messages"][-1]["content"]
    if isinstance(last, list) and last and last[-1].get("type") == "tool_result":
        return Reply("The part looks regular: " + "values cycle through 0-12 with no gap, " * 15)
    return Reply(tool_use("read_part", {"part": len(body["messages"])}))


def serve(port_file: str) -> None:
    """The local server with the agent's answers, until stdin closes."""
    from claude_magic.testing import LocalServer

    with LocalServer() as server:
        server.default = agent
        with open(port_file, "w") as handle:
            handle.write(server.base_url)
        sys.stdin.read()


def run(base_url: str, mode: str, turns: int, triggers: dict[str, int]) -> dict[str, Any]:
    from claude_magic.core.pricing import cost_of
    from claude_magic.core.settings import Settings
    from claude_magic.session import Session
    from claude_magic.tools import Toolbox

    toolbox = Toolbox()

    @toolbox.tool(consent="allow")
    def read_part(part: int) -> str:
        """Read one part of the data set.

        Args:
            part: which part.
        """
        return f"part {part}\n{BIG}"

    session = Session(Settings(base_url=base_url, model=MODEL, max_retries=0, context_management=mode, **triggers),
                      toolbox=toolbox)
    cpu: list[float] = []
    costs: list[float] = []
    shares: list[float] = []            # cache reads / input tokens, per turn
    compacting: list[int] = []          # turns (0-based) that compacted
    sent = 0
    for number in range(1, turns + 1):
        started = time.process_time()
        result = session.ask(f"Look at part {number}.")
        cpu.append(time.process_time() - started)
        if result.status != "complete":
            raise SystemExit(f"{mode}: turn {number} failed: {result.error}")
        costs.append(cost_of(result.usage, MODEL) or 0.0)
        sent += result.usage.total_input_tokens
        shares.append(result.usage.cache_read_input_tokens / max(1, result.usage.total_input_tokens))
        if any(block.get("type") == "compaction" for block in result.content):
            compacting.append(number - 1)
    compacted = sum(1 for message in session.conversation().messages if isinstance(message["content"], list)
                    for block in message["content"] if block.get("type") == "compaction")
    return {"cpu": cpu, "costs": costs, "sent": sent, "compactions": compacted, "shares": shares,
            "compacting": compacting}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--compact-trigger", type=int, default=150_000)
    parser.add_argument("--clear-trigger", type=int, default=100_000)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    triggers = {"compact_trigger": arguments.compact_trigger, "clear_trigger": arguments.clear_trigger}
    if arguments.serve:
        serve(arguments.serve)
        return
    figures = {}
    for mode in ("off", "auto"):
        port_file = f"/tmp/bench-context-{os.getpid()}-{mode}"
        server = subprocess.Popen([sys.executable, __file__, "--serve", port_file], stdin=subprocess.PIPE)
        try:
            while not os.path.exists(port_file) or not Path(port_file).read_text():
                time.sleep(0.05)
            figures[mode] = run(Path(port_file).read_text(), mode, arguments.turns, triggers)
        finally:
            server.stdin.close()  # type: ignore[union-attr]
            server.wait(10)
            os.remove(port_file)
    turns = arguments.turns
    for mode, found in figures.items():
        cpu, costs = found["cpu"], found["costs"]
        early, late = statistics.median(cpu[5:15]) * 1000, statistics.median(cpu[turns - 10:]) * 1000
        print(f"context_management={mode}: {found['sent']:,} input tokens sent, ${sum(costs):.2f} in all, "
              f"{found['compactions']} compactions")
        print(f"  cost per turn: turn 20 ${costs[19]:.4f}, turn {turns} ${costs[-1]:.4f} "
              f"({costs[-1] / costs[19]:.2f} x; target <= 1.5 x); medians of turns 11-20 and {turns - 9}-{turns}: "
              f"{statistics.median(costs[turns - 10:]) / statistics.median(costs[10:20]):.2f} x")
        for turn in found["compacting"]:
            before = found["shares"][max(0, turn - 5):turn]
            after = found["shares"][turn + 1:turn + 6]
            if before and after:
                print(f"  cache-read share around the compaction at turn {turn + 1}: "
                      f"{statistics.mean(before):.1%} over the 5 turns before, {found['shares'][turn]:.1%} on it, "
                      f"{statistics.mean(after):.1%} over the 5 after")
        print(f"  kernel-side CPU per turn: turns 6-15 {early:.1f} ms, turns {turns - 9}-{turns} {late:.1f} ms "
              f"({late / early:.2f} x; target <= 2 x)")


if __name__ == "__main__":
    main()
