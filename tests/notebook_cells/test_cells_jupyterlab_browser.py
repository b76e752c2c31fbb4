"""Claude builds the notebook in a real JupyterLab (headless Chromium, the prebuilt extension): a scripted turn adds
a Markdown cell and two code cells, runs one with consent given on the cell and one refused, reads back its
output (a figure included); the notebook saved and reloaded keeps them; Restart & Run All replays with no request,
no duplicate cell and each cell run once; a re-asked prompt replaces the untouched cells and keeps the user's edit."""

from __future__ import annotations

import json
import os
import urllib.error
from typing import Any

import nbformat
import pytest

from claude_magic.testing import LocalServer, Reply, text, tool_use
from claude_magic.testing.responder import echo_reply

from ..browser.conftest import ARTIFACTS, Lab
from ..engines.conftest import cli_env, is_main_request
from ..helpers import run_notebook
from .page import cells, idle, run_cell_at, source, wait_for
from .scripted import PLOT_CODE, REFUSED_CODE, Transcript, added_ids, build_turn

pytestmark = pytest.mark.browser

CELLS = ".jp-Notebook .jp-Cell"
SETUP = ("%load_ext claude_magic\n%config ClaudeMagic.stream_widget = False\n"
         "import matplotlib\n%matplotlib inline\nruns = []")
PROMPT = "%%claude\nPlot the growth in new cells."


class Engine:
    """The engine a test drives, scripted on the local server: the API engine, or the bundled Claude Code CLI (its
    side requests get the default echo; only the turn's own requests count)."""

    def __init__(self, name: str, server: LocalServer, home: str) -> None:
        self.name, self.server, self.items = name, server, []
        self.prefix = "mcp__claude-magic__" if name == "claude-code" else ""
        self.setup = ""
        if name == "claude-code":
            self.setup = (f"\n%config ClaudeMagic.engine = 'claude-code'"
                          f"\n%config ClaudeMagic.claude_code_env = {cli_env(server, home)!r}")
        server.default = self

    def __call__(self, body: dict[str, Any]) -> Any:
        if self.items and (self.name == "api" or is_main_request(body)):
            item = self.items.pop(0)
            return item(body) if callable(item) else item
        return echo_reply(body)

    def queue(self, *items: Any) -> None:
        self.items.extend(items)

    @property
    def queued(self) -> int:
        return len(self.items)

    def requests(self) -> list[dict[str, Any]]:
        bodies = self.server.message_requests
        return bodies if self.name == "api" else [body for body in bodies if is_main_request(body)]


@pytest.fixture(params=["api", "claude-code"])
def engine(request: Any, claude_server: LocalServer, tmp_path: Any) -> Engine:
    home = tmp_path / "home"
    home.mkdir()
    return Engine(request.param, claude_server, str(home))


def write_notebook(lab: Lab, name: str, setup: str) -> None:
    document = nbformat.v4.new_notebook()
    document.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    document.cells = [nbformat.v4.new_code_cell(SETUP + setup), nbformat.v4.new_code_cell(PROMPT),
                      nbformat.v4.new_code_cell("print('runs:', runs)")]
    nbformat.write(document, lab.root / name)






def command(page: Any, name: str) -> None:
    page.evaluate(f"() => {{ void window.jupyterapp.commands.execute({json.dumps(name)}); }}")








def text_of(cell: dict[str, Any]) -> str:
    parts = []
    for output in cell.get("outputs") or []:
        if output.get("output_type") == "stream":
            parts.append(source({"source": output.get("text", "")}))
        for mime, value in (output.get("data") or {}).items():
            if mime.startswith("text/"):
                parts.append(source({"source": value}))
    return "\n".join(parts)


def saved_cells(lab: Lab, name: str) -> int:
    """How many cells the saved file has (0 while it is being written: the server answers 500 then)."""
    try:
        return len(lab.api(f"/api/contents/{name}")["content"]["cells"])
    except (urllib.error.HTTPError, KeyError, TypeError):
        return 0


def accept_dialog(page: Any) -> None:
    page.wait_for_selector(".jp-Dialog .jp-mod-accept", timeout=30_000)
    page.locator(".jp-Dialog .jp-mod-accept").first.click()


