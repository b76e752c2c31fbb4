"""notebooks/quickstart.ipynb runs in a real kernel against the local server; its saved outputs hold the answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ..conftest import CANARY_KEY
from .runner import NOTEBOOKS, execute_notebook, output_text

NOTEBOOK = NOTEBOOKS / "quickstart.ipynb"


@pytest.fixture
def executed(claude_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", claude_server.base_url)
    return execute_notebook(NOTEBOOK, tmp_path, timeout=120)


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
