"""Money is not math, in a real JupyterLab page with MathJax (headless Chromium): "$5 … $10" reads as text and
`$x^2$` is typeset, in the live view, the finished output, `%claude usage`, `%claude history` and the chat panel.
Both live views (the stream widget and the stock ipywidgets cards). Screenshots: tests/artifacts/currency_*.png."""

from __future__ import annotations

import contextlib
import re
import time
from typing import Any

import nbformat
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from claude_magic.testing import LocalServer, Reply, text

from .conftest import ARTIFACTS, Lab

MONEY = "The basic plan costs $5 per month and the pro plan costs $10."
MATH = "The area grows as $x^2$ when the side doubles."
ANSWER = f"{MONEY}\n\n{MATH}\n\n" + "More words keep the answer streaming for a while. " * 60 + "\n\nThe end."
PANEL_ANSWER = f"{MONEY}\n\n{MATH}\n\nThe end."
PROMPT = "At $5 or $10 a month, which plan? And $x^2$?"
PANEL_PROMPT = "Plans at $5 and $10: which one?"
CELL = ".jp-Notebook .jp-Cell"
# The money and math paragraphs of an element (an output or a panel entry), read in one look inside the page.
PARAGRAPHS = """(root) => {
  const paragraphs = [...root.querySelectorAll('p')];
  const money = paragraphs.filter(p => p.innerText.includes('per month'));
  const math = paragraphs.filter(p => p.innerText.includes('area grows'));
  return {
    money: money.map(p => p.innerText), moneyMath: money.map(p => p.querySelectorAll('mjx-container').length),
    math: math.map(p => p.querySelectorAll('mjx-container').length),
    all: root.querySelectorAll('mjx-container').length, text: root.innerText,
  };
}"""
LIVE = """(cell) => {
  const prompt = cell.querySelector('.jp-InputPrompt');
  const live = [...cell.querySelectorAll(
    '.jp-OutputArea-output .claude-magic-stream, .jp-OutputArea-output .widget-htmlmath-content')];
  const paragraphs = live.flatMap(element => [...element.querySelectorAll('p')]);
  const money = paragraphs.find(p => p.innerText.includes('per month'));
  const math = paragraphs.find(p => p.innerText.includes('area grows'));
  return {
    running: prompt !== null && prompt.innerText.includes('[*]'), widgets: live.length,
    money: money ? money.innerText : '', moneyMath: money ? money.querySelectorAll('mjx-container').length : -1,
    math: math ? math.querySelectorAll('mjx-container').length : -1,
    finished: cell.querySelector('.claude-magic-output') !== null,
  };
}"""


def write_notebook(lab: Lab, view: str) -> None:
    document = nbformat.v4.new_notebook()
    document.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    document.cells = [nbformat.v4.new_code_cell(source) for source in (
        "%load_ext claude_magic" + ("\n%config ClaudeMagic.stream_widget = False" if view == "stock" else ""),
        f"%%claude\n{PROMPT}", "%claude usage", "%claude history", "%claude chat")]
    nbformat.write(document, lab.root / "money.ipynb")


def reads_as_money(paragraph: str) -> bool:
    return "$5 per month" in paragraph and "$10." in paragraph