def test_claude_builds_runs_and_replays_cells_in_jupyterlab(lab: Lab, page: Any, engine: Engine) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = f"cells_{engine.name}"
    write_notebook(lab, "built.ipynb", engine.setup)
    transcript = Transcript()
    engine.queue(*build_turn(transcript, engine.prefix))
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
        page.wait_for_selector(".claude-magic-consent-run", timeout=90_000)
    except Exception:
        print("CONSOLE", "\n".join(console[-40:]))
        print("CELLS", json.dumps(cells(page), indent=1)[:6000])
        raise
    asking = page.locator(".jp-Cell:has(.claude-magic-consent)")
    assert "runs.append('plot')" in asking.inner_text() and "wants to run this cell" in asking.inner_text()
    page.screenshot(path=str(ARTIFACTS / f"{shot}_consent.png"))
    page.locator(".claude-magic-consent-run").click()
    page.wait_for_selector(".claude-magic-consent-skip", timeout=60_000)
    assert "runs.append('refused')" in page.locator(".jp-Cell:has(.claude-magic-consent)").inner_text()
    page.locator(".claude-magic-consent-skip").click()
    wait_for(lambda: engine.queued == 0 and idle(page), "the turn to finish")
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
    ran, refusal, read = transcript.steps[3][0], transcript.steps[4][0], transcript.steps[5][0]
    assert "plotted 1" in ran and "declined" in refusal.lower(), (ran, refusal)
    assert "plotted 1" in read and "[image/png]" in read, read
    plot_result = engine.requests()[4]["messages"][-1]["content"]
    assert '"type": "image"' in json.dumps(plot_result), "the figure reaches Claude"
    # the Markdown cell is inert: no remote image, no raw HTML, nothing ran
    rendered = page.locator(".jp-MarkdownCell").first
    assert rendered.locator("img").count() == 0 and rendered.locator("script").count() == 0
    assert page.evaluate("window.__xss") is None
    assert "Sales plot" in rendered.inner_text()
    page.screenshot(path=str(ARTIFACTS / f"{shot}_built.png"), full_page=True)

    # save, reload the page: the cells and outputs are still there
    command(page, "docmanager:save")          # the command, not Ctrl+S: the key needs the notebook to have focus
    wait_for(lambda: saved_cells(lab, "built.ipynb") == 6, "the save")
    page.goto(lab.page_url("built.ipynb"))
    page.wait_for_selector(".jp-MarkdownCell")
    wait_for(lambda: idle(page), "the kernel after the reload")
    reloaded = cells(page)
    assert [source(cell) for cell in reloaded] == [source(cell) for cell in now]
    assert "plotted 1" in text_of(reloaded[3])
    requests_before = len(engine.requests())

    # Restart & Run All: no request, no duplicate cell, each cell run once
    command(page, "notebook:restart-run-all")
    accept_dialog(page)
    wait_for(lambda: "runs:" in text_of(cells(page)[5]) and idle(page), "Run All", timeout=180)
    after = cells(page)
    assert len(engine.requests()) == requests_before, "Run All sent a request"
    assert [source(cell) for cell in after] == [source(cell) for cell in now], "cells changed"
    assert "runs: ['plot', 'refused']" in text_of(after[5]), text_of(after[5])
    assert "plotted 1" in text_of(after[3])
    page.screenshot(path=str(ARTIFACTS / f"{shot}_run_all.png"), full_page=True)

    # the same notebook run by nbclient (no page, no extension): the turn replays, nothing is added or sent
    copy = lab.root / "built_nbclient.ipynb"
    copy.write_text((lab.root / "built.ipynb").read_text())
    headless = nbformat.read(copy, as_version=4)
    run_notebook(headless, resources={"metadata": {"path": str(lab.root)}},
                 env=dict(os.environ, JPY_SESSION_NAME=str(lab.root / "built.ipynb"),
                          ANTHROPIC_BASE_URL=engine.server.base_url, ANTHROPIC_API_KEY="local-test-key"))
    assert len(engine.requests()) == requests_before, json.dumps(headless.cells[1].outputs)[-3000:]
    assert [source(cell) for cell in headless.cells] == [source(cell) for cell in now]
    assert "runs: ['plot', 'refused']" in text_of(headless.cells[5]), text_of(headless.cells[5])
    assert "second cell was skipped" in json.dumps(headless.cells[1].outputs)

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
        return Reply(tool_use(engine.prefix + "add_cell", {"source": "runs.append('bars')"}, id="toolu_add_bars"))

    engine.queue(bar_chart, lambda body: Reply(text(f"Added {added_ids(body)}.")))
    run_cell_at(page, 1)
    wait_for(lambda: engine.queued == 0 and "Added [" in page.locator(CELLS).nth(1).inner_text()
             and "Kept 1 you edited" in page.locator(CELLS).nth(1).inner_text(), "the re-asked turn's answer")
    wait_for(lambda: len(cells(page)) == 5, "the replaced cells")
    final = cells(page)
    sources = [source(cell) for cell in final]
    assert PLOT_CODE not in sources and not any(s.startswith("# Sales plot") for s in sources), sources
    assert sources[2] == "runs.append('bars')", sources
    assert any(s.startswith(REFUSED_CODE) and "kept" in s for s in sources), "the user's edit is kept"
    assert len(final) == 5, sources
    page.screenshot(path=str(ARTIFACTS / f"{shot}_reasked.png"), full_page=True)

    # the notebook's own undo brings back what Claude's insertion changed
    page.evaluate("() => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = 2; }")
    command(page, "notebook:undo-cell-action")
    wait_for(lambda: len(cells(page)) != 5, "undo")
