"""Building `%%claude` notebooks and running them in real kernels with nbclient, as Jupyter Server starts them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import nbformat

from claude_magic.testing import LocalServer

from ..helpers import run_notebook as execute_in_kernel

NOTEBOOK = "analysis.ipynb"
SETUP = "%load_ext claude_magic"


def claude_notebook(*prompts: str, setup: str = "", code: dict[int, str] | None = None) -> Any:
    """A notebook: the set-up cell, then one `%%claude` cell per prompt (a prompt may start with its own
    `%%claude ...` line); `code` puts code cells before the prompt of that index."""
    cells = [nbformat.v4.new_code_cell(SETUP + ("\n" + setup if setup else ""))]
    for index, prompt in enumerate(prompts):
        if code and index in code:
            cells.append(nbformat.v4.new_code_cell(code[index]))
        cells.append(nbformat.v4.new_code_cell(prompt if prompt.startswith("%%claude") else f"%%claude\n{prompt}"))
    return nbformat.v4.new_notebook(cells=cells)


def run_notebook(notebook: Any, workdir: Path, server: LocalServer, *, name: str = NOTEBOOK,
                 timeout: int = 120, allow_errors: bool = False, save: bool = True, **env: str) -> Any:
    """Run every cell in a new python3 kernel started in `workdir` with `JPY_SESSION_NAME` naming the notebook
    (what Jupyter Server sets), save it there and read it back (what a user would find in the file);
    `save=False`: the notebook file is neither written nor read (a read-only folder)."""
    path = workdir / name
    if save:
        nbformat.write(notebook, path)
        notebook = nbformat.read(path, as_version=4)
    else:
        notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))
    kernel_env = {**os.environ, "JPY_SESSION_NAME": str(path), "ANTHROPIC_BASE_URL": server.base_url, **env}
    execute_in_kernel(notebook, env=kernel_env, timeout=timeout, allow_errors=allow_errors,
                      resources={"metadata": {"path": str(workdir)}})
    if not save:
        return notebook
    nbformat.write(notebook, path)
    return nbformat.read(path, as_version=4)


def claude_cells(notebook: Any) -> list[Any]:
    """The notebook's `%%claude` cells, in order."""
    return [cell for cell in notebook.cells if cell.cell_type == "code" and cell.source.startswith("%%claude")]


def answer_outputs(cell: Any) -> list[dict[str, Any]]:
    """A cell's display outputs (data and metadata) as plain dicts."""
    return [{"data": dict(output.get("data", {})), "metadata": dict(output.get("metadata", {}))}
            for output in cell.get("outputs", []) if output.get("output_type") in ("display_data", "execute_result")]


def provenance(cell: Any) -> dict[str, Any]:
    """The `claude_magic` metadata of the cell's answer."""
    found = [output["metadata"]["claude_magic"] for output in answer_outputs(cell) if "claude_magic" in output["metadata"]]
    assert len(found) == 1, f"expected one answer in the cell, got {len(found)}: {cell.get('outputs')}"
    return dict(found[0])


def answer_markdown(cell: Any) -> str:
    """The answer's Markdown without its footer line (which says whether it was replayed)."""
    for output in answer_outputs(cell):
        if "claude_magic" in output["metadata"]:
            markdown = output["data"]["text/markdown"]
            head, _, _footer = markdown.rpartition("<sub>")
            return head.rstrip()
    raise AssertionError(f"no answer in {cell.get('outputs')}")


def footer(cell: Any) -> str:
    """The answer's footer line."""
    for output in answer_outputs(cell):
        if "claude_magic" in output["metadata"]:
            return output["data"]["text/markdown"].rpartition("<sub>")[2]
    raise AssertionError("no answer")


def stream_text(cell: Any, name: str = "stderr") -> str:
    return "".join(output.get("text", "") for output in cell.get("outputs", [])
                   if output.get("output_type") == "stream" and output.get("name") == name)
