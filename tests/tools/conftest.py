"""Fixtures for the tool tests: a real IPython shell, and a driver that runs turns against the local server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from claude_magic.core.cancellation import Cancellation
from claude_magic.core.events import ConsentRequested, Event, ToolCallFinished, ToolCallStarted
from claude_magic.core.results import TurnResult
from claude_magic.core.settings import Settings, TurnOptions
from claude_magic.session import Session
from claude_magic.testing import LocalServer, Reply
from claude_magic.tools import Toolbox, ToolContext

from ..helpers import local_settings, scratch_namespace


@dataclass
class Driver:
    """A session with its own toolbox, talking to one local server; collects every event."""

    server: LocalServer
    toolbox: Toolbox
    settings: Settings
    events: list[Event] = field(default_factory=list)
    session: Session = field(init=False)

    def __post_init__(self) -> None:
        self.session = Session(self.settings, toolbox=self.toolbox)

    def ask(self, prompt: str = "Go.", *, context: ToolContext | None = None,
            cancellation: Cancellation | None = None, tools: tuple[str, ...] | None = None,
            emit: Any = None, **changes: Any) -> TurnResult:
        """One turn (settings `changes` apply to this turn only)."""
        settings = replace(self.settings, **changes) if changes else self.settings
        return self.session.ask(prompt, settings=settings, options=TurnOptions(tools=tools),
                                emit=emit or self.events.append, cancellation=cancellation, tool_context=context)

    def of_type(self, kind: type) -> list[Any]:
        return [event for event in self.events if isinstance(event, kind)]

    @property
    def finished(self) -> list[ToolCallFinished]:
        return self.of_type(ToolCallFinished)

    @property
    def started(self) -> list[ToolCallStarted]:
        return self.of_type(ToolCallStarted)

    @property
    def consent_requests(self) -> list[ConsentRequested]:
        return self.of_type(ConsentRequested)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.session.conversation().messages

    def tool_results(self, request: int = -1) -> list[dict[str, Any]]:
        """The tool_result blocks of the last user message of a recorded request."""
        last = self.server.message_requests[request]["messages"][-1]
        return [block for block in last["content"] if block.get("type") == "tool_result"]

    def assert_history_valid(self) -> None:
        """One more turn must be accepted by the validating server, and nothing was ever refused."""
        self.server.queue(Reply("History accepted."))
        result = self.ask("Is the history still valid?")
        assert result.status == "complete", result.error
        assert self.server.rejections == []


@pytest.fixture
def toolbox() -> Toolbox:
    return Toolbox()


@pytest.fixture
def driver(claude_server: LocalServer, toolbox: Toolbox) -> Driver:
    return Driver(claude_server, toolbox, local_settings(claude_server))


@pytest.fixture(scope="session")
def ipython() -> Any:
    """A real IPython shell (terminal flavour), shared by the tests."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.testing.globalipapp import start_ipython

    start_ipython()  # returns the shell only on its first call in a process (other suites may come first)
    return InteractiveShell.instance()


@pytest.fixture
def user_ns(ipython: Any) -> Iterator[dict[str, Any]]:
    """The shell's user namespace; names a test adds are removed afterwards (and open figures closed)."""
    with scratch_namespace(ipython) as namespace:
        yield namespace
    plt = __import__("sys").modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")



HOGS = 4   # CPU-bound processes beside a test: on these 2-CPU machines, a load of about 5 with the test itself


@pytest.fixture
def busy_machine() -> Iterator[int]:
    """HOGS busy-looping processes, started before the test and killed after it: a user's loaded machine."""
    import subprocess
    import sys

    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(HOGS)]
    try:
        yield len(hogs)
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.wait()
