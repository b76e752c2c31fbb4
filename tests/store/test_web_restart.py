"""A `%%claude --web` cell in real kernels (nbclient): its saved output keeps the cards, markers and sources, and
Restart & Run All replays it with no request (no search billed again)."""

from __future__ import annotations

from pathlib import Path

from claude_magic.testing import LocalServer, Reply, cite, text, web_fetch, web_search

from ..views.helpers import assert_inert
from .notebooks import answer_outputs, claude_cells, claude_notebook, footer, provenance, run_notebook

DOCS = "https://pandas.pydata.org/docs/user_guide/merging.html"


def test_a_web_cell_saves_its_cards_and_sources_and_replays_after_a_restart(claude_server: LocalServer,
                                                                           tmp_path: Path) -> None:
    claude_server.web.add(DOCS, "Merge, join, concatenate — pandas", "how='left' keeps every left row.")
    claude_server.queue(Reply(web_search("pandas merge left"), web_fetch(DOCS),
                              text("Use `how='left'`.", citations=[cite(DOCS, "how='left' keeps every left row")])))
    notebook = claude_notebook(f"%%claude --web\nHow do I keep all rows? {DOCS}")
    first = run_notebook(notebook, tmp_path, claude_server)
    assert len(claude_server.message_requests) == 1
    asked = claude_cells(first)[0]
    html = next(output["data"]["text/html"] for output in answer_outputs(asked) if "claude_magic" in output["metadata"])
    assert "Web search" in html and "Fetched" in html and "[1]</a></sup>" in html and "<b>Sources</b>" in html
    assert_inert(html)
    assert provenance(asked)["usage"]["web_search_requests"] == 1 and "1 search, 1 fetch" in footer(asked)

    second = run_notebook(notebook, tmp_path, claude_server)
    assert len(claude_server.message_requests) == 1                     # a new kernel, not one request
    replayed = claude_cells(second)[0]
    assert "replayed: no request" in footer(replayed)
    again = next(output["data"]["text/html"] for output in answer_outputs(replayed)
                 if "claude_magic" in output["metadata"])
    assert "[1]</a></sup>" in again and "Fetched" in again
