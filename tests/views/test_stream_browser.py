"""The append-only stream widget in a real JupyterLab page (headless Chromium): the answer grows while the cell
runs, math is typeset, an opened thinking section stays open, a hostile answer leaves no script, handler or
javascript: link in the page, and the finished widget holds the same HTML as the saved output."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import nbformat

from claude_magic.testing import LocalServer, Reply, text, thinking

from ..browser.conftest import ARTIFACTS, Lab, lab, page  # noqa: F401 - the browser fixtures
from ..browser.test_jupyterlab import ANSWER, CELL, THINKING, assert_no_xss, saved_answer, wait_for

REPO = Path(__file__).resolve().parents[2]
STREAM = ".claude-magic-stream"
# The running cell in one look; `open` clicks the thinking summary (as a user would) while it streams.
LOOK = """(cell, open) => {
  const prompt = cell.querySelector('.jp-InputPrompt');
  const stream = cell.querySelector('.claude-magic-stream');
  const running = prompt !== null && prompt.innerText.includes('[*]');
  const text = stream && stream.querySelector('.claude-magic-text');
  const details = stream && stream.querySelector('details.claude-magic-thinking');
  const clicked = Boolean(open && details && running && !details.open);
  if (clicked) { details.querySelector('summary').click(); }
  return {
    running, stream: stream !== null, clicked,
    length: text ? text.innerText.length : 0,
    open: Boolean(details && details.open),
    thinking: details ? details.innerText.length : 0,
    math: stream ? stream.querySelectorAll('mjx-container').length : 0,
    unsafe: stream ? stream.querySelectorAll('script, [onerror], [onmouseover], a[href^="javascript"]').length : 0,
    elapsed: stream ? (stream.querySelector('.claude-magic-elapsed') || {}).textContent || '' : '',
  };
}"""
# A text block's HTML as the page holds it: the live block without its (empty) tail, or the saved one.
LIVE_HTML = """cell => {
  const block = cell.querySelector('.claude-magic-stream .claude-magic-text').cloneNode(true);
  block.querySelectorAll('.cm-tail').forEach(tail => { if (tail.innerHTML === '') tail.remove(); });
  return block.innerHTML;
}"""
SAVED_HTML = """html => {
  const holder = document.createElement('template');
  holder.innerHTML = html;
  return holder.content.querySelector('.claude-magic-text').innerHTML;
}"""
SAME_HTML_ANSWER = ("Plain words with **bold**, *emphasis* and `code`.\n\n" + "A longer paragraph of prose. " * 30
                    + "\n\n- one\n- two\n\n1. first\n2. second\n\n> quoted\n\n```python\nprint('hi')\n```\n\n"
                    + "| a | b |\n|---|---|\n| 1 | 2 |\n\n" + '<img src=x onerror="window.__xss=6">\n\nDone.')


def notebook(lab: Lab, name: str) -> None:  # noqa: F811 - `lab` is the fixture's name too
    document = nbformat.v4.new_notebook()
    document.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    document.cells = [
        nbformat.v4.new_code_cell("%load_ext claude_magic"),
        nbformat.v4.new_code_cell("%%claude --think\nWhat is the answer?"),
        nbformat.v4.new_code_cell(
            f"import sys\nsys.path.insert(0, {str(REPO)!r})\n"
            "from tests.views.helpers import text_turn\n"
            "from claude_magic.views.stream_view import StreamView\n"
            f"events = text_turn({SAME_HTML_ANSWER!r}, size=9)\n"
            "view = StreamView(interval=0)\n"
            "for event in events[:-1]:\n    view(event)\n"
            "view.pacer.paint(force=True)      # every block finished: the widget as it is just before the swap"),
        nbformat.v4.new_code_cell("view(events[-1])"),
    ]
    nbformat.write(document, lab.root / name)


def run_cell(tab: Any, index: int) -> None:
    tab.locator(CELL).nth(index).locator(".jp-InputArea-editor").click()
    tab.keyboard.press("Shift+Enter")


def idle(tab: Any, index: int) -> bool:
    prompt = tab.locator(CELL).nth(index).locator(".jp-InputPrompt").inner_text()
    return "[*]" not in prompt and any(character.isdigit() for character in prompt)


def test_stream_widget_in_jupyterlab(lab: Lab, page: Any, claude_server: LocalServer) -> None:  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    claude_server.queue(Reply(thinking(THINKING), text(ANSWER), delay=0.03, chunk=10))
    notebook(lab, "s.ipynb")
    page.goto(lab.page_url("s.ipynb"))
    page.wait_for_selector(CELL)
    page.wait_for_selector(".jp-StatusBar-Widget:has-text('Idle')", timeout=120_000)
    run_cell(page, 0)
    wait_for(lambda: idle(page, 0), "%load_ext")
    run_cell(page, 1)

    cell = page.locator(CELL).nth(1)
    samples: list[dict[str, Any]] = []
    clicked = shot = False
    deadline = time.monotonic() + 120
    while True:
        assert time.monotonic() < deadline, "the cell did not finish"
        state = cell.evaluate(LOOK, not clicked)
        if not state["running"] and samples:
            break
        if state["running"] and state["stream"]:
            samples.append(state)
            clicked = clicked or state["clicked"]
            if state["math"] and state["length"] > 400 and not shot:
                shot = True
                page.screenshot(path=str(ARTIFACTS / "stream_widget_live.png"))
        time.sleep(0.2)

    lengths = [sample["length"] for sample in samples if sample["length"]]
    assert len(set(lengths)) >= 3 and lengths == sorted(lengths), lengths        # appended, never lost
    assert clicked
    after_click = [sample for sample in samples if sample["thinking"] and samples.index(sample) > 0][1:]
    opened = [sample for sample in after_click if sample["open"]]
    assert opened and all(sample["open"] for sample in samples[samples.index(opened[0]):]), samples
    assert any(sample["math"] for sample in samples), "the page typeset the streamed $x^2$"
    assert any(sample["elapsed"].endswith(" s") for sample in samples)
    assert all(sample["unsafe"] == 0 for sample in samples)

    output = cell.locator(".claude-magic-output")
    output.wait_for()
    assert cell.locator(STREAM).count() == 0                         # the widget gave way to the static output
    assert "forty-two" in output.inner_text() and "The end." in output.inner_text()
    assert_no_xss(page)
    page.screenshot(path=str(ARTIFACTS / "stream_widget_finished.png"))

    # The finished widget holds the same HTML as the output the notebook saves.
    run_cell(page, 2)
    wait_for(lambda: idle(page, 2), "the driven view")
    driven = page.locator(CELL).nth(2)
    driven.locator(f"{STREAM} .claude-magic-text").wait_for()
    wait_for(lambda: "Done." in driven.locator(f"{STREAM} .claude-magic-text").inner_text(), "the last paint")
    live_html = driven.evaluate(LIVE_HTML)
    live_text = driven.locator(f"{STREAM} .claude-magic-text").inner_text()
    page.screenshot(path=str(ARTIFACTS / "stream_widget_same_html.png"))
    assert_no_xss(page)
    run_cell(page, 3)
    driven.locator(".claude-magic-output").wait_for()
    page.keyboard.press("Control+s")
    wait_for(lambda: "Done." in saved_output(lab, "s.ipynb", 2), "the saved notebook")
    assert live_html == page.evaluate(SAVED_HTML, saved_output(lab, "s.ipynb", 2))
    assert live_text == driven.locator(".claude-magic-output .claude-magic-text").inner_text()
    assert "forty-two" in saved_answer(lab, "s.ipynb")
    assert_no_xss(page)


def saved_output(lab: Lab, name: str, index: int) -> str:  # noqa: F811
    try:
        document = json.loads((lab.root / name).read_text())
    except (OSError, ValueError):
        return ""
    outputs = document["cells"][index].get("outputs", [])
    return "".join("".join(output.get("data", {}).get("text/html", "")) for output in outputs)
