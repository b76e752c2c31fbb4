"""Imports made on the calling thread before claude-magic starts a thread that would make them for the first time.

anyio (4.16 and later) parses its own source with `compile(..., ast.PyCF_ONLY_AST)` when it is first imported.
On CPython 3.11 two threads building AST objects at once can fail with "SystemError: AST constructor recursion
depth mismatch" (python/cpython#106905), and IPython parses every cell that way on the main thread. The SDK,
the Agent SDK and mcp all import anyio, so a chat panel's first turn, the Agent SDK's background import or a
loop thread importing them while cells run could break a turn or the user's own cell.
"""

from __future__ import annotations

import contextlib
import importlib

__all__ = ["import_before_threads", "EARLY_MODULES"]

EARLY_MODULES = ("anyio",)


def import_before_threads() -> None:
    """Import `EARLY_MODULES` here (once; later calls are dictionary lookups). Missing ones are skipped."""
    for name in EARLY_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
