"""The chat panel: `chat()` shows a ChatPanel working on the same conversations as `%%claude` cells.

Importing this package loads ipywidgets; `claude_magic` imports it only when `chat()` is first called.
"""

from __future__ import annotations

import threading
from typing import Any

from .panel import ChatPanel

__all__ = ["ChatPanel", "chat"]

_by_cell: dict[str, ChatPanel] = {}
_by_cell_lock = threading.Lock()


def chat(conversation: str = "", *, model: str | None = None, system: str | None = None,
         think: str | int | None = None, effort: str | None = None, max_tokens: int | None = None,
         tools: tuple[str, ...] | list[str] | None = None, thinking_open: bool = False,
         height: str = "480px", engine: str | None = None, side: bool = False) -> ChatPanel:
    """A chat panel on `conversation` (default: the one `%%claude` cells use); shown when it is a cell's result.

    Options are the `%%claude` ones: `model` (id or alias; also a selector in the panel), `system`,
    `think` ("adaptive" or a budget), `effort`, `max_tokens`, `tools` (names offered; `()` for none),
    `engine` ("api", "claude-code" or "auto": `ClaudeMagic.engine`).
    Re-running the cell that made a panel closes the old one.
    `side=True`: the panel opens in JupyterLab's right-hand side area (one per kernel: running it again
    reuses the side panel when the options are the same); where the front end has no side area it is
    shown in the cell, with one line saying so.
    """
    from ..core.kernel_session import current_session  # the kernel's session with `%config ClaudeMagic...` applied

    def make() -> ChatPanel:
        return ChatPanel(current_session(), conversation=conversation, model=model, system=system, think=think,
                         effort=effort, max_tokens=max_tokens, tools=tuple(tools) if tools is not None else None,
                         thinking_open=thinking_open, height=height, engine=engine)

    if side:
        from .side import side_area

        key = (conversation, model, system, think, effort, max_tokens,
               tuple(tools) if tools is not None else None, thinking_open, height, engine)
        area = side_area(make, key)
        area.panel.side = area
        return area.panel
    panel = make()
    cell = _cell_id(panel.shell)
    if cell is not None:
        with _by_cell_lock:
            previous, _by_cell[cell] = _by_cell.get(cell), panel
        if previous is not None:
            previous.close()
    return panel


def _cell_id(shell: Any) -> str | None:
    """The running notebook cell's id (the same one `%%claude` cells use), when the front end sends it."""
    from ..notebook.running_cell import running_cell_id

    return running_cell_id(shell) if shell is not None else None
