"""A real JupyterLab server and headless Chromium for the panel's browser tests (see TESTING.md)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "panel"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Lab:
    """A running JupyterLab: where it serves and which folder it shows."""

    port: int
    token: str
    root: Path

    def url(self, notebook: str) -> str:
        return f"http://127.0.0.1:{self.port}/lab/tree/{notebook}?token={self.token}&reset"


@contextmanager
def jupyter_lab(root: Path, env: dict[str, str], log: Path) -> Iterator[Lab]:
    """Start `jupyter lab` on a free port with a token; stop it (by its PID) afterwards."""
    port, token = free_port(), "panel-test-token"
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]
    with log.open("w") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter lab did not start; see {log}") from None
                time.sleep(0.2)
        yield Lab(port, token, root)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def write_notebook(path: Path, cells: list[str]) -> None:
    """A notebook with these code cells and the python3 kernel (so Lab asks no questions)."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(notebook, path)


class NotebookPage:
    """One notebook open in the browser, with the few actions the tests need."""

    def __init__(self, page: Any, name: str) -> None:
        self.page = page
        self.name = name
        self.kernel_socket: Any = None     # the page's websocket to the kernel, once `watch_kernel_socket` saw it

    def watch_kernel_socket(self) -> None:
        """From now on, keep hold of the websocket the page opens to its kernel (call before opening the notebook)."""
        def opened(socket: Any) -> None:
            if "/channels" in socket.url:
                self.kernel_socket = socket

        self.page.on("websocket", opened)

    @contextmanager
    def expect_sent(self, fragment: str, timeout: float = 60_000) -> Iterator[None]:
        """Around an action: wait until the page has sent the kernel a message containing `fragment`. The kernel
        handles one connection's messages in order, so it sees that one before anything the page sends later."""
        def carries(payload: str | bytes) -> bool:
            return fragment in (payload if isinstance(payload, str) else payload.decode("utf-8", "replace"))

        with self.kernel_socket.expect_event("framesent", predicate=carries, timeout=timeout):
            yield

    def wait_kernel_idle(self) -> None:
        self.page.wait_for_function("document.body.innerText.includes('| Idle')", timeout=60_000)

    def dismiss_news(self) -> None:
        """Answer JupyterLab's first-start "notified about news?" toast, which can cover the panel's corner."""
        button = self.page.locator(".jp-toast-button", has_text="No")
        if button.count():
            button.first.click()

    def run_cell(self, index: int) -> None:
        """Select cell `index` (command mode) and run it in place (Ctrl+Enter)."""
        self.page.locator(".jp-Notebook-cell").nth(index).locator(".jp-InputPrompt").click()
        self.page.keyboard.press("Control+Enter")

    def wait_for_text(self, selector: str, text: str, timeout: float = 60_000) -> None:
        """Until the element's text contains `text` (a safety limit, not a timing assertion)."""
        self.page.wait_for_function(
            "([selector, text]) => { const el = document.querySelector(selector);"
            " return el !== null && el.innerText.includes(text); }",
            arg=[selector, text], timeout=timeout)

    def wait_turn_done(self) -> None:
        """Until the panel's Send button is enabled again (the turn is drawn from the conversation by then)."""
        self.page.wait_for_function("!document.querySelector('button.claude-magic-send').disabled",
                                    timeout=60_000)

    def text(self, selector: str) -> str:
        return str(self.page.inner_text(selector))

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def save(self) -> None:
        """Save the notebook (Ctrl+S) and wait until Lab says it is saved."""
        self.page.locator(".jp-Notebook").click(position={"x": 5, "y": 5})
        self.page.keyboard.press("Control+s")
        self.page.wait_for_function(
            "() => !document.querySelector('.jp-mod-current .jp-mod-dirty')"
            " && !document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty')", timeout=30_000)


def open_notebook(browser: Any, lab: Lab, name: str, cells: list[str]) -> NotebookPage:
    """Write the notebook, open it in a new page and wait for its kernel."""
    write_notebook(lab.root / name, cells)
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    notebook = NotebookPage(page, name)
    notebook.watch_kernel_socket()
    page.goto(lab.url(name))
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    notebook.wait_kernel_idle()
    notebook.dismiss_news()
    return notebook


def env_for(base_url: str) -> dict[str, str]:
    """The server's (and so the kernels') environment: requests go to the local Messages API server."""
    env = dict(os.environ)
    env.update(ANTHROPIC_BASE_URL=base_url, ANTHROPIC_API_KEY="local-test-key")
    env.pop("ANTHROPIC_AUTH_TOKEN", None)
    env.pop("ANTHROPIC_MODEL", None)
    return env
