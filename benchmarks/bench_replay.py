"""P-REPLAY: Restart & Run All of an unchanged 20-cell notebook makes 0 requests; the overhead per replayed cell.

Real kernels through nbclient, `JPY_SESSION_NAME` set as Jupyter Server sets it, the local server:
1. run the notebook once (20 `%%claude` cells asked: 20 requests; the store is written beside it);
2. Restart & Run All in a new kernel: 0 requests (asserted), every answer replayed from the store;
3. baselines in the same run, same kind of kernel: the same 20 cells as plain code that displays the same
   answers (`display(Markdown(...))`), and the live turns of step 1.
Per cell: the kernel's own time, `shell.execute_reply - iopub.execute_input` (nbclient's timing record).
Overhead per replayed cell = median(replayed cell) - median(plain cell). Target <= 20 ms.

Also, in process: `Session.ask` of a replayed turn at the end of a 20-turn conversation (fingerprint of
the whole conversation, the replay engine, no view), for the part claude-magic itself adds.

`python benchmarks/bench_replay.py [--cells 20] [--rounds 3]`
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

from claude_magic.core.settings import Settings, TurnOptions
from claude_magic.session import Session
from claude_magic.testing import LocalServer

TARGET = 0.020
NOTEBOOK = "bench.ipynb"


def claude_notebook(cells: int) -> Any:
    sources = ["%load_ext claude_magic"] + [f"%%claude\nQuestion {number}: explain item {number} briefly."
                                            for number in range(1, cells + 1)]
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])


def plain_notebook(answers: list[str]) -> Any:
    sources = ["from IPython.display import Markdown, display"] + [f"display(Markdown({answer!r}))"
                                                                    for answer in answers]
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])


def run(notebook: Any, folder: Path, server: LocalServer) -> Any:
    """Execute in a new kernel started in `folder`, the way Jupyter Server starts one for the notebook."""
    path = folder / NOTEBOOK
    env = {**os.environ, "JPY_SESSION_NAME": str(path), "ANTHROPIC_BASE_URL": server.base_url}
    NotebookClient(notebook, timeout=300, kernel_name="python3", record_timing=True,
                   resources={"metadata": {"path": str(folder)}}).execute(env=env)
    return notebook


def cell_seconds(notebook: Any) -> list[float]:
    """The kernel's time for each cell after the first (set-up) cell."""
    times = []
    for cell in notebook.cells[1:]:
        execution = cell.metadata["execution"]
        start = datetime.fromisoformat(execution["iopub.execute_input"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(execution["shell.execute_reply"].replace("Z", "+00:00"))
        times.append((end - start).total_seconds())
    return times


def answers_of(notebook: Any) -> list[str]:
    found = []
    for cell in notebook.cells[1:]:
        for output in cell.outputs:
            if "claude_magic" in output.get("metadata", {}):
                found.append(output["data"]["text/markdown"])
    return found


def in_process(server: LocalServer, turns: int, repeats: int) -> list[float]:
    """Seconds per `Session.ask` that replays the last of `turns` cells (no view)."""
    session = Session(Settings(base_url=server.base_url, max_retries=0))
    for number in range(turns):
        session.ask(f"Question {number}", options=TurnOptions(cell_id=f"cell-{number}", in_cell=True))
    last = TurnOptions(cell_id=f"cell-{turns - 1}", in_cell=True)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = session.ask(f"Question {turns - 1}", options=last)
        times.append(time.perf_counter() - started)
        assert result.replayed
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="Restart & Run All (and plain) runs, alternated")
    args = parser.parse_args()
    os.environ.setdefault("ANTHROPIC_API_KEY", "sk-ant-bench-local")
    with LocalServer() as server:
        folder = Path(tempfile.mkdtemp(prefix="bench-replay-"))
        first = run(claude_notebook(args.cells), folder, server)
        asked = len(server.message_requests)
        assert asked == args.cells, asked
        live = cell_seconds(first)
        plain_cells = plain_notebook(answers_of(first))
        replayed: list[float] = []
        plain: list[float] = []
        for _ in range(args.rounds):
            again = run(claude_notebook(args.cells), folder, server)
            requests = len(server.message_requests) - asked
            assert requests == 0, f"Restart & Run All made {requests} requests"
            assert all('"replayed": true' in json.dumps(output.get("metadata", {}))
                       for cell in again.cells[1:] for output in cell.outputs if "claude_magic"
                       in output.get("metadata", {}))
            replayed += cell_seconds(again)
            plain += cell_seconds(run(plain_cells, folder, server))
        store = folder / ".claude_magic" / f"{NOTEBOOK}.json"
        core = in_process(server, args.cells, 50)

    overhead = statistics.median(replayed) - statistics.median(plain)
    print(f"Restart & Run All of an unchanged {args.cells}-cell notebook, {args.rounds} rounds: 0 requests "
          f"(the first run made {asked}); store {store.stat().st_size:,} bytes")
    print(f"  per cell, median [min-max]: replayed {_ms(replayed)}; plain display of the same answer {_ms(plain)}; "
          f"live turn against the local server {_ms(live)}")
    print(f"  overhead per replayed cell vs plain: {overhead * 1000:+.1f} ms (target <= {TARGET * 1000:.0f} ms); "
          f"replayed / live: {statistics.median(replayed) / statistics.median(live):.2f}")
    print(f"  in process, Session.ask replaying turn {args.cells} of {args.cells} (fingerprint + replay, no view): "
          f"{_ms(core)}")
    return 0 if overhead <= TARGET else 1


def _ms(values: list[float]) -> str:
    return (f"{statistics.median(values) * 1000:.1f} ms [{min(values) * 1000:.1f}-{max(values) * 1000:.1f}]")


if __name__ == "__main__":
    sys.exit(main())
