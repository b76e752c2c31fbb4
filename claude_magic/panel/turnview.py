"""The live view of one panel turn, drawn inside the panel's message list instead of a cell output.

It is the `%%claude` live view (the append-only `StreamView`, or the stock `LiveView` where the stream
widget is turned off or anywidget is missing) with one change: where the cell view calls `display()`,
this one hands its root widget to a `TurnSlot`, and the slot plays the display handle that receives the
final bundle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..views.live import LiveView
from ..views.static import static_bundle
from ..views.stream_view import StreamView

__all__ = ["TurnSlot", "PanelTurnView", "StockPanelTurnView", "panel_turn_view"]


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


class _InSlot:
    """Mixin for a live view: present the root widget in a `TurnSlot` (called on the panel's worker thread)."""

    slot: TurnSlot
    transcript: Any
    thinking_open: bool
    handle: Any

    def _present(self, root: Any) -> None:
        self.handle = self.slot
        self.slot.mount(root)

    def _show_static_only(self) -> None:
        data, metadata = static_bundle(self.transcript, thinking_open=self.thinking_open)
        self.handle = self.slot
        self.slot.update(data, metadata=metadata, raw=True)


class PanelTurnView(_InSlot, StreamView):
    """The append-only live view, drawn in the panel."""

    def __init__(self, slot: TurnSlot, *, thinking_open: bool = False, interval: float = 0.25) -> None:
        super().__init__(interval=interval, thinking_open=thinking_open, shell=None)
        self.slot = slot


class StockPanelTurnView(_InSlot, LiveView):
    """The stock-widget live view, drawn in the panel."""

    def __init__(self, slot: TurnSlot, *, thinking_open: bool = False, interval: float = 0.25) -> None:
        super().__init__(interval=interval, thinking_open=thinking_open, shell=None)
        self.slot = slot


def panel_turn_view(slot: TurnSlot, *, thinking_open: bool = False, stream: bool = True) -> LiveView:
    """The live view the `%%claude` cells use (`stream`: the session's `view_options.stream_widget`), for a panel turn."""
    from ..views.select import use_stream_widget

    view = PanelTurnView if use_stream_widget(stream) else StockPanelTurnView
    return view(slot, thinking_open=thinking_open)
