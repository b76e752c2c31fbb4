"""The chat panel in JupyterLab's side area (headless Chromium): `%claude chat --side` opens it there, it streams
an answer through the stream widget and stops on Stop, re-running the cell reuses it (one side tab), and a
JupyterLab without the sidecar extension shows the panel in the cell with one line saying so."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claude_magic.panel.side import SIDE_MESSAGES
from claude_magic.testing import LocalServer, Reply, text

from ..panel.lab import BROWSER_ARGS, CHROMIUM, Lab, NotebookPage, env_for, jupyter_lab, open_notebook
from ..panel.test_panel_browser import INPUT, MESSAGES, STATUS, WORDS, send_message

SIDE = ".jupyterlab-sidecar"
SIDE_CELL = "%load_ext claude_magic\n%claude chat --side"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        yield chromium
        chromium.close()


def start_lab(server: LocalServer, root: Path, *, sidecar: bool) -> Any:
    env = env_for(server.base_url)
    config = root.parent / f"{root.name}-config"
    if not sidecar:                 # a front end that has no side area for the panel
        (config / "labconfig").mkdir(parents=True)
        (config / "labconfig" / "page_config.json").write_text(
            json.dumps({"disabledExtensions": {"@jupyter-widgets/jupyterlab-sidecar": True}}))
    env["JUPYTER_CONFIG_DIR"] = str(config)
    return jupyter_lab(root, env, root.parent / f"{root.name}.log")


@pytest.fixture(scope="module")
def lab(server: LocalServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with start_lab(server, tmp_path_factory.mktemp("side"), sidecar=True) as running:
        yield running


def open_side(browser: Any, lab: Lab, server: LocalServer, name: str) -> NotebookPage:
    server.clear()
    notebook = open_notebook(browser, lab, name, [SIDE_CELL, "1 + 1"])
    notebook.run_cell(0)
    return notebook


def test_the_side_panel_opens_streams_and_stops(browser: Any, lab: Lab, server: LocalServer) -> None:
    notebook = open_side(browser, lab, server, "side.ipynb")
    page = notebook.page
    page.wait_for_selector(f"{SIDE} .claude-magic-panel", timeout=60_000)
    notebook.wait_for_text(".jp-Notebook-cell", SIDE_MESSAGES["side"])
    assert page.locator(".jp-Notebook .claude-magic-panel").count() == 0        # not in the cell
    assert page.locator(f"{SIDE} {INPUT}").count() == 1

    server.queue(Reply(text("Hello from the side. " + WORDS), delay=0.05, chunk=6))
    send_message(notebook, "Count slowly")
    notebook.wait_for_text(f"{SIDE} .claude-magic-stream", "word5")        # streamed into the stream widget
    notebook.shot("side-streaming")
    page.click(f"{SIDE} button.claude-magic-stop")
    notebook.wait_for_text(STATUS, "Stopped")
    notebook.wait_turn_done()
    shown = notebook.text(f"{SIDE} {MESSAGES}")
    assert "Hello from the side." in shown and "word299" not in shown
    assert page.locator(f"{SIDE} .claude-magic-stream").count() == 0      # the turn's widget gave way
    notebook.shot("side-stopped")

    # Re-running the cell reuses the side panel: one side tab, the same conversation on screen.
    notebook.run_cell(0)
    notebook.wait_for_text(".jp-Notebook-cell", SIDE_MESSAGES["side"])
    notebook.wait_for_text(f"{SIDE} {MESSAGES}", "Hello from the side.")
    assert page.locator(SIDE).count() == 1 and page.locator(f"{SIDE} .claude-magic-panel").count() == 1
    server.queue(Reply(text("Still answering after the re-run.")))
    send_message(notebook, "Are you there?")
    notebook.wait_for_text(f"{SIDE} {MESSAGES}", "Still answering after the re-run.")
    assert [m["role"] for m in server.message_requests[-1]["messages"]] == ["user", "assistant", "user"]
    notebook.shot("side-rerun")
    page.close()
    assert server.rejections == []


def test_without_a_side_area_the_panel_is_shown_in_the_cell(browser: Any, server: LocalServer,
                                                             tmp_path_factory: pytest.TempPathFactory) -> None:
    with start_lab(server, tmp_path_factory.mktemp("noside"), sidecar=False) as plain:
        notebook = open_side(browser, plain, server, "noside.ipynb")
        page = notebook.page
        cell = ".jp-Notebook-cell"
        page.wait_for_selector(f".jp-Notebook {INPUT}", timeout=60_000)
        page.wait_for_function(
            "([selector, lines]) => lines.some(line => document.querySelector(selector).innerText.includes(line))",
            arg=[cell, [SIDE_MESSAGES["cell"], SIDE_MESSAGES["none"]]], timeout=60_000)
        assert page.locator(SIDE).count() == 0
        assert page.locator(".jp-Notebook .claude-magic-panel").count() == 1
        server.queue(Reply(text("Answered in the cell.")))
        send_message(notebook, "Hello")
        notebook.wait_for_text(MESSAGES, "Answered in the cell.")
        notebook.shot("side-fallback")
        page.close()
    assert server.rejections == []
