"""Suite-wide set-up: a canary API key that must never leak, and the local server fixtures."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import pytest

CANARY_KEY = "sk-ant-canary-0123456789abcdefghij-DO-NOT-LEAK"

os.environ["ANTHROPIC_API_KEY"] = CANARY_KEY
os.environ.pop("ANTHROPIC_AUTH_TOKEN", None)
os.environ.pop("ANTHROPIC_BASE_URL", None)
os.environ.pop("ANTHROPIC_MODEL", None)
# The user's own claude-magic folder (store marks, MCP approvals): a fresh one for the suite, never the real one.
os.environ["CLAUDE_MAGIC_CONFIG_DIR"] = tempfile.mkdtemp(prefix="claude-magic-config-")

pytest_plugins = ["claude_magic.testing.pytest_plugin"]


@pytest.fixture(scope="session")
def ipython_shell() -> Any:
    """A real IPython shell (terminal flavour) shared by every suite of the process (extension loaded)."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.testing.globalipapp import start_ipython

    start_ipython()                        # returns None after the first call in a process
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "claude_magic")
    return shell


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    """Fail any test whose captured output or logs contain the canary key (checked across the suite)."""
    outcome = yield
    report = outcome.get_result()
    captured = [content for _when, _key, content in getattr(item, "_report_sections", [])]
    if report.when == "call" and any(CANARY_KEY in text for text in captured):
        report.outcome = "failed"
        report.longrepr = "the API key appeared in this test's captured output or logs"


SLOW_FIRST = ("browser", "packaging")     # minutes-long files run first, so two xdist workers finish together


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that drive JupyterLab in Chromium (tests/browser/, files named *browser*) as `browser`,
    and move them and the wheel-building tests to the front (a file's own order is kept)."""
    for item in items:
        path = item.path
        if path.parent.name == "browser" or "browser" in path.stem:
            item.add_marker(pytest.mark.browser)
    items.sort(key=lambda item: not (item.get_closest_marker("browser") or item.path.parent.name in SLOW_FIRST))
