"""`claude_magic.map` against the local server: live throughput vs a plain asyncio loop, memory per row, batch overhead.

The server runs in a process of its own (as the API is remote: its work takes none of this process's CPU).

- Live: 2,000 rows at concurrency 16, every request answered after a fixed latency. The baseline, in the
  same run: `AsyncAnthropic` + `asyncio.Semaphore(16)` + `gather` over the same requests. Target: the
  throughput ratio (baseline time / map time) >= 0.9. map's time runs from the call to the result's
  `.frame`: its cost estimate, journal and frame included. Rounds alternate the two; medians printed.
  `--inline-server` runs the server in this process instead (sharing the CPU with both sides).
- Memory: the Python memory a finished result holds (tracemalloc) at 1,000 and 4,000 rows; the slope
  is the bytes per row (linear growth).
- Batch: 10,000 rows with the Batches API, each batch kept in progress 3 s. The server's own time is what
  the API reports (`ended_at - created_at`); map's time, from the call to the result's `.frame`, holds
  the prompts, the cost estimate, the journal, sending the 2.8 MB body, the poll that sees the end,
  reading the 8 MB of results and building the frame. Target: map's time beyond the server's own at most
  2 s. For reference, in the same run: a plain SDK loop (`batches.create`, `retrieve` every 0.1 s, the
  typed `batches.results()` iterator), its time beyond the server's own printed the same way.

Run: `python benchmarks/bench_map.py` (`--only live`, `--only memory`, `--only batch`; `--rounds N`).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd

import claude_magic
from claude_magic import session as session_module
from claude_magic.core.settings import Settings
from claude_magic.session import Session
from claude_magic.testing import LocalServer

MODEL = "claude-sonnet-5-5"
KEY = "local-benchmark-key"
LATENCY = 0.05
ROWS, CONCURRENCY = 2_000, 16
BATCH_ROWS, BATCH_DELAY = 10_000, 3.0
TEMPLATE = "Classify this ticket: {text}"


def rows(count: int, tag: str) -> pd.DataFrame:
    return pd.DataFrame({"text": [f"{tag} ticket {i}: the export button does nothing" for i in range(count)]})


def use_server(base_url: str) -> None:
    session_module._session = Session(Settings(base_url=base_url, model=MODEL))


def timed_map(frame: pd.DataFrame, **options: object) -> tuple[float, Any]:
    """Seconds from the call to the result's frame, and the result."""
    started = time.perf_counter()
    result = claude_magic.map(TEMPLATE, frame, max_cost=float("inf"), progress=False, **options)
    _ = result.frame
    return time.perf_counter() - started, result


def spread(values: list[float], digits: int = 2) -> str:
    return f"median {statistics.median(values):.{digits}f} (range {min(values):.{digits}f}–{max(values):.{digits}f})"


# --- live ------------------------------------------------------------------------------------------


async def plain_loop(base_url: str, frame: pd.DataFrame) -> float:
    import anthropic

    client = anthropic.AsyncAnthropic(base_url=base_url, api_key=KEY, max_retries=4)
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


def live(rounds: int, inline: bool) -> None:
    ratios, plain_times, map_times = [], [], []
    with (inline_server(LATENCY) if inline else server_process(latency=LATENCY)) as base_url:
        use_server(base_url)
        for number in range(rounds):
            plain = asyncio.run(plain_loop(base_url, rows(ROWS, f"a{number}")))
            mapped, result = timed_map(rows(ROWS, f"b{number}"), mode="live", concurrency=CONCURRENCY)
            assert result.totals["ok"] == ROWS, result.summary()
            plain_times.append(plain)
            map_times.append(mapped)
            ratios.append(plain / mapped)
            print(f"  round {number + 1}: plain loop {plain:5.2f} s, map {mapped:5.2f} s, ratio {plain / mapped:.2f}")
    where = "in this process" if inline else "in its own process"
    print(f"live, {ROWS:,} rows at concurrency {CONCURRENCY}, {LATENCY * 1000:.0f} ms per request, the server {where}, "
          f"{rounds} rounds:")
    print(f"  plain asyncio loop  {spread(plain_times)} s")
    print(f"  claude_magic.map    {spread(map_times)} s")
    print(f"  throughput ratio    {spread(ratios)}   (target >= 0.9)")


# --- memory ----------------------------------------------------------------------------------------


def memory() -> None:
    with server_process() as base_url:
        use_server(base_url)
        timed_map(rows(20, "warm"), mode="live")           # first-use imports and clients, not counted
        held = {}
        for count in (1_000, 4_000):
            gc.collect()
            tracemalloc.start()
            _elapsed, kept = timed_map(rows(count, f"m{count}"), mode="live", concurrency=CONCURRENCY)
            gc.collect()
            held[count] = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            del kept
    per_row = (held[4_000] - held[1_000]) / 3_000
    print(f"memory held by a finished result: {held[1_000] / 1e6:.1f} MB at 1,000 rows, "
          f"{held[4_000] / 1e6:.1f} MB at 4,000 rows: {per_row:,.0f} bytes per row")


