"""The chat panel in JupyterLab's right-hand side area (`sidecar`), and the in-cell fallback where there is none.

The panel's live widget goes into a `Sidecar` (an Output widget whose JupyterLab view lives in the side
area); the cell keeps a one-line note, an empty slot and the panel's saved transcript. Only the page can
tell where the panel landed, so a small widget in the note (`static/placement.js`) looks for the panel's
element and reports: inside the side area; drawn in the cell (a front end without the sidecar extension
shows the Sidecar's content in place, as VS Code does); or not drawn within `PLACEMENT_TIMEOUT` (a front
end that loads the extension but has no side area to put it in, like Notebook 7's classic view): then the
slot shows the panel. The page keeps time, so a busy kernel cannot turn a slow answer into a fallback.

One side panel per kernel: running `chat(side=True)` again closes the old side tab and opens a new one
with the same panel when the arguments are the same (its conversation and widgets stay), else with a new one.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from ..views.stream_widget import _asset

__all__ = ["SideArea", "side_area", "PLACEMENT_TIMEOUT", "SIDE_MESSAGES"]

PLACEMENT_TIMEOUT = 8.0        # seconds the page waits for the side area to draw the panel
SIDE_TITLE = "Claude"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
SIDE_MESSAGES = {
    "pending": "Opening the chat panel in the side area…",
    "side": f"The chat panel is open in the right-hand side area (tab “{SIDE_TITLE}”).",
    "cell": "This front end has no side area: the chat panel is shown in this cell instead.",
    "none": "This front end has no side area: the chat panel is shown below instead.",
}

_lock = threading.Lock()
_current: SideArea | None = None


def _placement_class() -> type:
    import anywidget
    import traitlets

    class Placement(anywidget.AnyWidget):
        """One line of text, and the page's report of where the panel element `target` landed."""

        _esm = _asset("placement.js")
        target = traitlets.Unicode("").tag(sync=True)
        timeout = traitlets.Float(PLACEMENT_TIMEOUT * 1000).tag(sync=True)
        message = traitlets.Unicode("").tag(sync=True)
        layout = traitlets.Any(None, allow_none=True).tag(sync=True)

    return Placement


class SideArea:
    """A panel shown in the side area, with its note and fallback slot in the cell that opened it."""

    def __init__(self, panel: Any, key: tuple[Any, ...]) -> None:
        self.panel = panel
        self.key = key
        self.placed: str | None = None            # side, cell or none, once the page has said
        self.sidecar: Any = None
        self.placement: Any = None
        self._note: Any = None
        self._slot: Any = None

    @property
    def target(self) -> str:
        return f"claude-magic-panel-{self.panel.id}"

    def show(self) -> None:
        """Display the note, the slot and the transcript in the cell; the panel's widget in a new side tab."""
        from IPython.display import display
        from sidecar import Sidecar

        self.close_tab()
        self.placed = None
        self.panel.widget.add_class(self.target)
        placement = self.placement = _placement_class()(target=self.target, message=SIDE_MESSAGES["pending"])
        placement.on_msg(self._on_placed)
        self._note = display({WIDGET_MIME: _view(placement), "text/plain": SIDE_MESSAGES["pending"]},
                             raw=True, display_id=True)
        self._slot = display({"text/plain": ""}, raw=True, display_id=True)
        self.sidecar = Sidecar(title=SIDE_TITLE, anchor="right")
        with self.sidecar:
            self.panel.show_widget()
        self.panel.show_transcript()

    def _on_placed(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """The page said where the panel is (main thread, the first report wins)."""
        where = content.get("placed") if isinstance(content, dict) else None
        if where not in SIDE_MESSAGES or where == "pending" or self.placed is not None:
            return
        self.placed = where
        line = SIDE_MESSAGES[where]
        if where == "none" and self._slot is not None:
            self._slot.update({WIDGET_MIME: _view(self.panel.widget), "text/plain": "Claude chat panel"}, raw=True)
        if self._note is not None:
            self._note.update({"text/plain": line, "text/html": f'<div class="claude-magic-placement">{line}</div>'},
                              raw=True)
        self._close_placement()

    def _close_placement(self) -> None:
        if self.placement is not None:
            self.placement.close()
            self.placement = None

    def close_tab(self) -> None:
        """Close the side tab (the panel stays)."""
        self._close_placement()
        if self.sidecar is not None:
            with contextlib.suppress(Exception):
                self.sidecar.close()
            self.sidecar = None

    def close(self) -> None:
        self.close_tab()
        self.panel.close()


def _view(widget: Any) -> dict[str, Any]:
    return {"version_major": 2, "version_minor": 0, "model_id": widget.model_id}


def side_area(make_panel: Any, key: tuple[Any, ...]) -> SideArea:
    """The kernel's side area for a panel with these arguments: the open one (same `key`), or a new one."""
    global _current
    with _lock:
        previous = _current
        if previous is not None and previous.key == key and not previous.panel.closed:
            return previous
        _current = area = SideArea(make_panel(), key)
    if previous is not None:
        previous.close()
    return area
