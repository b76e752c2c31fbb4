"""The live view of one panel turn, drawn inside the panel's message list instead of a cell output.

It is the `%%claude` `LiveView` (same block widgets, pacing and final static bundle) with one change:
where the cell view calls `display()`, this one hands its root widget to a `TurnSlot`, and the slot
plays the display handle that receives the final bundle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..views.live import LiveView, _Factory
from ..views.static import static_bundle

__all__ = ["TurnSlot", "PanelTurnView"]


class TurnSlot:
    """Where a turn is drawn: `mount(root)` gets the live widgets, `update(data, ...)` the final bundle."""

    def __init__(self, mount: Callable[[Any], None], finish: Callable[[dict[str, Any], dict[str, Any]], None]) -> None:
        self._mount = mount
        self._finish = finish

    def mount(self, root: Any) -> None:
        self._mount(root)

    def update(self, data: dict[str, Any], metadata: dict[str, Any] | None = None, raw: bool = True) -> None:
        """Like `DisplayHandle.update`: the turn's static output replaces its live widgets."""
        self._finish(data, metadata or {})


class PanelTurnView(LiveView):
    """A `LiveView` whose widgets go to a `TurnSlot` (called on the panel's worker thread)."""

    def __init__(self, slot: TurnSlot, *, thinking_open: bool = False, interval: float = 0.25) -> None:
        super().__init__(interval=interval, thinking_open=thinking_open, shell=None)
        self.slot = slot

    def _show(self) -> None:
        factory = self._factory = _Factory()
        self._header = factory.html(self._header_html())
        self._body = factory.column([])
        root = factory.column([self._header, self._body])
        self.handle = self.slot
        self.slot.mount(root)
        self.pacer.start()

    def _show_static_only(self) -> None:
        data, metadata = static_bundle(self.transcript, thinking_open=self.thinking_open)
        self.handle = self.slot
        self.slot.update(data, metadata=metadata, raw=True)
