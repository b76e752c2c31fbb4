"""Prompt caching over a scripted 20-turn session against the local server's cache simulation.

Prints, per turn, the input tokens and the share served as cache reads, then the share from turn 3 on
(target >= 90 %). Run: `python benchmarks/bench_cache.py`.
"""

from __future__ import annotations

import os

from claude_magic.core.settings import Settings
from claude_magic.session import Session
from claude_magic.testing import LocalServer

TURNS = 20
SYSTEM = "You are a careful data analyst who answers in short Markdown paragraphs. " * 20


def main() -> None:
    os.environ.setdefault("ANTHROPIC_API_KEY", "local-benchmark-key")
    with LocalServer() as server:
        session = Session(Settings(base_url=server.base_url, system=SYSTEM))
        reads = totals = 0
        print(f"{'turn':>4} {'input':>8} {'cache read':>10} {'cache write':>11} {'share':>6}")
        for turn in range(1, TURNS + 1):
            result = session.ask(f"Question {turn}: what should we look at next in the sales data, and why?")
            usage = result.usage
            share = usage.cache_read_input_tokens / usage.total_input_tokens
            print(f"{turn:>4} {usage.total_input_tokens:>8,} {usage.cache_read_input_tokens:>10,} "
                  f"{usage.cache_creation_input_tokens:>11,} {share:>6.1%}")
            if turn >= 3:
                reads += usage.cache_read_input_tokens
                totals += usage.total_input_tokens
        assert server.rejections == []
    print(f"\ncache-read share of input tokens, turns 3-{TURNS}: {reads / totals:.1%} (target >= 90 %)")


if __name__ == "__main__":
    main()
