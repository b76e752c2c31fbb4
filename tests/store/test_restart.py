"""Restart & Run All in real kernels (nbclient, JPY_SESSION_NAME as Jupyter Server sets it): recorded answers replay."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import nbformat

from claude_magic.testing import LocalServer, Reply, text, tool_use

from .notebooks import (
    NOTEBOOK,
    answer_markdown,
    answer_outputs,
    claude_cells,
    claude_notebook,
    footer,
    provenance,
    run_notebook,
    stream_text,
)

PROMPTS = [f"Question {number}: what is {number} squared?" for number in range(1, 6)]
TOOLS_ALLOWED = '%config ClaudeMagic.tool_policies = {"run_python": "allow"}'


def user_texts(body: dict[str, Any]) -> list[str]:
    return [block["text"] for message in body["messages"] if message["role"] == "user"
            for block in message["content"] if block.get("type") == "text"]


def test_restart_and_run_all_makes_no_request_and_gives_the_same_outputs(claude_server: LocalServer,
                                                                          tmp_path: Path) -> None:
    notebook = claude_notebook(*PROMPTS)
    first = run_notebook(notebook, tmp_path, claude_server)
    assert len(claude_server.message_requests) == 5
    store = json.loads((tmp_path / ".claude_magic" / f"{NOTEBOOK}.json").read_text())
    assert [turn["prompt"] for turn in store["conversations"][""]["turns"]] == PROMPTS

    second = run_notebook(notebook, tmp_path, claude_server)
    assert len(claude_server.message_requests) == 5                  # a new kernel, not one request
    for asked, replayed in zip(claude_cells(first), claude_cells(second), strict=True):
        assert answer_markdown(replayed) == answer_markdown(asked)
        assert "replayed: no request" in footer(replayed) and "replayed" not in footer(asked)
        was, now = provenance(asked), provenance(replayed)
        assert (was["replayed"], now["replayed"]) == (False, True)
        for key in ("turn_id", "request_hash", "timestamp", "model", "engine", "usage", "cost", "stop_reason"):
            assert now[key] == was[key], key
        assert stream_text(replayed) == ""

    third = run_notebook(notebook, tmp_path, claude_server)
    assert len(claude_server.message_requests) == 5
    assert [answer_outputs(cell) for cell in claude_cells(third)] == [answer_outputs(cell) for cell in
                                                                      claude_cells(second)]   # byte for byte


def test_editing_the_third_of_five_cells_asks_from_there_on(claude_server: LocalServer, tmp_path: Path) -> None:
    run_notebook(claude_notebook(*PROMPTS), tmp_path, claude_server)
    edited = [*PROMPTS[:2], "Question 3, reworded: what is 3 cubed?", *PROMPTS[3:]]
    rerun = run_notebook(claude_notebook(*edited), tmp_path, claude_server)
    later = claude_server.message_requests[5:]
    assert [user_texts(body)[-1] for body in later] == edited[2:]
    assert user_texts(later[0]) == edited[:3]                          # cells 1-2 replayed before it
    assert [provenance(cell)["replayed"] for cell in claude_cells(rerun)] == [True, True, False, False, False]
    assert "differs from its recorded answer (turn 3)" in answer_markdown(claude_cells(rerun)[2])
    store = json.loads((tmp_path / ".claude_magic" / f"{NOTEBOOK}.json").read_text())
    assert [turn["prompt"] for turn in store["conversations"][""]["turns"]] == edited


def test_a_run_python_turn_replays_after_a_restart_and_its_variable_exists(claude_server: LocalServer,
                                                                           tmp_path: Path) -> None:
    notebook = claude_notebook("Set `answer` to six times seven.", "Thanks.", setup=TOOLS_ALLOWED,
                               code={1: "print('answer is', answer)"})
    claude_server.queue(Reply(tool_use("run_python", {"code": "answer = 6 * 7"})), Reply(text("`answer` is 42.")))
    first = run_notebook(notebook, tmp_path, claude_server)
    assert len(claude_server.message_requests) == 3
    second = run_notebook(notebook, tmp_path, claude_server)
    assert len(claude_server.message_requests) == 3
    printed = [cell for cell in second.cells if cell.source.startswith("print")][0]
    assert stream_text(printed, "stdout") == "answer is 42\n"
    asked, replayed = claude_cells(first)[0], claude_cells(second)[0]
    assert provenance(replayed)["replayed"]
    assert without_durations(answer_markdown(replayed)) == without_durations(answer_markdown(asked))
    assert "run_python" in answer_markdown(replayed)     # the tool ran again: only its time differs


def without_durations(markdown: str) -> str:
    """A tool card says how long the call took (it ran again on replay, so that may differ)."""
    return re.sub(r"\(\d+\.\d+ s\)", "(… s)", markdown)


def test_a_tool_result_that_differs_from_the_recording_asks_afresh(claude_server: LocalServer,
                                                                    tmp_path: Path) -> None:
    (tmp_path / "sensor.txt").write_text("21 degrees")
    notebook = claude_notebook("How warm is it? Read sensor.txt.", setup=TOOLS_ALLOWED)
    read = "print(open('sensor.txt').read())"
    claude_server.queue(Reply(tool_use("run_python", {"code": read})), Reply(text("It is 21 degrees.")))
    run_notebook(notebook, tmp_path, claude_server)
    run_notebook(notebook, tmp_path, claude_server)
    assert len(claude_server.message_requests) == 2                      # the same result: replayed
    (tmp_path / "sensor.txt").write_text("25 degrees")
    claude_server.queue(Reply(text("It is 25 degrees now.")))
    changed = run_notebook(notebook, tmp_path, claude_server)
    assert len(claude_server.message_requests) == 3
    last = claude_server.message_requests[-1]["messages"][-1]["content"][0]
    assert last["type"] == "tool_result" and "25 degrees" in json.dumps(last["content"])
    cell = claude_cells(changed)[0]
    shown = answer_markdown(cell)
    assert "`run_python` returned something different from the recording: asked afresh from there" in shown
    assert "It is 25 degrees now." in shown and not provenance(cell)["replayed"]
    assert claude_server.rejections == []


def test_the_saved_notebook_carries_each_answers_provenance(claude_server: LocalServer, tmp_path: Path) -> None:
    run_notebook(claude_notebook(PROMPTS[0]), tmp_path, claude_server)
    saved = nbformat.read(tmp_path / NOTEBOOK, as_version=4)
    meta = provenance(claude_cells(saved)[0])
    assert meta["model"] == "claude-sonnet-5-5" and meta["engine"] == "api" and meta["stop_reason"] == "end_turn"
    assert meta["usage"]["output_tokens"] > 0 and meta["cost"] > 0 and meta["replayed"] is False
    assert len(meta["request_hash"]) == 64 and len(meta["turn_id"]) == 12 and meta["timestamp"].endswith("+00:00")
