"""Fixtures for browser tests: JupyterLab on a free 127.0.0.1 port with a test token, headless Chromium."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from claude_magic.testing import LocalServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# claude-magic's prebuilt JupyterLab extension (an editable install does not put it in share/jupyter/labextensions):
# linked into a Jupyter data path of the test's own
LABEXTENSIONS = Path(__file__).resolve().parents[2] / "claude_magic" / "labextension"


@dataclass
class Lab:
    """A running JupyterLab: its URL, token and the folder it serves."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen[bytes]

    def page_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?token={self.token}&reset"

    def api(self, path: str, method: str = "GET") -> Any:
        import json

        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_lab(base_url: str, tmp_path: Path, app: str = "lab") -> Iterator[Lab]:
    """JupyterLab (`app="lab"`) or Notebook 7 (`"notebook"`), with claude-magic's extension, whose kernels talk to
    the server at `base_url`; stopped (by its PID) after."""
    port, token = _free_port(), secrets.token_hex(16)
    root = tmp_path / "lab"
    root.mkdir()
    data = tmp_path / "data"        # the extension in a Jupyter data path (Notebook 7 serves no extra paths)
    (data / "labextensions").mkdir(parents=True)
    (data / "labextensions" / "claude-magic-cells").symlink_to(LABEXTENSIONS / "claude-magic-cells")
    env = dict(os.environ, ANTHROPIC_BASE_URL=base_url, ANTHROPIC_API_KEY="local-test-key",
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTER_PATH=os.pathsep.join(filter(None, [str(data), os.environ.get("JUPYTER_PATH")])))
    options = {"lab": [f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", "--LabApp.news_url=None",
                       "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                       "--LabApp.expose_app_in_browser=True"],
               "notebook": ["--JupyterNotebookApp.expose_app_in_browser=True"]}[app]
    log = (tmp_path / f"{app}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter", app, "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
         f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", *options],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    started = Lab(f"http://127.0.0.1:{port}", token, root, process)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                started.api("/api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / f"{app}.log").read_text()) from None
                time.sleep(0.2)
        yield started
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


@pytest.fixture
def lab(claude_server: LocalServer, tmp_path: Path) -> Iterator[Lab]:
    """JupyterLab whose kernels talk to `claude_server`; stopped (by its PID) after the test."""
    with running_lab(claude_server.base_url, tmp_path) as started:
        yield started


@pytest.fixture
def page() -> Iterator[Any]:
    """A Chromium page (Debian's chromium driven by Playwright)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1200, "height": 1000})
        finally:
            browser.close()
