"""Showing a run's progress: a widget bar in notebooks (rows done and failed, elapsed, ETA, cost so far, Stop), a refreshed line elsewhere."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Snapshot", "make_progress", "TextProgress", "WidgetProgress", "DisplayProgress"]


@dataclass(frozen=True)
class Snapshot:
    """A run's state at one moment."""

    mode: str
    total: int
    done: int
    failed: int
    cost: float
    elapsed: float
    note: str = ""              # e.g. "2 batches in progress" or "concurrency 8"

    @property
    def eta(self) -> float | None:
        if self.done == 0 or self.done >= self.total:
            return None
        return self.elapsed / self.done * (self.total - self.done)

    def line(self) -> str:
        eta = f" · ETA {_duration(self.eta)}" if self.eta is not None else ""
        failed = f" · {self.failed:,} failed" if self.failed else ""
        note = f" · {self.note}" if self.note else ""
        return (f"{self.done:,}/{self.total:,} rows{failed} · {_duration(self.elapsed)}{eta} · "
                f"${self.cost:,.4f} so far{note}")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


class TextProgress:
    """A line on stderr, rewritten in place on a terminal, at most every `every` seconds."""

    def __init__(self, every: float = 1.0) -> None:
        self.every = every
        self._last = 0.0
        self._tty = sys.stderr.isatty()

    def start(self, title: str, snapshot: Snapshot, stop: Callable[[], None] | None) -> None:
        print(f"claude_magic.map: {title}", file=sys.stderr, flush=True)

    def update(self, snapshot: Snapshot) -> None:
        now = time.monotonic()
        if now - self._last < (self.every if self._tty else self.every * 5):
            return
        self._last = now
        end = "\r" if self._tty else "\n"
        print(f"  {snapshot.line()}", end=end, file=sys.stderr, flush=True)

    def finish(self, summary: str) -> None:
        print(f"{'  ' if not self._tty else chr(13)}{summary}", file=sys.stderr, flush=True)


class WidgetProgress:
    """An ipywidgets bar with a status line and a Stop button (the button acts while the kernel is free: `wait=False`)."""

    def __init__(self, interactive_stop: bool) -> None:
        self.interactive_stop = interactive_stop
        self.box: Any = None

    def start(self, title: str, snapshot: Snapshot, stop: Callable[[], None] | None) -> None:
        import ipywidgets as widgets
        from IPython.display import display

        self.title = widgets.HTML(_escape(f"claude_magic.map: {title}"))
        self.bar = widgets.IntProgress(value=0, min=0, max=max(1, snapshot.total), bar_style="info",
                                       layout=widgets.Layout(width="40%"))
        self.label = widgets.Label(snapshot.line())
        self.button = widgets.Button(description="Stop", button_style="warning", icon="stop",
                                     tooltip="Cancel the remaining rows (finished rows are kept)",
                                     layout=widgets.Layout(width="auto"))
        if stop is not None and self.interactive_stop:
            self.button.on_click(lambda _button: (setattr(self.button, "disabled", True), stop()))
        else:
            self.button.layout.display = "none"
            self.label.value = snapshot.line() + " · interrupt the kernel (■) to stop"
        self.box = widgets.VBox([self.title, widgets.HBox([self.bar, self.label, self.button])])
        display(self.box)

    def update(self, snapshot: Snapshot) -> None:
        self.bar.value = snapshot.done
        self.bar.bar_style = "warning" if snapshot.failed else "info"
        suffix = "" if self.interactive_stop else " · interrupt the kernel (■) to stop"
        self.label.value = snapshot.line() + suffix

    def finish(self, summary: str) -> None:
        self.bar.bar_style = "success" if "failed" not in summary and "stopped" not in summary else "warning"
        self.label.value = summary
        self.button.layout.display = "none"


class DisplayProgress:
    """A text output refreshed in place (headless kernels: nbclient, nbconvert)."""

    def __init__(self, every: float = 0.5) -> None:
        self.every = every
        self._last = 0.0
        self.handle: Any = None

    def start(self, title: str, snapshot: Snapshot, stop: Callable[[], None] | None) -> None:
        from IPython.display import display

        self.title = f"claude_magic.map: {title}"
        self.handle = display({"text/plain": f"{self.title}\n{snapshot.line()}"}, raw=True, display_id=True)

    def update(self, snapshot: Snapshot) -> None:
        now = time.monotonic()
        if now - self._last >= self.every and self.handle is not None:
            self._last = now
            self.handle.update({"text/plain": f"{self.title}\n{snapshot.line()}"}, raw=True)

    def finish(self, summary: str) -> None:
        if self.handle is not None:
            self.handle.update({"text/plain": f"{self.title}\n{summary}"}, raw=True)


def _escape(text: str) -> str:
    import html

    return f"<span style='font-family: monospace'>{html.escape(text)}</span>"


def make_progress(show: bool, background: bool) -> Any:
    """The progress display for this front end (None: `progress=False`)."""
    if not show:
        return None
    from ..views.select import frontend_kind

    kind = frontend_kind()
    if kind == "widgets":
        return WidgetProgress(interactive_stop=background)
    if kind == "kernel":
        return DisplayProgress()
    return TextProgress()
