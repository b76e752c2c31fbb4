"""A `%%claude --web` turn in a real JupyterLab page (headless Chromium): search and fetch cards, numbered citation
markers and the sources list, live, finished and in the chat panel; a hostile fetched page stays inert (no request
leaves JupyterLab's origin, no dialog). Screenshots: tests/artifacts/web_*.png."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import nbformat
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from claude_magic.testing import LocalServer, Reply, cite, text, web_fetch, web_search

from .conftest import ARTIFACTS, Lab

DOCS = "https://pandas.pydata.org/docs/user_guide/merging.html"
BLOG = "https://blog.example.com/merge-tips"
EVIL = "https://evil.example.net/page"
CELL = ".jp-Notebook .jp-Cell"
LIVE = """(cell) => {
  const live = cell.querySelector('.jp-OutputArea-output .claude-magic-stream');
  return {
    running: (cell.querySelector('.jp-InputPrompt') || {innerText: ''}).innerText.includes('[*]'),
    cards: live ? live.querySelectorAll('.claude-magic-web').length : 0,
    markers: live ? [...live.querySelectorAll('sup a')].map(a => a.innerText) : [],
    finished: cell.querySelector('.claude-magic-output') !== null,
  };
}"""
FINISHED = """(root) => ({
  cards: [...root.querySelectorAll('.claude-magic-web')].map(card => card.innerText),
  markers: [...root.querySelectorAll('sup a')].map(a => [a.innerText, a.getAttribute('href'), a.title]),
  sources: [...root.querySelectorAll('ol li')].map(item => item.innerText),
  links: [...root.querySelectorAll('a')].map(a => a.getAttribute('href')),
  scripts: root.querySelectorAll('script, style, img, iframe').length,
  text: root.innerText,
})"""


def setup(lab: Lab, server: LocalServer) -> None:
    server.web.add(DOCS, "Merge, join, concatenate — pandas", "merge() joins on columns; how='left' keeps every "
                   "left row.", page_age="3 weeks ago")
    server.web.add(BLOG, "Five merge tips", "Use validate='one_to_one' to catch duplicate keys when you merge.")
    server.web.add(EVIL, 'Evil <img src="https://evil.example.net/title.png" onerror="alert(1)">',
                   '<script>alert("fetched")</script><style>body{background:url(https://evil.example.net/css)}</style>'
                   '<a href="javascript:alert(2)">click</a> <img src="https://evil.example.net/img.png"> merge')
    answer = ("Use `how='left'` to keep every row of the left frame" + " — it is the usual choice" * 12 + ".")
    server.queue(Reply(
        web_search("pandas merge keep all rows"), web_fetch(DOCS), web_fetch(EVIL),
        text(answer, citations=[cite(DOCS, "how='left' keeps every left row")]),
        text(" Check the keys with `validate`.", citations=[cite(BLOG, "validate='one_to_one'"),
                                                             cite(DOCS, "merge() joins on columns")]),
        text(" That page says nothing useful.", citations=[cite(EVIL, '<script>alert("cited")</script>')]),
        delay=0.03, chunk=6))
    document = nbformat.v4.new_notebook()
    document.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    document.cells = [nbformat.v4.new_code_cell(source) for source in (
        "%load_ext claude_magic",
        f"%%claude --web\nHow do I keep all rows when merging? See {DOCS} and {EVIL}", "%claude chat")]
    nbformat.write(document, lab.root / "web.ipynb")


def test_web_turn_cards_citations_and_a_hostile_page(lab: Lab, page: Any, claude_server: LocalServer) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    setup(lab, claude_server)
    outside: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda request: None if request.url.startswith((lab.url, f"blob:{lab.url}", "data:"))
            else outside.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(lab.page_url("web.ipynb"))
    page.wait_for_selector(CELL)
    page.wait_for_selector(".jp-StatusBar-Widget:has-text('Idle')", timeout=120_000)
    page.get_by_text("Run", exact=True).first.click()
    page.get_by_text("Run All Cells", exact=True).click()
    news = page.locator(".jp-toast-button", has_text="No")
    with contextlib.suppress(PlaywrightTimeout):
        news.first.wait_for(timeout=10_000)
        news.first.click()

    answer = page.locator(CELL).nth(1)
    deadline, state = time.monotonic() + 120, {}
    while time.monotonic() < deadline:                # live: the cards and the first marker while it streams
        state = answer.evaluate(LIVE)
        if state["finished"] or (state["running"] and state["cards"] >= 6 and state["markers"]):
            break
        time.sleep(0.1)
    assert not state["finished"] and state["cards"] >= 6 and state["markers"][:1] == ["[1]"], state
    answer.screenshot(path=str(ARTIFACTS / "web_live.png"))

    output = answer.locator(".claude-magic-output")
    output.wait_for(timeout=120_000)
    finished = output.evaluate(FINISHED)
    cards = "\n".join(finished["cards"])
    assert "Web search" in cards and "pandas merge keep all rows" in cards and "3 results" in cards
    assert "Fetched" in cards and "Merge, join, concatenate — pandas" in cards
    assert [marker[0] for marker in finished["markers"]] == ["[1]", "[2]", "[1]", "[3]"], finished["markers"]
    assert finished["markers"][0][1] == DOCS and "how='left' keeps every left row" in finished["markers"][0][2]
    assert len(finished["sources"]) == 3 and "pandas.pydata.org" in finished["sources"][0]
    assert all(link is None or link.startswith("https://") for link in finished["links"]), finished["links"]
    assert finished["scripts"] == 0 and '<script>alert("fetched")</script>' not in finished["text"]
    assert "1 search, 2 fetches" in finished["text"] and "$0.01" in finished["text"]
    output.locator("ol li details summary").first.click()          # the cited text, in its collapsible
    answer.screenshot(path=str(ARTIFACTS / "web_finished.png"))

    panel = page.locator(".claude-magic-panel")
    panel.wait_for(timeout=120_000)
    page.wait_for_function("(panel) => panel.querySelectorAll('.claude-magic-web').length >= 6",
                           arg=panel.element_handle(), timeout=60_000)
    in_panel = panel.locator(".claude-magic-entry", has_text="Web search").first.evaluate(FINISHED)
    assert [marker[0] for marker in in_panel["markers"]] == ["[1]", "[2]", "[1]", "[3]"]
    assert len(in_panel["sources"]) == 3 and in_panel["scripts"] == 0
    panel.screenshot(path=str(ARTIFACTS / "web_panel.png"))
    assert outside == [] and dialogs == [], (outside, dialogs)