# --- batch -----------------------------------------------------------------------------------------


def serve(latency: float, batch_delay: float) -> None:
    """The local server, in this process (`--serve`): every answer after `latency` s, each batch in progress
    at least `batch_delay` s; until stdin closes."""
    with LocalServer() as server:
        server.traffic.latency = latency
        server.batches.delay = batch_delay
        print(server.base_url, flush=True)
        sys.stdin.read()


@contextmanager
def inline_server(latency: float) -> Iterator[str]:
    """The local server in this process (its work shares this process's CPU with both sides)."""
    with LocalServer() as server:
        server.traffic.latency = latency
        yield server.base_url
        assert server.rejections == []


@contextmanager
def server_process(latency: float = 0.0, batch_delay: float = 0.0) -> Iterator[str]:
    """The local server in a process of its own (its work takes none of this process's CPU): its base URL."""
    command = [sys.executable, __file__, "--serve", str(latency), str(batch_delay)]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdin is not None and process.stdout is not None
    try:
        yield process.stdout.readline().strip()
    finally:
        process.stdin.close()
        process.wait(timeout=30)


def server_time(client: Any, batch_ids: list[str]) -> float:
    """The seconds the API reports the batches in progress (created_at to ended_at; overlapping ones once)."""
    batches = [client.messages.batches.retrieve(batch_id) for batch_id in batch_ids]
    assert all(b.processing_status == "ended" and b.ended_at is not None for b in batches)
    return (max(b.ended_at for b in batches) - min(b.created_at for b in batches)).total_seconds()


def plain_batch(client: Any, frame: pd.DataFrame) -> tuple[float, list[str]]:
    """The same requests with the bare SDK: create, poll every 0.1 s, read the typed results."""
    started = time.perf_counter()
    requests = [{"custom_id": f"row-{i}", "params": {"model": MODEL, "max_tokens": 1024, "messages": [
        {"role": "user", "content": [{"type": "text", "text": "Classify this ticket: "},
                                     {"type": "text", "text": text}]}]}} for i, text in enumerate(frame["text"])]
    batch = client.messages.batches.create(requests=requests)
    while client.messages.batches.retrieve(batch.id).processing_status != "ended":
        time.sleep(0.1)
    answers = {entry.custom_id: entry.result.message.content[0].text
               for entry in client.messages.batches.results(batch.id)}
    assert len(answers) == len(frame)
    return time.perf_counter() - started, [batch.id]


def batch(rounds: int) -> None:
    import anthropic

    mapped, plain = [], []
    with server_process(batch_delay=BATCH_DELAY) as base_url:
        use_server(base_url)
        client = anthropic.Anthropic(base_url=base_url, api_key=KEY)
        timed_map(rows(20, "warm"), mode="batch")          # connections and first-use imports, not measured
        for number in range(rounds):
            elapsed, result = timed_map(rows(BATCH_ROWS, f"c{number}"), mode="batch")
            assert result.totals["ok"] == BATCH_ROWS, result.summary()
            own = server_time(client, result.batch_ids)
            mapped.append(elapsed - own)
            reference, ids = plain_batch(client, rows(BATCH_ROWS, f"d{number}"))
            plain.append(reference - server_time(client, ids))
            print(f"  round {number + 1}: map {elapsed:5.2f} s, the server's own {own:4.2f} s: overhead "
                  f"{elapsed - own:4.2f} s; plain SDK loop overhead {plain[-1]:4.2f} s")
        client.close()
    print(f"batch, {BATCH_ROWS:,} rows, {rounds} rounds: time beyond the server's own (created → ended)")
    print(f"  claude_magic.map    {spread(mapped)} s   (target <= 2 s)")
    print(f"  plain SDK loop      {spread(plain)} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=["live", "memory", "batch"],
                        help="run only this part (repeatable); default: all")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the live and batch comparisons")
    parser.add_argument("--inline-server", action="store_true",
                        help="live part: the server in this process rather than its own")
    parser.add_argument("--serve", type=float, nargs=2, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(*args.serve)
        return 0
    os.environ.setdefault("ANTHROPIC_API_KEY", KEY)
    os.environ["CLAUDE_MAGIC_MAP_DIR"] = tempfile.mkdtemp(prefix="bench-map-")
    parts = args.only or ["live", "memory", "batch"]
    if "live" in parts:
        live(args.rounds, args.inline_server)
    if "memory" in parts:
        memory()
    if "batch" in parts:
        batch(args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
