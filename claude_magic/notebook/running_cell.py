"""Which notebook cell is running: the cell id IPython hands to its `pre_run_cell` event.

IPython (8.3 and later) puts the front end's cell id in `ExecutionInfo.cell_id`: ipykernel passes the id
JupyterLab / Notebook 7 send, and any shell can pass one with `shell.run_cell(code, cell_id=...)`.
`watch_cells(shell)` keeps the infos of the cells being run (a stack, since a cell may run another with
`get_ipython().run_cell`); `running_cell_id(shell)` reads the innermost one.

Fallback for setups that do not report cell ids this way (IPython 8.0-8.2, whose `ExecutionInfo` has no
`cell_id`, or an ipykernel before 6.12 that does not pass it on): the `cellId` in the metadata of the
kernel's current execute request.
"""

from __future__ import annotations

import contextlib
import weakref
from typing import Any

__all__ = ["CellWatcher", "watch_cells", "unwatch_cells", "running_cell_id", "request_cell_id", "current_execution"]


class CellWatcher:
    """Follows one shell's `pre_run_cell` / `post_run_cell` events to know the running cells."""

    def __init__(self) -> None:
        self._running: list[Any] = []     # ExecutionInfo of the running cells, outermost first
        self._shell: Any = None

    @property
    def current_info(self) -> Any:
        """The innermost running cell's `ExecutionInfo`, or None between cells."""
        return self._running[-1] if self._running else None

    @property
    def depth(self) -> int:
        """How many cells are running (more than one when a cell runs another with `run_cell`)."""
        return len(self._running)

    def register(self, shell: Any) -> None:
        """Listen to `shell`'s cell events; calling it again for the same shell does nothing."""
        if self._shell is shell:
            return
        self.unregister()
        shell.events.register("pre_run_cell", self._pre_run_cell)
        shell.events.register("post_run_cell", self._post_run_cell)
        self._shell = shell

    def unregister(self) -> None:
        """Stop listening and forget the running cells."""
        if self._shell is not None:
            for event, callback in (("pre_run_cell", self._pre_run_cell), ("post_run_cell", self._post_run_cell)):
                with contextlib.suppress(ValueError):  # already removed by someone else
                    self._shell.events.unregister(event, callback)
            self._shell = None
        self._running.clear()

    def _pre_run_cell(self, info: Any) -> None:
        self._running.append(info)

    def _post_run_cell(self, result: Any) -> None:
        """Drop the finished cell (and any inner cell whose end was never reported)."""
        info = getattr(result, "info", None)
        for position in range(len(self._running) - 1, -1, -1):
            if _same_cell(self._running[position], info):
                del self._running[position:]
                return
        # an empty cell reports its end but not its start: nothing to drop


def _same_cell(started: Any, finished: Any) -> bool:
    """The info a cell started with, or the copy IPython builds when the cell's runner itself raised."""
    if started is finished:
        return True
    return finished is not None and (
        getattr(started, "raw_cell", None) == getattr(finished, "raw_cell", None)
        and getattr(started, "cell_id", None) == getattr(finished, "cell_id", None))


_watchers: weakref.WeakKeyDictionary[Any, CellWatcher] = weakref.WeakKeyDictionary()


def watch_cells(shell: Any) -> CellWatcher:
    """The shell's cell watcher, registered (once, however often this is called)."""
    watcher = _watchers.get(shell)
    if watcher is None:
        watcher = _watchers[shell] = CellWatcher()
    watcher.register(shell)
    return watcher


def unwatch_cells(shell: Any) -> None:
    """Stop following the shell's cells (`%unload_ext`)."""
    watcher = _watchers.get(shell)
    if watcher is not None:
        watcher.unregister()


def current_execution(shell: Any) -> Any:
    """The innermost running cell's `ExecutionInfo` (one object per run of a cell), or None between cells."""
    watcher = _watchers.get(shell)
    return watcher.current_info if watcher is not None else None


def running_cell_id(shell: Any) -> str | None:
    """The id of the notebook cell running now, or None (terminal IPython, or a front end without cell ids)."""
    watcher = _watchers.get(shell)
    info = watcher.current_info if watcher is not None else None
    cell_id = getattr(info, "cell_id", None)
    if cell_id:
        return str(cell_id)
    if watcher is not None and watcher.depth > 1:
        return None   # a cell run by another cell: the request's cellId is the outer cell's
    return request_cell_id(shell)


def request_cell_id(shell: Any) -> str | None:
    """The `cellId` of the kernel's current execute request (for shells that do not report cell ids)."""
    try:
        cell_id = shell.kernel.get_parent().get("metadata", {}).get("cellId")
    except (AttributeError, TypeError):
        return None
    return str(cell_id) if cell_id else None
