"""Building a cell's prompt: `$`expr`` interpolation, then attachments before the text."""

from __future__ import annotations

from typing import Any

__all__ = ["build_prompt", "split_specs"]


def split_specs(values: list[str] | None) -> list[str]:
    """`--attach a.png,b.pdf --attach fig` → ["a.png", "b.pdf", "fig"]."""
    return [spec.strip() for value in values or [] for spec in value.split(",") if spec.strip()]


def build_prompt(cell: str, shell: Any, attach: list[str], *, budget: int, cite: bool = False) -> list[dict[str, Any]]:
    """Content blocks for a cell: attachments first (as citable documents with `cite`), then the interpolated text."""
    from .failed_cells import context_namespace

    namespace = context_namespace(shell) if shell is not None else {}
    text = cell
    if "$`" in cell:
        from .interpolation import interpolate

        text = interpolate(cell, namespace, budget=budget)
    blocks: list[dict[str, Any]] = []
    if attach:
        from .attachments import attachment_blocks

        blocks = attachment_blocks(attach, namespace, cite=cite)
    return [*blocks, {"type": "text", "text": text}]
