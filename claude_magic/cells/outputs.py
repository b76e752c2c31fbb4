"""A cell run as Jupyter outputs (nbformat 4 dicts the page puts in the cell), and outputs read back as text."""

from __future__ import annotations

import base64
from typing import Any

from ..tools.execution import CellRun

__all__ = ["nbformat_outputs", "outputs_summary"]

OUTPUT_TEXT_LIMIT = 2_000      # characters of one cell's outputs in `read_notebook`


def nbformat_outputs(run: CellRun, execution_count: int) -> list[dict[str, Any]]:
    """What the user would see under the cell: streams, displays, figures, the result, then the error."""
    outputs: list[dict[str, Any]] = []
    if run.stdout:
        outputs.append({"output_type": "stream", "name": "stdout", "text": run.stdout})
    if run.stderr:
        outputs.append({"output_type": "stream", "name": "stderr", "text": run.stderr})
    for data, metadata in run.outputs:
        outputs.append({"output_type": "display_data", "data": _json_data(data), "metadata": dict(metadata)})
    for png, description in run.figures:
        outputs.append({"output_type": "display_data", "metadata": {},
                        "data": {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": description}})
    if run.result is not None:
        data, metadata = run.result
        outputs.append({"output_type": "execute_result", "execution_count": execution_count,
                        "data": _json_data(data), "metadata": dict(metadata)})
    if run.error is not None:
        lines = run.error.splitlines()
        last = lines[-1] if lines else "Error"
        name, _, value = last.partition(": ")
        outputs.append({"output_type": "error", "ename": name.strip() or "Error", "evalue": value,
                        "traceback": lines})
    return outputs


def _json_data(data: dict[str, Any]) -> dict[str, Any]:
    """A MIME bundle with bytes as base64 text (what nbformat stores)."""
    return {mime: base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value
            for mime, value in data.items()}


def outputs_summary(outputs: list[dict[str, Any]], limit: int = OUTPUT_TEXT_LIMIT) -> str:
    """A bounded text view of a cell's outputs as the page has them: text, `[image/png]`, errors."""
    parts: list[str] = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            parts.append(_text(output.get("text")))
        elif kind == "error":
            parts.append(f"{output.get('ename', 'Error')}: {output.get('evalue', '')}")
        elif kind in ("display_data", "execute_result"):
            data = output.get("data") or {}
            images = [mime for mime in data if mime.startswith("image/")]
            text = _text(data.get("text/markdown") or data.get("text/plain") or "")
            parts.append(" ".join([*(f"[{mime}]" for mime in images), text]).strip() or
                         "[" + ", ".join(sorted(data)) + "]")
    summary = "\n".join(part.rstrip("\n") for part in parts if part)
    if len(summary) > limit:
        summary = summary[:limit] + f"\n… ({len(summary) - limit} more characters)"
    return summary


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")
