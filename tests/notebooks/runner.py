"""Running the example notebooks (notebooks/*.ipynb) in a real kernel, and reading their saved outputs."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
import pytest

from claude_magic.testing import LocalServer, Reply

from ..helpers import run_notebook

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def execute_notebook(path: Path, workdir: Path, timeout: int = 180, **options: Any) -> Any:
    """Run the notebook top to bottom in a python3 kernel started in `workdir`; save it there and read it back
    (so the tests see what a user would find in the saved file). `options` go to nbclient (`allow_errors`)."""
    notebook = nbformat.read(path, as_version=4)
    run_notebook(notebook, timeout=timeout, resources={"metadata": {"path": str(workdir)}}, **options)
    saved = workdir / path.name
    nbformat.write(notebook, saved)
    return nbformat.read(saved, as_version=4)


@contextmanager
def notebook_run(path: Path, replies: list[Reply]) -> Iterator[tuple[Any, LocalServer]]:
    """The notebook executed against a local server that answers with `replies`, and that server."""
    with LocalServer() as server, pytest.MonkeyPatch.context() as patch:
        patch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        server.queue(*replies)
        workdir = Path(tempfile.mkdtemp(prefix=f"{path.stem}-"))
        yield execute_notebook(path, workdir), server


def output_text(cell: Any) -> str:
    """What a cell's outputs show as text: Markdown (else plain text) of each display, or the stream's text."""
    texts = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        texts.append(data.get("text/markdown") or data.get("text/plain") or output.get("text", ""))
    return "\n".join(texts)
