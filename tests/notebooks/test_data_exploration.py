"""notebooks/data_exploration.ipynb runs in a real kernel against scripted local-server replies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from claude_magic.testing import LocalServer, Reply, text

from ..conftest import CANARY_KEY
from .runner import NOTEBOOKS, notebook_run, output_text

NOTEBOOK = NOTEBOOKS / "data_exploration.ipynb"
REPLIES = [
    Reply(text("Revenue rises steadily in every region; **5 values are missing** — check those first.")),
    Reply(text("Yes: the lines climb together, with month-to-month noise of about ±12.")),
    Reply(text("```python\nfilled = sales.assign(revenue=sales.groupby('region')['revenue']"
               ".transform(lambda s: s.interpolate()))\nfilled.head()\n```")),
]


@pytest.fixture(scope="module")
def executed() -> Iterator[tuple[Any, LocalServer]]:
    with notebook_run(NOTEBOOK, REPLIES) as run:
        yield run


def test_runs_cleanly_with_valid_requests(executed: Any) -> None:
    notebook, server = executed
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", output
    assert server.rejections == []
    assert len(server.message_requests) == 3
    assert CANARY_KEY not in json.dumps(notebook)


def test_dataframe_is_summarized_not_serialized(executed: Any) -> None:
    _, server = executed
    prompt = server.message_requests[0]["messages"][0]["content"][-1]["text"]
    assert "96 rows" in prompt or "(96, 3)" in prompt or "96 ×" in prompt
    assert "revenue" in prompt and "missing" in prompt.lower()
    assert "$`sales`" not in prompt


def test_figure_attached_and_code_requested(executed: Any) -> None:
    _, server = executed
    attached = server.message_requests[1]["messages"][-1]["content"]
    assert attached[0]["type"] == "image" and attached[0]["source"]["media_type"] == "image/png"
    assert "code block" in server.message_requests[2]["messages"][-1]["content"][-1]["text"]
    assert server.message_requests[2].get("system") == server.message_requests[1].get("system")   # prefix intact
    # the cached prefix grows turn over turn
    assert server.message_requests[2]["cache_control"]["type"] == "ephemeral"


def test_usage_and_tokens_are_shown(executed: Any) -> None:
    notebook, _ = executed
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    usage = output_text(next(cell for cell in code_cells if cell.source == "%claude usage"))
    assert "**session**" in usage and "cache-read tokens" in usage
    tokens = output_text(next(cell for cell in code_cells if cell.source == "%claude tokens"))
    assert "context window" in tokens
    answer = output_text(next(cell for cell in code_cells if cell.source.startswith("%%claude\nHere is")))
    assert "5 values are missing" in answer
