"""Fixtures for the reliability suite: a real IPython shell on the local server, and a chat panel on it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from claude_magic import session as session_module
from claude_magic.core.settings import Settings
from claude_magic.session import Session
from claude_magic.testing import LocalServer
from claude_magic.tools import Toolbox

from ..conftest import CANARY_KEY
from ..helpers import local_settings, open_panel

TIMEOUT = 1.0           # the read timeout used where a stalled stream must end


SDK_LOGGERS = ("anthropic", "httpx2", "httpcore2")


@pytest.fixture(autouse=True)
def key_never_in_logs_or_widgets(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Across the whole reliability suite: the SDK's DEBUG logs are on, and neither a log record nor the
    state of any open widget may contain the canary key (captured output is checked by tests/conftest.py)."""
    for name in SDK_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    yield
    assert CANARY_KEY not in caplog.text, "the API key appeared in a log record"
    assert not [widget for widget in open_widgets() if CANARY_KEY in widget_state(widget)], \
        "the API key appeared in a widget's state"


@pytest.fixture(autouse=True)
def no_history_refused(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a test did, the validating server never refused a request (checked after every test)."""
    server = request.getfixturevalue("claude_server") if "claude_server" in request.fixturenames else None
    yield
    if server is not None:
        assert server.rejections == [], server.rejections[-1][1]


def open_widgets() -> list[Any]:
    """Every ipywidget not closed yet (only when ipywidgets was imported)."""
    import sys

    module = sys.modules.get("ipywidgets.widgets.widget")
    return list(module._instances.values()) if module is not None else []


def widget_state(widget: Any) -> str:
    """A widget's synced state as the front end would receive it."""
    try:
        return json.dumps(widget.get_state(), default=str)
    except Exception:  # noqa: BLE001 - a widget closed meanwhile has no state to leak
        return ""


@pytest.fixture
def shell(ipython_shell: Any, claude_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The shell with a fresh kernel session whose requests go to `claude_server` (the SDK retries twice)."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", claude_server.base_url)
    session_module._session = None
    magic = ipython_shell.magics_manager.registry["ClaudeMagic"]
    names = ("model", "system", "max_tokens", "thinking", "effort", "max_retries", "timeout", "tool_policies",
             "max_steps")
    saved = {name: getattr(magic, name) for name in names}
    magic.max_retries = 2
    yield ipython_shell
    for name, value in saved.items():
        setattr(magic, name, value)
    session_module._session = None


def run_cell(shell: Any, source: str) -> Any:
    """Run a cell like a user would; returns IPython's ExecutionResult."""
    return shell.run_cell(source, store_history=False)


def magic_of(shell: Any) -> Any:
    return shell.magics_manager.registry["ClaudeMagic"]


def panel_settings(server: LocalServer, **changes: Any) -> Settings:
    """Like `local_settings`, but the SDK retries twice (unless `changes` say otherwise)."""
    return local_settings(server, **{"max_retries": 2, **changes})


@pytest.fixture
def panel_session(claude_server: LocalServer) -> Session:
    """A session of its own (not the kernel's) for a chat panel."""
    return Session(panel_settings(claude_server), toolbox=Toolbox())


@pytest.fixture
def panel(panel_session: Session) -> Iterator[Any]:
    with open_panel(panel_session) as chat:
        yield chat
