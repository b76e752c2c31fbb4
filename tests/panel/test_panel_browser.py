"""The chat panel in a real JupyterLab page (headless Chromium): send, stream, stop, cell turns, consent, saving."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import nbformat
import pytest
from playwright.sync_api import expect

from claude_magic.testing import LocalServer, Reply, text, thinking, tool_use

from .lab import BROWSER_ARGS, CHROMIUM, Lab, NotebookPage, env_for, jupyter_lab, open_notebook

PANEL_CELL = "%load_ext claude_magic\nfrom claude_magic.panel import chat\nchat()"
MESSAGES = ".claude-magic-messages"
STATUS = ".claude-magic-status"
INPUT = ".claude-magic-input textarea"
WORDS = " ".join(f"word{number}" for number in range(300))


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local


@pytest.fixture(scope="module")
def lab(server: LocalServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("lab")
    with jupyter_lab(root, env_for(server.base_url), root / "lab.log") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def notebook(request: pytest.FixtureRequest, server: LocalServer, lab: Lab, browser: Any) -> Iterator[NotebookPage]:
    """A fresh notebook (and kernel) whose first cell shows the panel; the second is a `%%claude` cell."""
    server.clear()
    name = f"{request.node.name}.ipynb"
    page = open_notebook(browser, lab, name, [PANEL_CELL, "%%claude\nWhat is 2+2?"])
    page.run_cell(0)
    page.page.wait_for_selector(INPUT, timeout=60_000)
    yield page
    page.page.close()
    assert server.rejections == []


def roles(body: dict[str, Any]) -> list[str]:
    return [message["role"] for message in body["messages"]]


def value_update(message: str) -> str:
    """How a widget update that sets the value to `message` reads on the wire."""
    return '"value":' + json.dumps(message, ensure_ascii=False)


def type_message(notebook: NotebookPage, message: str) -> None:
    """Type into the panel's input; return once the widget has sent the kernel the whole text. (ipywidgets holds
    back value updates while an earlier one is unanswered, and a Send click goes out at once: it could overtake them.)"""
    with notebook.expect_sent(value_update(message)):
        notebook.page.click(INPUT)
        notebook.page.keyboard.type(message)


def send_message(notebook: NotebookPage, message: str) -> None:
    """Put `message` in the panel's input and, once the kernel has it (see `type_message`), press Send."""
    with notebook.expect_sent(value_update(message)):
        notebook.page.fill(INPUT, message)
    notebook.page.click(".claude-magic-send")


def seen_when(notebook: NotebookPage, text: str) -> dict[str, Any]:
    """The message list's text and whether Send is disabled, both read at the first moment the list shows `text`
    (one look inside the page: the stream cannot move on between the two)."""
    return notebook.page.wait_for_function(
        """([messages, send, text]) => {
             const list = document.querySelector(messages);
             if (list === null || !list.innerText.includes(text)) { return false; }
             return {shown: list.innerText, sendDisabled: document.querySelector(send).disabled};
           }""", arg=[MESSAGES, "button.claude-magic-send", text], timeout=60_000).json_value()


