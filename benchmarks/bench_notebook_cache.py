"""The cache-read share of a bundled notebook run top to bottom in a real kernel against the local server.

Issue 25, point 5: a per-cell option (`--code`) that changed the system prompt made its turn write the whole prefix
to the cache again (0 read). This runs `notebooks/data_exploration.ipynb` (or the notebook named) with nbclient,
scripted answers as in `tests/notebooks/test_data_exploration.py`, and prints each `%%claude` cell's input tokens
(uncached, cache write, cache read, from the saved outputs' `claude_magic.usage`) and the share read from the cache.
Run: `python benchmarks/bench_notebook_cache.py [NOTEBOOK]`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from claude_magic.testing import LocalServer, Reply, text

ROOT = Path(__file__).resolve().parents[1]
REPLIES = [
    Reply(text("Revenue rises steadily in every region; **5 values are missing** — check those first.")),
    Reply(text("Yes: the lines climb together, with month-to-month noise of about ±12.")),
    Reply(text("```python\nfilled = sales.assign(revenue=sales.groupby('region')['revenue']"
               ".transform(lambda s: s.interpolate()))\nfilled.head()\n```")),
]


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "notebooks" / "data_exploration.ipynb"
    notebook = nbformat.read(path, as_version=4)
    with LocalServer() as server:
        server.queue(*REPLIES)
        workdir = tempfile.mkdtemp(prefix="bench-notebook-cache-")
        env = {**os.environ, "ANTHROPIC_BASE_URL": server.base_url, "ANTHROPIC_API_KEY": "local-benchmark-key"}
        NotebookClient(notebook, kernel_name="python3", timeout=180,
                       resources={"metadata": {"path": workdir}}).execute(env=env)
        assert server.rejections == [], server.rejections
    print(f"{'cell':<40} {'input':>7} {'write':>7} {'read':>7} {'share':>6}")
    reads = total = 0
    for cell in notebook.cells:
        if cell.cell_type != "code" or not cell.source.startswith("%%claude"):
            continue
        usage = next(output["metadata"]["claude_magic"]["usage"] for output in cell.outputs
                     if "claude_magic" in output.get("metadata", {}))
        whole = usage["input_tokens"] + usage["cache_creation_input_tokens"] + usage["cache_read_input_tokens"]
        reads, total = reads + usage["cache_read_input_tokens"], total + whole
        print(f"{cell.source.splitlines()[0][:40]:<40} {usage['input_tokens']:>7,} "
              f"{usage['cache_creation_input_tokens']:>7,} {usage['cache_read_input_tokens']:>7,} "
              f"{usage['cache_read_input_tokens'] / whole:>6.1%}")
    print(f"\ncache-read share of the notebook's input tokens: {reads / total:.1%}")


if __name__ == "__main__":
    main()
