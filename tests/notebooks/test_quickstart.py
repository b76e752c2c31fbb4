"""notebooks/quickstart.ipynb runs in a real kernel against the local server; its saved outputs hold the answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from ..conftest import CANARY_KEY

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "quickstart.ipynb"


def output_text(cell: Any) -> str:
    texts = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        texts.append(data.get("text/markdown") or data.get("text/plain") or output.get("text", ""))
    return "\n".join(texts)


@pytest.fixture
def executed(claude_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", claude_server.base_url)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    saved = tmp_path / "quickstart.ipynb"
    nbformat.write(notebook, saved)
    return nbformat.read(saved, as_version=4)


def test_quickstart_runs_and_keeps_answers(executed: Any, claude_server: Any) -> None:
    code = [cell for cell in executed.cells if cell.cell_type == "code"]
    cells = {cell.source.splitlines()[0]: cell for cell in code}
    first, second = (cell for cell in code if cell.source.startswith("%%claude\n"))
    assert "p-value" in output_text(first)           # the local server echoes the prompt
    assert "coin toss" in output_text(second)
    thinking_cell = output_text(cells["%%claude --think"])
    assert "Thinking" in thinking_cell
    history = output_text(cells["%claude history"])
    assert "Explain what a p-value is" in history
    usage = output_text(cells["%claude usage"])
    assert "session" in usage
    assert "reset" in output_text(cells["%claude reset"])
    assert claude_server.rejections == []
    assert len(claude_server.message_requests) == 4
    assert CANARY_KEY not in json.dumps(executed)
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", output
