"""A `%%claude` cell in a real JupyterLab page (headless Chromium): the answer grows while the cell runs, thinking
is collapsible and stays open while it streams, model HTML stays inert, and the saved notebook shows the
answer after a reload without a kernel (trusted and untrusted) and in nbconvert HTML."""

from __future__ import annotations

import time
from typing import Any

import nbformat
from nbconvert import HTMLExporter

from claude_magic.testing import LocalServer, Reply, text, thinking

from ..views.helpers import assert_inert
from .conftest import ARTIFACTS, Lab

THINKING = "Let me work this out step by step. " * 30
ANSWER = (
    "# The answer\n\nThe answer is **forty-two**, with $x^2$ left for MathJax.\n\n"
    + "A sentence that keeps the stream going for a while. " * 12 + "\n\n"
    + "```python\ndef answer():\n    return 42\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    + '<img src=x onerror="window.__xss=1"> <b onmouseover="window.__xss=2">hover</b>\n\n'
    + '[click](javascript:window.__xss=3) <a href="javascript:window.__xss=4">link</a> '
    + "<script>window.__xss=5</script>\n\n"
    + "More closing words. " * 12 + "\n\nThe end."
)
CELL = ".jp-Notebook .jp-Cell"
OUTPUT = ".jp-OutputArea-output"
# The running cell as one snapshot; `open` clicks the thinking header (as a user would) when it is there.
LOOK = """(cell, open) => {
  const prompt = cell.querySelector('.jp-InputPrompt');
  const contents = [...cell.querySelectorAll('.jp-OutputArea-output .widget-htmlmath-content')];
  const output = cell.querySelector('.jp-OutputArea-output');
  const header = cell.querySelector('.jupyter-widget-Collapse-header');
  const body = cell.querySelector('.jupyter-widget-Collapse-contents');
  const running = prompt !== null && prompt.innerText.includes('[*]');
  const clicked = Boolean(open && header && running);
  if (clicked) { header.click(); }
  return {
    running,
    widgets: contents.length,
    length: contents.reduce((total, element) => total + element.innerText.length, 0),
    fortyTwo: output !== null && output.innerText.includes('forty-two'),
    header: header !== null, clicked,
    open: body !== null && !body.classList.contains('lm-mod-hidden'),
    bodyLength: body === null ? 0 : body.innerText.length,
  };
}"""


def notebook(lab: Lab, name: str = "t.ipynb") -> None:
    document = nbformat.v4.new_notebook()
    document.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    # The stock-widget live view (tests/views/test_stream_browser.py drives the default stream widget)
    document.cells = [nbformat.v4.new_code_cell("%load_ext claude_magic\n%config ClaudeMagic.stream_widget = False"),
                      nbformat.v4.new_code_cell("%%claude --think\nWhat is the answer?")]
    nbformat.write(document, lab.root / name)


def assert_no_xss(page: Any) -> None:
    assert page.evaluate("window.__xss") is None
    for selector in ("img[onerror]", "[onmouseover]", "a[href^='javascript']", "script"):
        assert page.locator(f"{OUTPUT} {selector}").count() == 0, selector


def dismiss_dialogs(page: Any) -> None:
    """Close JupyterLab's dialogs (a reload without a kernel reports the blocked connection)."""
    try:
        page.wait_for_selector(".jp-Dialog", timeout=3000)
    except Exception:  # noqa: BLE001 - no dialog came up: nothing to close
        return
    for _ in range(20):
        dialog = page.locator(".jp-Dialog")
        if not dialog.count():
            return
        checkbox = dialog.locator("input[type=checkbox]")
        if checkbox.count() and not checkbox.first.is_checked():
            checkbox.first.check()                   # "Do not show this message again in this session"
        dialog.locator("button").last.click()
        time.sleep(0.3)


