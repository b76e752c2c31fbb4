"""Importing the Agent SDK ahead of the first Claude Code turn, on a daemon thread, once the engine is known.

`import claude_agent_sdk` costs seconds of CPU (it pulls in `mcp`, `jsonschema` and `rfc3987_syntax`, which
compiles grammars), most of a first turn. Started when `ClaudeMagic.engine = "claude-code"` is set, or when
"auto" is about to ask the CLI for its login, it runs while the user writes the next cell (or while
`claude auth status` runs). The engine waits for it (`wait`) before its own first import of the SDK, so the
two never import the same packages at once. Never started for the API engine: `%load_ext` imports none of it.
"""

from __future__ import annotations

import threading

__all__ = ["warm_up", "wait", "MODULES"]

# In the order a first turn needs them: the kernel tools' definitions (built with `anthropic`), then the SDK.
MODULES = ("anthropic", "claude_agent_sdk")

_started = False
_thread: threading.Thread | None = None
_lock = threading.Lock()


def warm_up() -> bool:
    """Start importing the Agent SDK in the background (once per process); whether this call started it."""
    global _started, _thread
    from .auth import sdk_installed

    with _lock:
        if _started:
            return False
        _started = True
        if not sdk_installed():
            return False
        from ...core.early_imports import import_in_background

        _thread = import_in_background(MODULES, "claude-magic-sdk-import")
    return True


def wait() -> None:
    """Until a background import started by `warm_up` has finished (at once when none runs)."""
    with _lock:
        thread = _thread
    if thread is not None and thread is not threading.current_thread():
        thread.join()

