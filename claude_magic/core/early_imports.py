"""Imports made ahead of time: anyio on the calling thread before any claude-magic thread, and the first turn's
third-party packages in the background once the extension has loaded.

anyio (4.16 and later) parses its own source with `compile(..., ast.PyCF_ONLY_AST)` when it is first imported.
On CPython 3.11 two threads building AST objects at once can fail with "SystemError: AST constructor recursion
depth mismatch" (python/cpython#106905), and IPython parses every cell that way on the main thread. The SDK,
the Agent SDK and mcp all import anyio, so a chat panel's first turn, the Agent SDK's background import or a
loop thread importing them while cells run could break a turn or the user's own cell.

A new kernel's first turn imports `anthropic` (about a second of CPU), ipywidgets and the Markdown renderer.
`import_after_this_cell` starts importing them when the cell that loaded the extension ends, on a daemon
thread, after importing anyio on the main thread. Only third-party packages that never import claude-magic
are imported there: a cell that imports one of them meanwhile waits for that module's lock and gets it whole
(a thread importing claude-magic modules could meet the main thread importing them the other way round).
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Iterable
from typing import Any

__all__ = ["import_before_threads", "import_in_background", "import_after_this_cell", "EARLY_MODULES",
           "FIRST_TURN_MODULES"]

EARLY_MODULES = ("anyio", "anyio.abc")   # each parses its own source to an AST when first imported
# What a notebook's first API turn imports, slowest first: the SDK, the live view's widgets, the renderer.
FIRST_TURN_MODULES = ("anthropic", "ipywidgets", "anywidget", "cmarkgfm", "nh3")


def import_before_threads() -> None:
    """Import `EARLY_MODULES` here (once; later calls are dictionary lookups). Missing ones are skipped."""
    for name in EARLY_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def import_in_background(modules: Iterable[str], thread_name: str) -> threading.Thread:
    """Import `modules` in order on a new daemon thread (after `import_before_threads` here); returns it.

    A module that fails to import ends the thread quietly: whoever needs it imports it again and reports
    what is wrong in one line."""
    import_before_threads()
    names = tuple(modules)

    def run() -> None:
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - see the docstring: the turn reports it
                return

    thread = threading.Thread(target=run, name=thread_name, daemon=True)
    thread.start()
    return thread


def import_after_this_cell(shell: Any) -> None:
    """When the running cell ends (on the main thread, between cells), start importing `FIRST_TURN_MODULES`."""

    def start(*_args: Any) -> None:
        with contextlib.suppress(ValueError):
            shell.events.unregister("post_run_cell", start)
        import_in_background(FIRST_TURN_MODULES, "claude-magic-first-turn-import")

    shell.events.register("post_run_cell", start)