def test_typing_and_send_stream_the_answer_then_shift_enter_sends(notebook: NotebookPage, server: LocalServer) -> None:
    page = notebook.page
    server.queue(Reply(thinking("The user greets me."), text("Hello from **Claude**. " + WORDS), delay=0.02, chunk=12))
    type_message(notebook, "Hello there")
    page.click(".claude-magic-send")
    streaming = seen_when(notebook, "word10")
    assert "word299" not in streaming["shown"]      # caught mid-stream: the answer arrives piece by piece
    assert streaming["sendDisabled"]
    notebook.shot("1-streaming")
    notebook.wait_for_text(MESSAGES, "word299")
    notebook.wait_for_text(".claude-magic-panel", "end_turn")       # the footer: the turn is finished
    notebook.wait_turn_done()
    expect(page.locator(INPUT)).to_have_value("", timeout=60_000)
    expect(page.locator(MESSAGES)).to_contain_text("Hello there", timeout=60_000)

    server.queue(Reply(text("Second answer, sent with Shift+Enter.")))
    page.click(INPUT)
    page.keyboard.type("line one")
    page.keyboard.press("Enter")                     # plain Enter: a new line, nothing sent
    page.keyboard.type("line two")
    page.keyboard.press("Shift+Enter")
    notebook.wait_for_text(MESSAGES, "Second answer, sent with Shift+Enter.")
    notebook.wait_turn_done()
    notebook.shot("2-answered")
    expect(page.locator(INPUT)).to_have_value("", timeout=60_000)
    sent = server.message_requests[-1]
    assert roles(sent) == ["user", "assistant", "user"]
    assert sent["messages"][-1]["content"][-1]["text"] == "line one\nline two"

    server.queue(Reply(text("Third, with Ctrl+Enter.")))
    page.click(INPUT)
    page.keyboard.type("ctrl enter")
    page.keyboard.press("Control+Enter")
    notebook.wait_for_text(MESSAGES, "Third, with Ctrl+Enter.")
    assert server.message_requests[-1]["messages"][-1]["content"][-1]["text"] == "ctrl enter"


def test_stop_during_a_slow_stream_keeps_the_partial_answer(notebook: NotebookPage, server: LocalServer) -> None:
    page = notebook.page
    server.queue(Reply(text(WORDS), delay=0.05, chunk=6))
    send_message(notebook, "Count slowly")
    notebook.wait_for_text(MESSAGES, "word5")
    page.click("button.claude-magic-stop")
    notebook.wait_for_text(STATUS, "Stopped")
    notebook.wait_turn_done()
    notebook.shot("3-stopped")
    assert "word299" not in notebook.text(MESSAGES)
    notebook.wait_turn_done()

    server.queue(Reply(text("Still here after the stop.")))
    send_message(notebook, "Are you there?")
    notebook.wait_for_text(MESSAGES, "Still here after the stop.")
    history = server.message_requests[-1]["messages"]
    assert roles(server.message_requests[-1]) == ["user", "assistant", "user"]
    assert history[1]["content"][0]["text"].startswith("word0")


def test_a_cell_turn_appears_in_the_panel_and_shares_its_history(notebook: NotebookPage, server: LocalServer) -> None:
    server.queue(Reply(text("Panel answer.")))
    send_message(notebook, "First, from the panel")
    notebook.wait_for_text(MESSAGES, "Panel answer.")
    notebook.wait_turn_done()

    server.queue(Reply(text("Four."), delay=0.01))
    notebook.run_cell(1)
    notebook.wait_for_text(MESSAGES, "Four.")
    notebook.wait_for_text(MESSAGES, "What is 2+2?")
    notebook.wait_turn_done()
    assert "from a notebook cell" in notebook.text(MESSAGES)
    notebook.shot("4-cell-turn-in-panel")
    cell_request = server.message_requests[-1]
    assert roles(cell_request) == ["user", "assistant", "user"]
    assert cell_request["messages"][0]["content"][0]["text"] == "First, from the panel"


def test_allow_on_a_consent_request_runs_the_tool_on_the_main_thread(notebook: NotebookPage,
                                                                      server: LocalServer) -> None:
    page = notebook.page
    code = "import threading\nthreading.current_thread().name"
    server.queue(Reply(text("Let me check."), tool_use("run_python", {"code": code})),
                 Reply(text("It ran on the kernel's main thread.")))
    send_message(notebook, "Which thread runs your code?")
    page.wait_for_selector(".claude-magic-allow", state="visible", timeout=60_000)
    assert "Claude wants to run run_python" in notebook.text(".claude-magic-consent")
    assert "threading.current_thread().name" in notebook.text(".claude-magic-consent")
    notebook.shot("5-consent")
    page.click(".claude-magic-allow")
    notebook.wait_for_text(MESSAGES, "It ran on the kernel's main thread.")
    notebook.wait_turn_done()
    assert page.locator(".claude-magic-consent").is_hidden()
    assert "✓ done" in notebook.text(MESSAGES)
    notebook.shot("6-tool-done")
    result = server.message_requests[-1]["messages"][-1]["content"][0]
    assert result["type"] == "tool_result"
    assert "MainThread" in json.dumps(result["content"])


