"""Claude edits and runs cells in Notebook 7 (headless Chromium, the same prebuilt extension): editing its own
cell needs no consent, editing the user's cell asks on that cell (Allow), running asks (Run); the outputs land in
the cell; the cells Claude wrote carry its mark after a reload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from claude_magic.testing import LocalServer, Reply, text, tool_use

from ..browser.conftest import ARTIFACTS, Lab, running_lab
from .page import cells, run_cell_at, source, wait_for
from .scripted import added_ids, results_of

pytestmark = pytest.mark.browser


@pytest.fixture
def notebook7(claude_server: LocalServer, tmp_path: Path) -> Iterator[Lab]:
    """Notebook 7 (`jupyter notebook`) whose kernels talk to `claude_server`."""
    with running_lab(claude_server.base_url, tmp_path, app="notebook") as started:
        yield started










def test_claude_edits_and_runs_cells_in_notebook7(notebook7: Lab, page: Any,
                                                  claude_server: LocalServer) -> None:
    url, token, root = notebook7.url, notebook7.token, notebook7.root
    document = nbformat.v4.new_notebook()
    document.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    document.cells = [nbformat.v4.new_code_cell("%load_ext claude_magic\n%config ClaudeMagic.stream_widget = False"),
                      nbformat.v4.new_code_cell("%%claude\nFix my threshold and show the result."),
                      nbformat.v4.new_code_cell("threshold = 10  # the user's cell")]
    nbformat.write(document, root / "n7.ipynb")
    seen: list[list[str]] = []

    def step(make: Any) -> Any:
        def answer(body: dict[str, Any]) -> Reply:
            seen.append(results_of(body))
            return make(body)
        return answer

    user_cell = document.cells[2].id
    claude_server.queue(
        Reply(tool_use("add_cell", {"source": "print('draft')"}, id="toolu_add")),
        step(lambda body: Reply(tool_use("edit_cell", {"cell_id": added_ids(body)[0],
                                                       "source": "print('threshold is', threshold)"},
                                         id="toolu_edit_own"))),
        step(lambda body: Reply(tool_use("edit_cell", {"cell_id": user_cell, "source": "threshold = 3"},
                                         id="toolu_edit_user"))),
        step(lambda body: Reply(tool_use("run_cell", {"cell_id": user_cell}, id="toolu_run_user"))),
        step(lambda body: Reply(tool_use("read_notebook", {}, id="toolu_read"))),
        step(lambda body: Reply(text("Done: the threshold is 3."))))

    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(f"{url}/notebooks/n7.ipynb?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell")
    wait_for(lambda: page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel"
                                   "?.status") == "idle", "the kernel")
    run_cell_at(page, 0)
    wait_for(lambda: cells(page)[0].get("execution_count"), "the setup cell")
    run_cell_at(page, 1)

    # the user's cell: the edit asks on that cell, showing the new source
    try:
        page.wait_for_selector(".claude-magic-consent-run", timeout=60_000)
    except Exception:
        print("CELLS", cells(page), "CONSOLE", console)
        raise
    asking = page.locator(".jp-Cell:has(.claude-magic-consent)")
    assert "wants to change this cell" in asking.inner_text() and "threshold = 3" in asking.inner_text()
    assert "threshold = 10" in asking.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "cells_notebook7_edit_consent.png"))
    page.locator(".claude-magic-consent-run").click()
    page.wait_for_selector(".claude-magic-consent-run", timeout=60_000)     # then running it asks
    assert "wants to run this cell" in page.locator(".jp-Cell:has(.claude-magic-consent)").inner_text()
    page.locator(".claude-magic-consent-run").click()
    wait_for(lambda: claude_server.queued == 0, "the turn")
    wait_for(lambda: "threshold is 3" in page.locator(".jp-Cell").nth(1).inner_text(), "the answer")

    now = cells(page)
    assert [source(cell) for cell in now[2:]] == ["print('threshold is', threshold)", "threshold = 3"], now
    assert now[2]["metadata"]["claude_magic"]["made_by"] == "claude"
    assert "claude_magic" not in now[3]["metadata"]            # the user's cell stays the user's
    assert now[3]["execution_count"]
    assert "new source" in seen[1][0] and "new source" in seen[2][0], seen   # own edit: no consent asked
    assert "declined" not in " ".join(sum(seen, [])).lower()
    assert "the user's cell" not in seen[-1][0] and "threshold = 3" in seen[-1][0]
    assert page.locator(".claude-magic-cell-mark").count() == 1
    page.screenshot(path=str(ARTIFACTS / "cells_notebook7.png"), full_page=True)
