"""Claude builds the notebook in a real JupyterLab (headless Chromium, the prebuilt extension): a scripted turn adds
a Markdown cell and two code cells, runs one with consent given on the cell and one refused, reads back its
output (a figure included); the notebook saved and reloaded keeps them; Restart & Run All replays with no request,
no duplicate cell and each cell run once; a re-asked prompt replaces the untouched cells and keeps the user's edit."""

from __future__ import annotations

import json
import time
from typing import Any

import nbformat
import pytest

from claude_magic.testing import LocalServer, Reply, text, tool_use

from ..browser.conftest import ARTIFACTS, Lab
from .scripted import PLOT_CODE, REFUSED_CODE, Transcript, added_ids, queue_build_turn

pytestmark = pytest.mark.browser

CELLS = ".jp-Notebook .jp-Cell"
SETUP = ("%load_ext claude_magic\n%config ClaudeMagic.stream_widget = False\n"
         "import matplotlib\n%matplotlib inline\nruns = []")
PROMPT = "%%claude\nPlot the growth in new cells."


def write_notebook(lab: Lab, name: str) -> None:
    document = nbformat.v4.new_notebook()
    document.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    document.cells = [nbformat.v4.new_code_cell(SETUP), nbformat.v4.new_code_cell(PROMPT),
                      nbformat.v4.new_code_cell("print('runs:', runs)")]
    nbformat.write(document, lab.root / name)