@pytest.mark.parametrize("view", ["stream", "stock"])
def test_money_reads_as_text_and_math_is_typeset(lab: Lab, page: Any, claude_server: LocalServer, view: str) -> None:
    """`stream`: the default live view (the append-only stream widget); `stock`: ipywidgets' HTMLMath cards."""
    ARTIFACTS.mkdir(exist_ok=True)
    claude_server.queue(Reply(text(ANSWER), delay=0.03, chunk=10), Reply(text(PANEL_ANSWER), delay=0.01, chunk=5))
    write_notebook(lab, view)
    page.goto(lab.page_url("money.ipynb"))
    page.wait_for_selector(CELL)
    page.wait_for_selector(".jp-StatusBar-Widget:has-text('Idle')", timeout=120_000)
    page.get_by_text("Run", exact=True).first.click()
    page.get_by_text("Run All Cells", exact=True).click()
    cells = page.locator(CELL)
    news = page.locator(".jp-toast-button", has_text="No")         # JupyterLab's news question covers outputs
    with contextlib.suppress(PlaywrightTimeout):                  # (for the screenshots; it may not come up)
        news.first.wait_for(timeout=10_000)
        news.first.click()

    # The live view: while the cell runs, the money paragraph is text and the math paragraph is typeset.
    answer = cells.nth(1)
    samples = []
    deadline = time.monotonic() + 120
    while True:
        assert time.monotonic() < deadline, f"the live view never showed both paragraphs: {samples[-3:]}"
        state = answer.evaluate(LIVE)
        if state["finished"]:
            raise AssertionError(f"the turn ended before the live view showed both paragraphs: {samples[-3:]}")
        if state["running"] and state["widgets"]:
            samples.append(state)
            if reads_as_money(state["money"]) and state["math"] == 1:
                break
        time.sleep(0.2)
    assert state["moneyMath"] == 0, state
    answer.screenshot(path=str(ARTIFACTS / f"currency_{view}_live.png"))
    assert all(sample["moneyMath"] in (-1, 0) for sample in samples), samples     # never typeset, even briefly

    # The finished output (the static bundle that the notebook saves).
    answer.locator(".claude-magic-output").wait_for(timeout=120_000)
    output = answer.locator(".claude-magic-output")
    page.wait_for_function("(element) => element.querySelectorAll('mjx-container').length > 0",
                           arg=output.element_handle(), timeout=60_000)
    finished = output.evaluate(PARAGRAPHS)
    assert [reads_as_money(paragraph) for paragraph in finished["money"]] == [True], finished
    assert finished["moneyMath"] == [0] and finished["math"] == [1] and finished["all"] == 1, finished
    assert re.search(r"\$0\.\d{4}", finished["text"]), finished["text"]            # the footer's cost
    answer.screenshot(path=str(ARTIFACTS / f"currency_{view}_finished.png"))

    # %claude usage: the cost column is dollars, nothing typeset; the columns name their unit.
    usage = cells.nth(2).locator(".jp-OutputArea-output")
    usage.locator("table").wait_for(timeout=120_000)
    shown = usage.evaluate(PARAGRAPHS)
    assert shown["all"] == 0, shown
    assert "cost (USD)" in shown["text"] and "cache-write tokens" in shown["text"]
    assert len(re.findall(r"\$0\.\d{4}", shown["text"])) == 2, shown["text"]        # the conversation and session
    # %claude history: the prompt's prices are text, its `$x^2$` is typeset.
    history = cells.nth(3).locator(".jp-OutputArea-output")
    history.locator("table").wait_for(timeout=120_000)
    page.wait_for_function("(element) => element.querySelectorAll('mjx-container').length > 0",
                           arg=history.element_handle(), timeout=60_000)
    listed = history.evaluate(PARAGRAPHS)
    assert "At $5 or $10 a month, which plan? And" in listed["text"] and listed["all"] == 1, listed
    page.locator(CELL).nth(2).scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"currency_{view}_usage_history.png"))

    # The chat panel: the cell's turn (drawn from history) and a turn sent from the panel.
    panel = page.locator(".claude-magic-panel")
    panel.wait_for(timeout=120_000)
    panel.locator(".claude-magic-input textarea").fill(PANEL_PROMPT)
    panel.locator(".claude-magic-send").click()
    page.wait_for_function(
        """(panel) => [...panel.querySelectorAll('.claude-magic-entry')].filter(entry =>
             entry.innerText.includes('per month') && entry.querySelectorAll('mjx-container').length > 0
             && entry.innerText.includes('The end.')).length === 2""",
        arg=panel.element_handle(), timeout=120_000)
    assert claude_server.message_requests[-1]["messages"][-1]["content"][-1]["text"] == PANEL_PROMPT
    entries = panel.locator(".claude-magic-entry")
    checked = 0
    for index in range(entries.count()):
        entry = entries.nth(index).evaluate(PARAGRAPHS)
        if not entry["money"]:
            continue
        checked += 1
        assert [reads_as_money(paragraph) for paragraph in entry["money"]] == [True], entry
        assert entry["moneyMath"] == [0] and entry["math"] == [1] and entry["all"] == 1, entry
    assert checked == 2
    bubbles = panel.locator(".claude-magic-prompt")
    texts = [bubbles.nth(index).inner_text() for index in range(bubbles.count())]
    assert any(PANEL_PROMPT in bubble for bubble in texts) and any(PROMPT in bubble for bubble in texts), texts
    assert panel.locator(".claude-magic-prompt mjx-container").count() == 0         # a prompt is shown verbatim
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=str(ARTIFACTS / f"currency_{view}_panel.png"))
