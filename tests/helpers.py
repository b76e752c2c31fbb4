"""Helpers several suites share: settings for a session on the local server, a chat panel on a session, a wait that
gives up after LIMIT seconds, a scratch IPython namespace, and every text an exception shows."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from claude_magic.core.settings import Settings
from claude_magic.session import Session
from claude_magic.testing import LocalServer

if TYPE_CHECKING:
    from claude_magic.panel import ChatPanel

MODEL = "claude-sonnet-5-5"
LIMIT = 30.0            # seconds: a safety net for waits (a hang fails), never a timing assertion


def exception_texts(error: BaseException | None) -> Iterator[str]:
    """str, repr and formatted traceback of an exception and everything it was chained to."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield str(error)
        yield repr(error)
        yield "".join(traceback.format_exception(type(error), error, error.__traceback__))
        error = error.__cause__ or error.__context__


def local_settings(server: LocalServer, **changes: Any) -> Settings:
    """Settings whose requests go to `server`: no SDK retries and 30 s per tool call, unless `changes` say otherwise."""
    values: dict[str, Any] = {"base_url": server.base_url, "model": MODEL, "max_retries": 0, "tool_timeout": 30.0}
    values.update(changes)
    return Settings(**values)


@contextmanager
def open_panel(session: Session) -> Iterator[ChatPanel]:
    """A chat panel on `session`, ready for input; closed afterwards."""
    from claude_magic.panel import ChatPanel  # imports ipywidgets: only where a test opens a panel

    chat = ChatPanel(session)
    try:
        assert chat.wait(LIMIT)
        yield chat
    finally:
        chat.close()


def wait_until(condition: Callable[[], object], what: str, limit: float = LIMIT) -> None:
    """Poll `condition` until true (fails after `limit` seconds: a hang, not a slow run)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


@contextmanager
def scratch_namespace(shell: Any) -> Iterator[dict[str, Any]]:
    """The shell's user namespace; names added meanwhile are removed afterwards."""
    before = set(shell.user_ns)
    try:
        yield shell.user_ns
    finally:
        for name in set(shell.user_ns) - before:
            del shell.user_ns[name]


KERNEL_START_RACE = "Kernel died before replying to kernel_info"


def run_notebook(notebook: Any, *, env: dict[str, str] | None = None, **options: Any) -> None:
    """Execute `notebook` in place in a python3 kernel (nbclient), `options` for `NotebookClient`.

    jupyter_client picks free TCP ports, closes them and hands them to the kernel: with tests running in
    parallel another process can take one first, and the kernel dies before it replies to kernel_info, before
    any cell ran. That start, and only that one, is tried again with new ports.
    """
    from nbclient import NotebookClient

    for attempt in range(3):
        try:
            with _sigint_handler_kept():
                NotebookClient(notebook, kernel_name="python3", **options).execute(**({"env": env} if env else {}))
            return
        except RuntimeError as error:
            if KERNEL_START_RACE not in str(error) or attempt == 2:
                raise


@contextmanager
def _sigint_handler_kept() -> Iterator[None]:
    """Put back this process's SIGINT handler afterwards: nbclient's `setup_kernel` installs asyncio's no-op one
    and removes it only once the kernel has started, so a failed start left every later test of the process
    with Ctrl-C (and anything else that relies on the default handler) silently off."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGINT) is not previous and previous is not None:
            signal.signal(signal.SIGINT, previous)
