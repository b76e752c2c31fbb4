"""Reading and driving a notebook page (JupyterLab or Notebook 7, `window.jupyterapp` exposed) from the tests."""

from __future__ import annotations

import time
from typing import Any

__all__ = ["wait_for", "cells", "source", "run_cell_at", "idle"]


def wait_for(condition: Any, what: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def cells(page: Any) -> list[dict[str, Any]]:
    """The notebook model's cells, as the page has them now."""
    return page.evaluate("() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells"
                         ".map(cell => cell.toJSON())")


def source(cell: dict[str, Any]) -> str:
    value = cell.get("source", "")
    return "".join(value) if isinstance(value, list) else value


def run_cell_at(page: Any, index: int) -> None:
    """Run the cell at `index` as the user would (the command's promise is not awaited: it may wait for consent)."""
    page.evaluate(f"""() => {{
      const panel = window.jupyterapp.shell.currentWidget;
      panel.content.activeCellIndex = {index};
      void window.jupyterapp.commands.execute('notebook:run-cell');
    }}""")


def idle(page: Any) -> bool:
    return page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.status") == "idle"