def test_the_saved_notebook_shows_the_chat_without_the_panel(notebook: NotebookPage, server: LocalServer,
                                                             lab: Lab, browser: Any) -> None:
    page = notebook.page
    server.queue(Reply(text("An answer worth *keeping*.")))
    send_message(notebook, "Say something to save")
    notebook.wait_for_text(MESSAGES, "An answer worth keeping.")
    notebook.wait_turn_done()
    hidden = page.locator(".claude-magic-chat-transcript")
    page.wait_for_function("document.querySelector('.claude-magic-chat-transcript')"
                           ".textContent.includes('An answer worth keeping.')", timeout=30_000)
    assert hidden.is_hidden()                        # while the live panel shows, its transcript is hidden
    notebook.save()
    saved = nbformat.read(lab.root / notebook.name, as_version=4)
    bundles = [output.get("data", {}) for output in saved.cells[0].outputs]
    transcript = [data for data in bundles if "claude-magic-chat-transcript" in data.get("text/html", "")]
    assert len(transcript) == 1
    assert "An answer worth <em>keeping</em>." in transcript[0]["text/html"]
    assert "Say something to save" in transcript[0]["text/markdown"]

    _shut_down_kernels(lab)
    page.close()
    reopened = browser.new_page(viewport={"width": 1200, "height": 1000})
    reopened.goto(lab.url(notebook.name))
    reopened.wait_for_selector(".claude-magic-chat-transcript", timeout=60_000)
    shown = NotebookPage(reopened, notebook.name)
    assert reopened.locator(".claude-magic-chat-transcript").is_visible()
    assert "An answer worth keeping." in shown.text(".claude-magic-chat-transcript")
    shown.shot("7-reopened-without-panel")
    notebook.page = reopened


def _shut_down_kernels(lab: Lab) -> None:
    """Stop every kernel through the server's REST API (the reopened notebook has no panel to show)."""
    base = f"http://127.0.0.1:{lab.port}/api/kernels"
    headers = {"Authorization": f"token {lab.token}"}
    with urllib.request.urlopen(urllib.request.Request(base, headers=headers)) as response:  # noqa: S310 - local
        kernels = json.loads(response.read())
    for kernel in kernels:
        request = urllib.request.Request(f"{base}/{kernel['id']}", method="DELETE", headers=headers)
        with urllib.request.urlopen(request):  # noqa: S310 - the local Jupyter server
            pass



def test_send_clicked_right_after_typing_while_the_kernel_is_busy_sends_the_whole_text(
        notebook: NotebookPage, server: LocalServer) -> None:
    """A cell keeps the kernel busy: ipywidgets holds the textarea's updates back and a Button click would go out
    at once, overtaking them (the kernel would send 'H'). Send travels with the text instead, as Shift+Enter does."""
    page = notebook.page
    server.queue(Reply(text(WORDS), delay=0.03, chunk=6), Reply(text("Got the whole message.")))
    notebook.run_cell(1)                                            # the %%claude cell: busy for a few seconds
    notebook.wait_for_text(".jp-Notebook-cell:nth-child(2) .jp-OutputArea", "word3")
    page.click(INPUT)
    page.keyboard.type("Hello there, whole message")
    page.click(".claude-magic-send")                                # no waiting for the kernel to see the text
    notebook.wait_for_text(MESSAGES, "Got the whole message.", timeout=120_000)
    notebook.wait_turn_done()
    expect(page.locator(INPUT)).to_have_value("", timeout=60_000)
    sent = server.message_requests[-1]
    assert sent["messages"][-1]["content"][-1]["text"] == "Hello there, whole message"
    assert len(server.message_requests) == 2                        # the cell's turn, then exactly one from the panel
