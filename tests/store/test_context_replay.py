"""A notebook whose conversation was compacted on its first run: Restart & Run All replays it with no request, and
the store keeps every turn in full (issue 25: compaction changes what is sent, not what is kept)."""

from __future__ import annotations

import json
from pathlib import Path

from claude_magic.testing import LocalServer

from .notebooks import NOTEBOOK, answer_markdown, claude_cells, claude_notebook, footer, run_notebook, stream_text

PROMPTS = [f"Question {number}: " + "tell me more about this. " * 60 + "Thanks." for number in range(1, 5)]
SMALL_TRIGGER = "%config ClaudeMagic.compact_trigger = 1200"


def test_restart_and_run_all_of_a_compacted_notebook_makes_no_request(claude_server: LocalServer,
                                                                        tmp_path: Path) -> None:
    notebook = claude_notebook(*PROMPTS, setup=SMALL_TRIGGER)
    first = run_notebook(notebook, tmp_path, claude_server)
    asked = claude_server.message_requests
    assert len(asked) == 4 and claude_server.rejections == []
    assert any(body["messages"][0]["role"] == "assistant" for body in asked)      # later requests start compacted
    assert "Context compacted:" in "".join(stream_text(cell, "stdout") + stream_text(cell) + answer_markdown(cell)
                                           for cell in claude_cells(first))
    store = json.loads((tmp_path / ".claude_magic" / f"{NOTEBOOK}.json").read_text())
    kept = store["conversations"][""]
    assert [turn["prompt"] for turn in kept["turns"]] == PROMPTS                   # every turn, in full
    assert [message["content"][0]["text"] for message in kept["messages"] if message["role"] == "user"] == PROMPTS
    assert any(block["type"] == "compaction" for message in kept["messages"] for block in message["content"])

    second = run_notebook(notebook, tmp_path, claude_server)
    assert len(claude_server.message_requests) == 4                               # Restart & Run All: no request
    for before, after in zip(claude_cells(first), claude_cells(second), strict=True):
        assert "replayed: no request" in footer(after)
        assert answer_markdown(after).split("replayed")[0].strip()[:200] == answer_markdown(before)[:200]