def wait_for(condition: Any, what: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def cells(page: Any) -> list[dict[str, Any]]:
    """The notebook model's cells, as JupyterLab has them now."""
    return page.evaluate("""() => {
      const panel = window.jupyterapp.shell.currentWidget;
      return panel.content.model.sharedModel.cells.map(cell => cell.toJSON());
    }""")


def command(page: Any, name: str) -> None:
    page.evaluate(f"() => {{ void window.jupyterapp.commands.execute({json.dumps(name)}); }}")


def run_cell_at(page: Any, index: int) -> None:
    page.evaluate(f"""() => {{
      const panel = window.jupyterapp.shell.currentWidget;
      panel.content.activeCellIndex = {index};
      void window.jupyterapp.commands.execute('notebook:run-cell');
    }}""")


def idle(page: Any) -> bool:
    return page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.status") == "idle"


def source(cell: dict[str, Any]) -> str:
    value = cell.get("source", "")
    return "".join(value) if isinstance(value, list) else value


def text_of(cell: dict[str, Any]) -> str:
    parts = []
    for output in cell.get("outputs") or []:
        if output.get("output_type") == "stream":
            parts.append(source({"source": output.get("text", "")}))
        for mime, value in (output.get("data") or {}).items():
            if mime.startswith("text/"):
                parts.append(source({"source": value}))
    return "\n".join(parts)


def accept_dialog(page: Any) -> None:
    page.wait_for_selector(".jp-Dialog .jp-mod-accept", timeout=30_000)
    page.locator(".jp-Dialog .jp-mod-accept").first.click()


def test_claude_builds_runs_and_replays_cells_in_jupyterlab(lab: Lab, page: Any, claude_server: LocalServer) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    write_notebook(lab, "built.ipynb")
    transcript = Transcript()
    queue_build_turn(claude_server, transcript)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(lab.page_url("built.ipynb"))
    page.wait_for_selector(CELLS)
    wait_for(lambda: idle(page), "the kernel")
    run_cell_at(page, 0)
    wait_for(lambda: idle(page) and cells(page)[0].get("execution_count"), "the setup cell")
    run_cell_at(page, 1)

    # consent on the cell: Run for the plot cell, then Skip for the other
    try:
        page.wait_for_selector(".claude-magic-consent-run", timeout=60_000)
    except Exception:
        print("CONSOLE", "\n".join(console[-40:]))
        print("CELLS", json.dumps(cells(page), indent=1)[:6000])
        print("REQUESTS", len(claude_server.message_requests), [t.get("name") for t in (claude_server.message_requests or [{}])[0].get("tools", [])])
        raise
    asking = page.locator(".jp-Cell:has(.claude-magic-consent)")
    assert "runs.append('plot')" in asking.inner_text() and "wants to run this cell" in asking.inner_text()
    page.screenshot(path=str(ARTIFACTS / "cells_consent.png"))
    page.locator(".claude-magic-consent-run").click()
    page.wait_for_selector(".claude-magic-consent-skip", timeout=60_000)
    assert "runs.append('refused')" in page.locator(".jp-Cell:has(.claude-magic-consent)").inner_text()
    page.locator(".claude-magic-consent-skip").click()
    wait_for(lambda: claude_server.queued == 0 and idle(page), "the turn to finish")
    wait_for(lambda: "second cell was skipped" in page.locator(CELLS).nth(1).inner_text(), "the answer")

    now = cells(page)
    assert [cell["cell_type"] for cell in now] == ["code", "code", "markdown", "code", "code", "code"], now
    markdown, plot, refused = now[2], now[3], now[4]
    assert source(plot) == PLOT_CODE and source(refused) == REFUSED_CODE
    for cell, tool_use_id in ((markdown, "toolu_add_md"), (plot, "toolu_add_plot"), (refused, "toolu_add_refused")):
        mark = cell["metadata"]["claude_magic"]
        assert mark["made_by"] == "claude" and mark["tool_use_id"] == tool_use_id, mark
        assert mark["prompt_cell"] == now[1]["id"] and mark["model"]
    assert plot["execution_count"] and "plotted 1" in text_of(plot)
    assert any("image/png" in (output.get("data") or {}) for output in plot["outputs"])
    assert not refused["outputs"] and refused["execution_count"] is None
    # Claude got the outputs back, the figure included, and the refusal
    run_results = transcript.steps[1]
    assert "plotted 1" in run_results[0] and "declined" in run_results[1].lower(), run_results
    assert "plotted 1" in transcript.steps[2][0] and "[image/png]" in transcript.steps[2][0]
    plot_request = claude_server.message_requests[2]["messages"][-1]["content"][0]
    assert any(part.get("type") == "image" for part in plot_request["content"]), "the figure reaches Claude"
    # the Markdown cell is inert: no remote image, no raw HTML, nothing ran
    rendered = page.locator(".jp-MarkdownCell").first
    assert rendered.locator("img").count() == 0 and rendered.locator("script").count() == 0
    assert page.evaluate("window.__xss") is None
    assert "Sales plot" in rendered.inner_text()
    page.screenshot(path=str(ARTIFACTS / "cells_built.png"), full_page=True)

    # save, reload the page: the cells and outputs are still there
    page.keyboard.press("Control+s")
    wait_for(lambda: len(lab.api("/api/contents/built.ipynb")["content"]["cells"]) == 6, "the save")
    page.goto(lab.page_url("built.ipynb"))
    page.wait_for_selector(".jp-MarkdownCell")
    wait_for(lambda: idle(page), "the kernel after the reload")
    reloaded = cells(page)
    assert [source(cell) for cell in reloaded] == [source(cell) for cell in now]
    assert "plotted 1" in text_of(reloaded[3])
    requests_before = len(claude_server.message_requests)

    # Restart & Run All: no request, no duplicate cell, each cell run once
    command(page, "notebook:restart-run-all")
    accept_dialog(page)
    wait_for(lambda: "runs:" in text_of(cells(page)[5]) and idle(page), "Run All", timeout=180)
    after = cells(page)
    assert len(claude_server.message_requests) == requests_before, "Run All sent a request"
    assert [source(cell) for cell in after] == [source(cell) for cell in now], "cells changed"
    assert "runs: ['plot', 'refused']" in text_of(after[5]), text_of(after[5])
    assert "plotted 1" in text_of(after[3])
    page.screenshot(path=str(ARTIFACTS / "cells_run_all.png"), full_page=True)

    # the user edits the refused cell, then changes the prompt and re-runs it: the untouched cells are replaced
    page.evaluate("""() => {
      const cell = window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells[4];
      cell.setSource(cell.getSource() + "\\n# kept: the user changed this cell");
    }""")
    page.evaluate("""() => {
      const cell = window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells[1];
      cell.setSource(cell.getSource() + " Use a bar chart instead.");
    }""")

    def bar_chart(body: dict[str, Any]) -> Reply:
        return Reply(tool_use("add_cell", {"source": "runs.append('bars')"}, id="toolu_add_bars"))

    claude_server.queue(bar_chart, lambda body: Reply(text(f"Added {added_ids(body)}.")))
    run_cell_at(page, 1)
    wait_for(lambda: claude_server.queued == 0 and idle(page), "the re-asked turn")
    final = cells(page)
    sources = [source(cell) for cell in final]
    print("PROMPT CELL", page.locator(CELLS).nth(1).inner_text())
    print("SOURCES", sources)
    print("META", [cell.get("metadata") for cell in final])
    assert PLOT_CODE not in sources and not any(s.startswith("# Sales plot") for s in sources), sources
    assert sources[2] == "runs.append('bars')", sources
    assert any(s.startswith(REFUSED_CODE) and "kept" in s for s in sources), "the user's edit is kept"
    assert len(final) == 5, sources
    assert "Kept 1 you edited" in page.locator(CELLS).nth(1).inner_text()
    page.screenshot(path=str(ARTIFACTS / "cells_reasked.png"), full_page=True)

    # the notebook's own undo brings back what Claude's insertion changed
    page.evaluate("() => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = 2; }")
    command(page, "notebook:undo-cell-action")
    wait_for(lambda: len(cells(page)) != 5, "undo")
