"""Driving a real IPython kernel: run code, collect iopub messages, interrupt."""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from jupyter_client.manager import start_new_kernel

from ..helpers import KERNEL_START_RACE


def send_execute(client: Any, code: str, *, allow_stdin: bool = False, cell_id: str | None = None) -> str:
    """Send one execute request (as notebook cell `cell_id`, like JupyterLab sends it); return its msg_id.

    `stop_on_error` is off: each test waits for a cell before sending the next, and ipykernel 6 aborts, with no
    output at all, a request that reaches a loaded kernel before it has finished "aborting the queue" after an error.
    """
    content = {"code": code, "silent": False, "store_history": True, "user_expressions": {},
               "allow_stdin": allow_stdin, "stop_on_error": False}
    message = client.session.msg("execute_request", content, metadata={"cellId": cell_id} if cell_id else {})
    client.shell_channel.send(message)
    return message["header"]["msg_id"]


class KernelDriver:
    """A started kernel plus helpers to execute and watch cells."""

    def __init__(self, manager: Any, client: Any) -> None:
        self.manager, self.client = manager, client

    def execute(self, code: str, *, until: Callable[[list[dict[str, Any]]], bool] | None = None,
                timeout: float = 60, on_message: Callable[[dict[str, Any]], None] | None = None,
                stdin: Callable[[dict[str, Any]], str | None] | None = None,
                cell_id: str | None = None) -> list[dict[str, Any]]:
        """Run `code` (as notebook cell `cell_id`, like JupyterLab sends it); return its iopub messages."""
        msg_id = self._send(code, allow_stdin=stdin is not None, cell_id=cell_id)
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if stdin is not None:
                try:
                    request = self.client.get_stdin_msg(timeout=0.01)
                    answer = stdin(request)
                    if answer is not None:
                        self.client.input(answer)
                except queue.Empty:
                    pass
            try:
                message = self.client.get_iopub_msg(timeout=0.05)
            except queue.Empty:
                if until is not None and messages and until(messages):  # a condition outside the kernel (a file)
                    return messages
                continue
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            messages.append(message)
            if on_message is not None:
                on_message(message)
            if until is not None and until(messages):
                return messages
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                return messages
        raise TimeoutError(f"kernel did not finish: {code[:60]!r}")

    def _send(self, code: str, *, allow_stdin: bool, cell_id: str | None) -> str:
        return send_execute(self.client, code, allow_stdin=allow_stdin, cell_id=cell_id)

    def wait_idle(self, msg_id_messages: list[dict[str, Any]], timeout: float = 30) -> list[dict[str, Any]]:
        """Keep reading the same execution's messages until the kernel is idle."""
        msg_id = msg_id_messages[0]["parent_header"]["msg_id"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = self.client.get_iopub_msg(timeout=0.1)
            except queue.Empty:
                continue
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            msg_id_messages.append(message)
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                return msg_id_messages
        raise TimeoutError("kernel did not become idle")


def start_kernel(**env: str) -> tuple[Any, Any]:
    """Start a python3 kernel (environment: os.environ plus `env`); return its manager and a ready client.

    jupyter_client picks free TCP ports, closes them and hands them to the kernel: with tests running in
    parallel another process can take one first ("Address already in use", the kernel dies before replying
    to kernel_info). A new start picks new ports.
    """
    for attempt in range(3):
        try:
            return start_new_kernel(kernel_name="python3", env={**os.environ, **env})
        except RuntimeError as error:
            if KERNEL_START_RACE not in str(error) or attempt == 2:
                raise
    raise AssertionError("unreachable")


@contextmanager
def running_kernel(**env: str) -> Iterator[KernelDriver]:
    """A fresh python3 kernel for one test (its environment: os.environ, plus `env`)."""
    manager, client = start_kernel(**env)
    try:
        yield KernelDriver(manager, client)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


@contextmanager
def claude_kernel(base_url: str, setup: str = "") -> Iterator[KernelDriver]:
    """A fresh kernel whose requests go to the local server at `base_url`, with claude_magic loaded and `setup` run."""
    with running_kernel(ANTHROPIC_BASE_URL=base_url) as driver:
        shown = texts(driver.execute("%load_ext claude_magic\n" + setup))
        assert "Error" not in shown, shown
        yield driver


# Tools for the interrupt tests, to run in a kernel after `.format(marks=folder)`: `slow`, `slow_async` and `guarded`
# leave a file named `mark` in that folder once they run (the test's sign that the kernel got there).
INTERRUPTIBLE_TOOLS = """
import asyncio, json, pathlib, time
import claude_magic
from claude_magic.tools import tool

MARKS = pathlib.Path({marks!r})

@tool
def quick() -> str:
    \"\"\"Answer at once.\"\"\"
    return "quick result"

@tool
def slow(mark: str) -> str:
    \"\"\"Leave a mark, then sleep for a long time.\"\"\"
    (MARKS / mark).touch()
    time.sleep(120)
    return "slow result"

@tool
async def slow_async(mark: str) -> str:
    \"\"\"Leave a mark, then sleep asynchronously for a long time.\"\"\"
    (MARKS / mark).touch()
    await asyncio.sleep(120)
    return "slow async result"

@tool(consent="ask")
def guarded(mark: str) -> str:
    \"\"\"Needs the user's consent.\"\"\"
    (MARKS / mark).touch()
    return "guarded result"
"""


def texts(messages: list[dict[str, Any]]) -> str:
    """Every text a user would see in these messages (streams, displays, updates, errors)."""
    parts = []
    for message in messages:
        content = message["content"]
        if message["msg_type"] == "stream":
            parts.append(content["text"])
        elif message["msg_type"] in ("display_data", "update_display_data", "execute_result"):
            data = content.get("data", {})
            parts.append(data.get("text/markdown") or data.get("text/plain") or "")
        elif message["msg_type"] == "error":
            parts.append(f"{content['ename']}: {content['evalue']}\n" + "\n".join(content["traceback"]))
    return "\n".join(parts)
