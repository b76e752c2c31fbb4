"""Notebook cells: what Claude's `run_cell` adds over the user running the same cell, and what a `%%claude` cell adds
to a Run All of a notebook Claude built (zero requests).

In one JupyterLab (headless Chromium, the prebuilt extension, the local server), per round:
- **user**: the page runs a cell (`notebook:run-cell`) until its output is in the cell's model;
- **Claude**: a scripted turn calls `run_cell` on a cell with the same code (policy `allow`, so no one is asked),
  timed in the page from the kernel's first request for that call until the output is in the cell's model.
The code prints one line and builds a small list (a few ms of work), so the ratio shows the overhead.

Then Claude builds a 30-cell notebook (10 `%%claude` cells, each adding three cells and running one), the notebook is
saved, and nbclient runs it headless (replay: no request) against the same notebook without its `%%claude` cells,
interleaved, to give the overhead per `%%claude` cell. Prints medians and ratios.

    python benchmarks/bench_notebook_cells.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from claude_magic.testing import LocalServer, Reply, text, tool_use  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, running_lab  # noqa: E402
from tests.helpers import run_notebook  # noqa: E402

CODE = "values = [n * n for n in range(20000)]\nprint('sum', sum(values))"
SETUP = ("%load_ext claude_magic\n%config ClaudeMagic.stream_widget = False\n"
         "%config ClaudeMagic.tool_policies = {'run_cell': 'allow'}")
# the page's clock: when the kernel's first request of the timed call arrives, when the target cell gets its output
WATCH = """(cellId) => {
  const app = window.jupyterapp, panel = app.shell.currentWidget, kernel = panel.sessionContext.session.kernel;
  window.__bench = {start: null, end: null};
  const onIopub = (_, message) => {
    const data = message.content && message.content.data;
    if (message.header.msg_type === 'comm_msg' && data && data.op === 'read' && data.cell_id === cellId
        && window.__bench.start === null) { window.__bench.start = performance.now(); }
  };
  kernel.iopubMessage.connect(onIopub);
  const index = panel.content.model.sharedModel.cells.findIndex(cell => cell.id === cellId);
  const model = panel.content.model.cells.get(index);
  const onOutputs = () => {
    if (model.outputs.length && window.__bench.end === null) {
      window.__bench.end = performance.now();
      model.outputs.changed.disconnect(onOutputs);
      kernel.iopubMessage.disconnect(onIopub);
    }
  };
  model.outputs.clear();
  model.outputs.changed.connect(onOutputs);
}"""


def wait_for(condition: Any, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark step timed out")
        time.sleep(0.01)
    return value


def cells(page: Any) -> list[dict[str, Any]]:
    return page.evaluate("() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells"
                         ".map(cell => cell.toJSON())")


def run_at(page: Any, index: int) -> None:
    page.evaluate(f"""() => {{ const panel = window.jupyterapp.shell.currentWidget;
      panel.content.activeCellIndex = {index}; void window.jupyterapp.commands.execute('notebook:run-cell'); }}""")


def idle(page: Any) -> bool:
    return page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.status") == "idle"


def add_cell_at_end(page: Any, source: str) -> str:
    return page.evaluate("""(source) => { const shared = window.jupyterapp.shell.currentWidget.content.model.sharedModel;
      return shared.insertCell(shared.cells.length, {cell_type: 'code', source}).id; }""", source)


def user_round(page: Any, cell_id: str, index: int) -> float:
    page.evaluate(WATCH, cell_id)
    page.evaluate("() => { window.__bench.start = performance.now(); }")
    run_at(page, index)
    wait_for(lambda: page.evaluate("() => window.__bench.end") is not None)
    wait_for(lambda: idle(page))
    return page.evaluate("() => window.__bench.end - window.__bench.start")


def claude_round(page: Any, server: LocalServer, cell_id: str, prompt_index: int) -> float:
    server.queue(Reply(tool_use("run_cell", {"cell_id": cell_id})), Reply(text("Ran it.")))
    page.evaluate(WATCH, cell_id)
    run_at(page, prompt_index)
    try:
        wait_for(lambda: page.evaluate("() => window.__bench.end") is not None, timeout=30)
    except TimeoutError:
        print(json.dumps(cells(page)[prompt_index]["outputs"])[:3000])
        raise
    wait_for(lambda: server.queued == 0 and idle(page))
    time.sleep(0.2)
    return page.evaluate("() => window.__bench.end - window.__bench.start")


def build_turns(server: LocalServer, count: int) -> None:
    """`count` turns, each adding three cells (Markdown, code, code) and running the first code cell."""
    for turn in range(count):
        def run_it(body: dict[str, Any], turn: int = turn) -> Reply:
            added = [part for block in body["messages"][-1]["content"] if block.get("type") == "tool_result"
                     for part in [str(block.get("content"))] if part.startswith("Added code cell")]
            return Reply(tool_use("run_cell", {"cell_id": added[0].split()[3]}, id=f"toolu_run_{turn}"))
        server.queue(Reply(tool_use("add_cell", {"source": f"## Step {turn}", "cell_type": "markdown"},
                                    id=f"toolu_md_{turn}"),
                           tool_use("add_cell", {"source": f"x{turn} = {turn} * 2\nx{turn}"}, id=f"toolu_a_{turn}"),
                           tool_use("add_cell", {"source": f"y{turn} = x{turn} + 1"}, id=f"toolu_b_{turn}")),
                     run_it, Reply(text(f"Step {turn} done.")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("CLAUDE_MAGIC_CONFIG_DIR", tempfile.mkdtemp(prefix="bench-config-"))
    with tempfile.TemporaryDirectory() as folder, LocalServer() as server, \
            running_lab(server.base_url, Path(folder)) as lab, sync_playwright() as playwright:
        document = nbformat.v4.new_notebook()
        document.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        document.cells = [nbformat.v4.new_code_cell(SETUP),
                          nbformat.v4.new_code_cell("%%claude --fresh\nRun the cell."),
                          nbformat.v4.new_code_cell(CODE), nbformat.v4.new_code_cell(CODE)]
        nbformat.write(document, lab.root / "bench.ipynb")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(lab.page_url("bench.ipynb"))
        page.wait_for_selector(".jp-Notebook .jp-Cell")
        wait_for(lambda: idle(page))
        run_at(page, 0)
        wait_for(lambda: idle(page) and cells(page)[0].get("execution_count"))
        ids = [cell["id"] for cell in cells(page)]
        user, claude = [], []
        for _ in range(args.rounds):          # interleaved, the first round of each thrown away as warm-up
            user.append(user_round(page, ids[3], 3))
            claude.append(claude_round(page, server, ids[2], 1))
        user, claude = user[1:], claude[1:]
        mu, mc = statistics.median(user), statistics.median(claude)
        print(f"run a cell, until its output is in the cell ({len(user)} rounds, medians):")
        print(f"  user runs it:        {mu:7.1f} ms")
        print(f"  Claude's run_cell:   {mc:7.1f} ms  (ratio {mc / mu:.2f}, overhead {mc - mu:+.1f} ms per cell)")

        # a 30-cell notebook built by Claude, then Run All headless: zero requests, overhead per %%claude cell
        turns = 10
        build = lab.root / "built.ipynb"
        document.cells = [nbformat.v4.new_code_cell(SETUP)] + [
            nbformat.v4.new_code_cell(f"%%claude\nStep {turn}, please.") for turn in range(turns)]
        nbformat.write(document, build)
        page.goto(lab.page_url("built.ipynb"))
        page.wait_for_selector(".jp-Notebook .jp-Cell")
        wait_for(lambda: idle(page))
        build_turns(server, turns)
        page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        wait_for(lambda: server.queued == 0 and idle(page) and len(cells(page)) == 1 + 4 * turns, timeout=600)
        time.sleep(0.5)
        page.evaluate("() => { void window.jupyterapp.commands.execute('docmanager:save'); }")
        wait_for(lambda: len(json.loads(build.read_text() or "{}").get("cells", [])) == 1 + 4 * turns
                 if build.read_text().strip().endswith("}") else False)
        browser.close()
        built = nbformat.read(build, as_version=4)
        plain = copy.deepcopy(built)
        plain.cells = [cell for cell in plain.cells if not cell.source.startswith("%%claude")]
        before = len(server.message_requests)
        env = dict(os.environ, JPY_SESSION_NAME=str(build), ANTHROPIC_BASE_URL=server.base_url,
                   ANTHROPIC_API_KEY="local-test-key")
        with_claude, without = [], []
        for _ in range(3):
            for target, times in ((built, with_claude), (plain, without)):
                run = copy.deepcopy(target)
                started = time.perf_counter()
                run_notebook(run, resources={"metadata": {"path": str(lab.root)}}, env=env)
                times.append(time.perf_counter() - started)
        requests = len(server.message_requests) - before
        code_cells = sum(cell.cell_type == "code" and not cell.source.startswith("%%claude") for cell in built.cells)
        overhead = (statistics.median(with_claude) - statistics.median(without)) / turns * 1000
        print(f"Run All (nbclient) of the {len(built.cells) - 1 - turns}-cell notebook Claude built "
              f"({turns} %%claude cells, {code_cells} code cells), 3 runs each:")
        print(f"  requests sent: {requests}")
        print(f"  with the %%claude cells: {statistics.median(with_claude):.2f} s; without: "
              f"{statistics.median(without):.2f} s; overhead per %%claude cell: {overhead:.0f} ms")


if __name__ == "__main__":
    main()
