"""notebooks/agent_workspace.ipynb runs end to end in a real kernel against scripted local-server replies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from claude_magic.testing import LocalServer, Reply, text, tool_use

from ..conftest import CANARY_KEY
from ..notebooks.runner import NOTEBOOKS, notebook_run, output_text

NOTEBOOK = NOTEBOOKS / "agent_workspace.ipynb"

TOTALS_CODE = "totals = sales.groupby('region')['revenue'].sum().sort_values(ascending=False)\ntotals"
PLOT_CODE = "ax = totals.plot.bar(title='Total revenue by region')\nax.set_ylabel('USD');"

REPLIES = [
    # 1. the user's own tool
    Reply(text("Let me look up the rate."), tool_use("exchange_rate", {"currency": "EUR"}, id="toolu_rate")),
    Reply(text("250 EUR is about **270.00 USD** at 1.08 USD per euro.")),
    # 2. a DataFrame question: look first, then compute in the user's namespace
    Reply(text("First a look at the data."), tool_use("describe_dataframe", {"name": "sales"}, id="toolu_describe")),
    Reply(tool_use("run_python", {"code": TOTALS_CODE}, id="toolu_totals")),
    Reply(text("**North** had the highest total revenue, 251.00, just ahead of west (243.10). East's January "
               "figure is missing, so its 88.00 covers February only. The totals are in `totals`.")),
    # 3. a figure, which comes back to Claude as an image
    Reply(tool_use("run_python", {"code": PLOT_CODE}, id="toolu_plot")),
    Reply(text("The chart makes the ranking clear: north and west stand close together, well above south "
               "and east.")),
]


def tool_results(request: dict[str, Any]) -> dict[str, dict[str, Any]]:
    last = request["messages"][-1]["content"]
    return {block["tool_use_id"]: block for block in last if block.get("type") == "tool_result"}


@pytest.fixture(scope="module")
def run() -> Iterator[tuple[Any, LocalServer]]:
    """The executed notebook (as saved and re-read) and the server that answered it."""
    with notebook_run(NOTEBOOK, REPLIES) as executed:
        yield executed


def test_the_notebook_runs_without_errors_and_every_request_is_valid(run: Any) -> None:
    executed, server = run
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", output
    assert server.rejections == [] and server.errors == []
    assert server.queued == 0 and len(server.message_requests) == len(REPLIES)
    assert CANARY_KEY not in json.dumps(executed)


def test_claude_calls_the_users_tool(run: Any) -> None:
    executed, server = run
    requests = server.message_requests
    assert "exchange_rate" in [tool["name"] for tool in requests[0]["tools"]]
    assert tool_results(requests[1])["toolu_rate"]["content"] == "1.08"
    cells = [cell for cell in executed.cells if cell.cell_type == "code"]
    listing = next(cell for cell in cells if "%claude tools" in cell.source)
    assert "`exchange_rate`" in output_text(listing) and "`run_python` | ask" in output_text(listing)
    answer = next(cell for cell in cells if "250 euros" in cell.source)
    assert "270.00 USD" in output_text(answer)


def test_claude_describes_the_dataframe_and_computes_in_the_users_namespace(run: Any) -> None:
    executed, server = run
    requests = server.message_requests
    description = tool_results(requests[3])["toolu_describe"]["content"]
    assert description.startswith("sales: pandas DataFrame, 8 rows x 3 columns")
    assert "revenue" in description and "missing" in description
    totals = tool_results(requests[4])["toolu_totals"]
    assert "is_error" not in totals and "north" in totals["content"] and "251.0" in totals["content"]
    totals_cell = next(cell for cell in executed.cells if cell.cell_type == "code" and cell.source.startswith("totals"))
    assert "north" in output_text(totals_cell) and "243.1" in output_text(totals_cell)


def test_the_figure_goes_to_claude_as_an_image(run: Any) -> None:
    _executed, server = run
    plot = tool_results(server.message_requests[6])["toolu_plot"]
    assert isinstance(plot["content"], list)
    kinds = [block["type"] for block in plot["content"]]
    assert kinds == ["text", "image"]
    assert "title 'Total revenue by region'" in plot["content"][0]["text"]
    assert plot["content"][1]["source"]["media_type"] == "image/png"
