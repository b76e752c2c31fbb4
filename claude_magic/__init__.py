"""claude-magic: Claude in Jupyter and IPython — `%load_ext claude_magic`, then `%%claude`.

Importing this package is cheap: the SDK, ipywidgets and Markdown load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .core.kernel_session import provide_session
from .core.version import __version__

__all__ = ["load_ipython_extension", "unload_ipython_extension", "ask", "get_session", "tool", "chat",
           "map", "map_resume", "__version__"]

if TYPE_CHECKING:
    from .core.results import TurnResult
    from .session import Session


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext claude_magic`: register the `%claude` / `%%claude` magics."""
    from .cells import front_end
    from .core.early_imports import import_after_this_cell
    from .magics import ClaudeMagic
    from .notebook.failed_cells import tracker_for
    from .notebook.running_cell import watch_cells

    ipython.register_magics(ClaudeMagic(ipython))
    tracker_for(ipython).register(ipython)   # remembers failed cells for `%claude fix` and `$`Err[-1]``
    watch_cells(ipython)                     # the running cell's id, for re-runs that replace their turn
    import_after_this_cell(ipython)          # the first turn's SDK and widgets, in the background, from then on
    front_end().start()                      # hello to claude-magic's JupyterLab extension (notebook tools)


def unload_ipython_extension(ipython: Any) -> None:
    """`%unload_ext claude_magic`: stop following the shell's cells (IPython keeps the magics registered)."""
    from .notebook.failed_cells import untrack
    from .notebook.running_cell import unwatch_cells

    untrack(ipython)
    unwatch_cells(ipython)


def _configured_session() -> Session:
    """The session `chat()` and `map()` use (`core.kernel_session`): with `%config ClaudeMagic...` applied when loaded."""
    from .api import configured_session

    return configured_session()


provide_session(_configured_session)


def get_session() -> Session:
    """The kernel's session: conversations, tools, usage, last result."""
    from .session import get_session as _get_session

    return _get_session()


def ask(prompt: str, **options: Any) -> TurnResult:
    """Ask Claude from Python, in the same conversation as `%%claude` cells.

    Options are the `%%claude` ones by name (model, system, max_tokens, think, effort, new, chat, ...);
    in a notebook the answer streams into the output like a cell's. Returns a `TurnResult`.
    """
    from .api import ask as _ask

    return _ask(prompt, **options)


def __getattr__(name: str) -> Any:
    """`claude_magic.tool`, `chat`, `map` and `map_resume`, imported on first use (keeps `%load_ext` fast)."""
    if name == "tool":
        from .tools import tool

        return tool
    if name == "chat":
        from .panel import chat

        return chat
    if name in ("map", "map_resume"):
        from . import rows

        return getattr(rows, name)
    raise AttributeError(f"module 'claude_magic' has no attribute {name!r}")
