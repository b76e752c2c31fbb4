"""Every bundled notebook (notebooks/*.ipynb) runs top to bottom against the local server's own answers, as a
newcomer without a key gets them from `python -m claude_magic.quickstart`: no cell ends in an error."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from claude_magic.testing import LocalServer

from .runner import NOTEBOOKS, execute_notebook

PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))


def test_every_bundled_notebook_is_checked() -> None:
    assert {path.name for path in PATHS} >= {"quickstart.ipynb", "agent_workspace.ipynb", "data_exploration.ipynb"}


@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.stem)
def test_runs_offline_without_an_error(path: Path) -> None:
    with LocalServer() as server, pytest.MonkeyPatch.context() as patch:
        patch.setenv("ANTHROPIC_BASE_URL", server.base_url)   # nothing queued: the server's echo answers
        notebook = execute_notebook(path, Path(tempfile.mkdtemp(prefix=f"offline-{path.stem}-")), timeout=300,
                                    allow_errors=True)
    errors = [(index, output) for index, cell in enumerate(notebook.cells)
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    assert not errors, _describe(errors)
    assert server.rejections == []


def _describe(errors: list[tuple[int, Any]]) -> str:
    return "; ".join(f"cell {index}: {output.get('ename')}: {output.get('evalue')}" for index, output in errors)
