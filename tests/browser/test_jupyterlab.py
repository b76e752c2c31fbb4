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


def notebook(lab: Lab, name: str = "t.ipynb") -> None:
    document = nbformat.v4.new_notebook()
    document.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    document.cells = [nbformat.v4.new_code_cell("%load_ext claude_magic"),
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
    while "[*]" in second.locator(".jp-InputPrompt").inner_text() or not running_lengths:
        assert time.monotonic() < deadline, "the cell did not finish"
        running = "[*]" in second.locator(".jp-InputPrompt").inner_text()
        contents = second.locator(f"{OUTPUT} .widget-htmlmath-content")
        if running and contents.count():
            running_lengths.append(sum(len(contents.nth(i).inner_text()) for i in range(contents.count())))
            if "forty-two" in second.locator(OUTPUT).first.inner_text() and not shot:
                shot = True
                page.screenshot(path=str(ARTIFACTS / "jupyterlab_live.png"))
        header = second.locator(".jupyter-widget-Collapse-header")
        if running and header.count():
            body = second.locator(".jupyter-widget-Collapse-contents").first
            if not clicked:
                header.first.click()                   # the user opens the thinking section mid-stream
                clicked = True
            else:
                hidden = "lm-mod-hidden" in (body.get_attribute("class") or "")
                thinking_open_samples.append((not hidden, len(body.inner_text())))
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
