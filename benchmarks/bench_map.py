"""`claude_magic.map` against the local server: live throughput vs a plain asyncio loop, memory per row, batch overhead.

- Live: 2,000 rows at concurrency 16, every request answered after a fixed latency. The baseline, in the
  same run: `AsyncAnthropic` + `asyncio.Semaphore(16)` + `gather` over the same requests. Target: the
  throughput ratio (baseline time / map time) >= 0.9. map's time includes its cost estimate and journal.
- Memory: the Python memory a finished result holds (tracemalloc) at 1,000 and 4,000 rows; the slope
  is the bytes per row (linear growth).
- Batch: 10,000 rows with the Batches API; map's time beyond the server's own (batch created → ended).
  Target: at most 2 s.

Run: `python benchmarks/bench_map.py`.
"""

from __future__ import annotations

import asyncio
import gc
import os
import tempfile
import time
import tracemalloc

import pandas as pd

import claude_magic
from claude_magic import session as session_module
from claude_magic.session import Session
from claude_magic.settings import Settings
from claude_magic.testing import LocalServer

MODEL = "claude-sonnet-5-5"
LATENCY = 0.05
ROWS, CONCURRENCY = 2_000, 16


def rows(count: int, tag: str) -> pd.DataFrame:
    return pd.DataFrame({"text": [f"{tag} ticket {i}: the export button does nothing" for i in range(count)]})


async def baseline(server: LocalServer, frame: pd.DataFrame) -> float:
    import anthropic

    client = anthropic.AsyncAnthropic(base_url=server.base_url, api_key="local-benchmark-key", max_retries=4)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(text: str) -> str:
        async with gate:
            message = await client.messages.create(model=MODEL, max_tokens=1024, messages=[
                {"role": "user", "content": [{"type": "text", "text": "Classify this ticket: "},
                                             {"type": "text", "text": text}]}])
            return message.content[0].text

    started = time.perf_counter()
    answers = await asyncio.gather(*(one(text) for text in frame["text"]))
    elapsed = time.perf_counter() - started
    assert len(answers) == len(frame)
    await client.close()
    return elapsed


def timed_map(frame: pd.DataFrame, **options: object) -> tuple[float, object]:
    started = time.perf_counter()
    result = claude_magic.map("Classify this ticket: {text}", frame, max_cost=float("inf"), progress=False, **options)
    return time.perf_counter() - started, result


def main() -> None:
    os.environ.setdefault("ANTHROPIC_API_KEY", "local-benchmark-key")
    os.environ["CLAUDE_MAGIC_MAP_DIR"] = tempfile.mkdtemp(prefix="bench-map-")
    with LocalServer() as server:
        session_module._session = Session(Settings(base_url=server.base_url, model=MODEL))
        server.traffic.latency = LATENCY

        # --- live throughput ---
        plain = asyncio.run(baseline(server, rows(ROWS, "a")))
        mapped, result = timed_map(rows(ROWS, "b"), mode="live", concurrency=CONCURRENCY)
        assert result.totals["ok"] == ROWS, result.summary()
        print(f"live, {ROWS:,} rows at concurrency {CONCURRENCY}, {LATENCY * 1000:.0f} ms per request:")
        print(f"  plain asyncio loop  {plain:6.2f} s  ({ROWS / plain:6.0f} rows/s)")
        print(f"  claude_magic.map    {mapped:6.2f} s  ({ROWS / mapped:6.0f} rows/s)")
        print(f"  throughput ratio    {plain / mapped:6.2f}   (target >= 0.9)")

        # --- memory per row ---
        server.traffic.latency = 0.0
        held = {}
        for count in (1_000, 4_000):
            gc.collect()
            tracemalloc.start()
            _elapsed, kept = timed_map(rows(count, f"m{count}"), mode="live", concurrency=CONCURRENCY)
            _ = kept.frame
            gc.collect()
            held[count] = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            del kept
        per_row = (held[4_000] - held[1_000]) / 3_000
        print(f"memory held by a finished result: {held[1_000] / 1e6:.1f} MB at 1,000 rows, "
              f"{held[4_000] / 1e6:.1f} MB at 4,000 rows: {per_row:,.0f} bytes per row")

        # --- batch overhead ---
        server.batches.delay = 3.0
        elapsed, batched = timed_map(rows(10_000, "c"), mode="batch")
        assert batched.totals["ok"] == 10_000, batched.summary()
        own = sum(server.batches._batches[b].ended - server.batches._batches[b].created for b in batched.batch_ids)
        print(f"batch, 10,000 rows: map {elapsed:.2f} s, the server's own time {own:.2f} s: "
              f"overhead {elapsed - own:.2f} s (target <= 2 s)")
        assert server.rejections == []


if __name__ == "__main__":
    main()
