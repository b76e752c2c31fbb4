"""Matplotlib figures as PNG for Claude and the user (matplotlib is never imported here unless the user did)."""

from __future__ import annotations

import base64
import io
import sys
from typing import Any

from .bundles import MimeBundle

__all__ = [
    "pyplot", "open_figures", "snapshot", "changed_figures", "figure_png", "image_block", "figure_bundle", "describe_figure",
    "close_if_inline", "as_figure",
]

FigureState = dict[int, tuple[int, bool]]   # figure number → (id of the Figure, was stale)


def pyplot() -> Any:
    """`matplotlib.pyplot` if the user imported it, else None."""
    return sys.modules.get("matplotlib.pyplot")


def open_figures() -> dict[int, Any]:
    """Open pyplot figures by number, without changing which one is current."""
    if pyplot() is None:
        return {}
    from matplotlib._pylab_helpers import Gcf

    return {manager.num: manager.canvas.figure for manager in Gcf.get_all_fig_managers()}


def snapshot() -> FigureState:
    """The open figures and whether each had undrawn changes."""
    return {number: (id(figure), bool(getattr(figure, "stale", False)))
            for number, figure in open_figures().items()}


def changed_figures(before: FigureState) -> list[Any]:
    """Figures opened since `before`, or drawn on since (stale now, not stale then)."""
    changed = []
    for number, figure in open_figures().items():
        previous = before.get(number)
        if previous is None or previous[0] != id(figure) or (getattr(figure, "stale", False) and not previous[1]):
            changed.append(figure)
    return changed


def as_figure(value: Any) -> Any:
    """The matplotlib Figure behind `value` (a Figure, an Axes, an array of Axes), else None."""
    if value is None:
        return None
    if hasattr(value, "savefig") and hasattr(value, "axes"):
        return value
    figure = getattr(value, "figure", None)
    if figure is not None and hasattr(figure, "savefig"):
        return figure
    flat = getattr(value, "flat", None)
    if flat is not None:
        for item in flat:
            return as_figure(item)
    return None


def figure_png(figure: Any, dpi: int = 100) -> bytes:
    """The figure rendered as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def image_block(png: bytes) -> dict[str, Any]:
    """An API image content block."""
    return {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                        "data": base64.b64encode(png).decode("ascii")}}


def figure_bundle(png: bytes, description: str) -> MimeBundle:
    """The figure for the user's display."""
    return MimeBundle({"image/png": base64.b64encode(png).decode("ascii"), "text/plain": description},
                      {}, "figure")


def describe_figure(figure: Any) -> str:
    """A short text description: size, and each axes' title and labels."""
    width, height = (round(value) for value in figure.get_size_inches() * figure.dpi)
    parts = [f"Figure {getattr(figure, 'number', '')}".rstrip() + f" ({width}x{height} px, {len(figure.axes)} axes)"]
    for index, axes in enumerate(figure.axes, 1):
        labels = [f"title {axes.get_title()!r}" if axes.get_title() else "",
                  f"x {axes.get_xlabel()!r}" if axes.get_xlabel() else "",
                  f"y {axes.get_ylabel()!r}" if axes.get_ylabel() else "",
                  f"{len(axes.lines)} lines" if axes.lines else "",
                  f"{len(axes.patches)} patches" if axes.patches else "",
                  f"{len(axes.collections)} collections" if axes.collections else ""]
        described = ", ".join(label for label in labels if label)
        parts.append(f"  axes {index}: {described or '(empty)'}")
    return "\n".join(parts)


def close_if_inline(figures: list[Any]) -> None:
    """Close figures with the inline backend, as the end of a cell would (so they are not shown twice)."""
    plt = pyplot()
    if plt is None or not figures:
        return
    import matplotlib

    if "inline" in str(matplotlib.get_backend()).lower():
        for figure in figures:
            plt.close(figure)