def wait_for(condition: Any, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def saved_answer(lab: Lab, name: str) -> str:
    try:
        document = nbformat.read(lab.root / name, as_version=4)
    except Exception:  # noqa: BLE001 - a half-written file: read again later
        return ""
    outputs = document.cells[1].get("outputs", []) if len(document.cells) > 1 else []
    return "".join(output.get("data", {}).get("text/html", "") for output in outputs)


def test_live_then_saved_output_in_jupyterlab(lab: Lab, page: Any, claude_server: LocalServer) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    claude_server.queue(Reply(thinking(THINKING), text(ANSWER), delay=0.03, chunk=10))
    notebook(lab)
    page.goto(lab.page_url("t.ipynb"))
    page.wait_for_selector(CELL)
    page.wait_for_selector(".jp-StatusBar-Widget:has-text('Idle')", timeout=120_000)     # the kernel is up
    cells = page.locator(CELL)
    page.get_by_text("Run", exact=True).first.click()
    page.get_by_text("Run All Cells", exact=True).click()

    second = cells.nth(1)
    running_lengths: list[int] = []
    thinking_open_samples: list[tuple[bool, int]] = []
    clicked = shot = False
    deadline = time.monotonic() + 120
    while True:
        assert time.monotonic() < deadline, "the cell did not finish"
        # One look inside the page per sample: the turn can end (and its widgets be replaced) at any moment,
        # so nothing is read from an element found in an earlier call.
        state = second.evaluate(LOOK, not clicked)
        if not state["running"] and running_lengths:
            break
        if state["running"] and state["widgets"]:
            running_lengths.append(state["length"])
            if state["fortyTwo"] and not shot:
                shot = True
                page.screenshot(path=str(ARTIFACTS / "jupyterlab_live.png"))
        if state["clicked"]:
            clicked = True                                 # the user opened the thinking section mid-stream
        elif clicked and state["running"] and state["header"]:
            thinking_open_samples.append((state["open"], state["bodyLength"]))
        time.sleep(0.25)

    # The output grew while the cell was still running.
    grown = [length for length in running_lengths if length]
    assert len(set(grown)) >= 2 and grown[-1] > grown[0], running_lengths
    # Thinking was collapsible, and once opened it stayed open while its content kept changing.
    assert clicked and thinking_open_samples
    assert all(is_open for is_open, _length in thinking_open_samples), thinking_open_samples
    assert len({length for _open, length in thinking_open_samples}) >= 2, thinking_open_samples

    # The finished cell: the static output, thinking as a collapsed <details>.
    output = second.locator(".claude-magic-output")
    output.wait_for()
    assert "forty-two" in output.inner_text() and "The end." in output.inner_text()
    details = second.locator("details.claude-magic-thinking")
    assert details.count() == 1 and not details.evaluate("element => element.open")
    details.locator("summary").click()
    assert details.evaluate("element => element.open")
    assert second.locator(f"{OUTPUT} pre span[style]").count() > 0        # highlighted code
    assert_no_xss(page)
    page.screenshot(path=str(ARTIFACTS / "jupyterlab_finished.png"))

    # Save, stop every kernel, reload with kernels blocked: the answer is still there.
    cells.nth(1).locator(".jp-InputPrompt").click()
    page.keyboard.press("Control+s")
    wait_for(lambda: "forty-two" in saved_answer(lab, "t.ipynb"), "the saved notebook")
    for session in lab.api("/api/sessions"):
        lab.api(f"/api/sessions/{session['id']}", method="DELETE")
    wait_for(lambda: lab.api("/api/kernels") == [], "the kernel to stop")
    page.route("**/api/sessions**", lambda route: route.abort())
    page.route("**/api/kernels**", lambda route: route.abort())
    page.goto(lab.page_url("t.ipynb"))
    page.wait_for_selector(".claude-magic-output")
    dismiss_dialogs(page)
    reloaded = page.locator(".claude-magic-output")
    assert "forty-two" in reloaded.inner_text() and "The end." in reloaded.inner_text()
    assert page.locator("details.claude-magic-thinking").count() == 1
    assert "model not found" not in page.locator(CELL).nth(1).inner_text().lower()
    assert lab.api("/api/kernels") == []
    assert_no_xss(page)
    page.screenshot(path=str(ARTIFACTS / "jupyterlab_reloaded.png"))

    # An untrusted copy (its signature no longer matches) shows the answer too.
    copy = nbformat.read(lab.root / "t.ipynb", as_version=4)
    copy.metadata["copied"] = True
    nbformat.write(copy, lab.root / "untrusted.ipynb")
    page.goto(lab.page_url("untrusted.ipynb"))
    page.wait_for_selector(".claude-magic-output")
    dismiss_dialogs(page)
    assert "forty-two" in page.locator(".claude-magic-output").inner_text()
    assert_no_xss(page)
    page.screenshot(path=str(ARTIFACTS / "jupyterlab_untrusted.png"))

    # And nbconvert's HTML export of the saved notebook.
    body, _resources = HTMLExporter().from_notebook_node(nbformat.read(lab.root / "t.ipynb", as_version=4))
    assert "<strong>forty-two</strong>" in body and "claude-magic-thinking" in body
    start = body.index('<div class="claude-magic-output">')
    assert_inert(body[start:body.index("</div></div>", body.index("end_turn", start))])
