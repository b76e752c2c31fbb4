"""`claude_magic.map` in a real kernel: the progress widget, Ctrl-C keeping finished rows, the cost question on stdin, and a kernel restart between submitting a batch and collecting it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from claude_magic.testing import LocalServer

from ..helpers import wait_until
from ..kernel.kernel_driver import claude_kernel, texts

SETUP = """
import os, json, claude_magic
import pandas as pd
os.environ["CLAUDE_MAGIC_MAP_DIR"] = {runs!r}
%config ClaudeMagic.model = "claude-sonnet-5-5"
frame = pd.DataFrame({{"text": [f"row {{i}}" for i in range({rows})]}})
"""


def _setup(runs: Path, rows: int) -> str:
    return SETUP.format(runs=str(runs), rows=rows)


def widget_states(messages: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The last known state of every widget the cell opened or updated, by comm id."""
    states: dict[str, dict[str, Any]] = {}
    for message in messages:
        content = message["content"]
        if message["msg_type"] == "comm_open":
            states[content["comm_id"]] = dict(content["data"].get("state", {}))
        elif message["msg_type"] == "comm_msg" and content["data"].get("method") == "update":
            states.setdefault(content["comm_id"], {}).update(content["data"].get("state", {}))
    return states


def test_the_progress_widget_counts_rows(claude_server: LocalServer, runs: Path) -> None:
    claude_server.traffic.latency = 0.02
    with claude_kernel(claude_server.base_url, _setup(runs, 120)) as kernel:
        messages = kernel.execute("res = claude_magic.map('Say {text}', frame, max_cost=100, concurrency=4)",
                                  stdin=lambda request: None, timeout=120)
        states = widget_states(messages)
        bars = [s for s in states.values() if s.get("_model_name") == "IntProgressModel"]
        labels = [s for s in states.values() if s.get("_model_name") == "LabelModel"]
        assert len(bars) == 1 and bars[0]["max"] == 120 and bars[0]["value"] == 120
        updates = [m for m in messages if m["msg_type"] == "comm_msg" and "value" in m["content"]["data"].get("state", {})]
        assert len(updates) >= 2                                       # it moved while the rows ran
        assert labels and labels[0]["value"].startswith("120 rows: 120 ok · $")
        shown = texts(kernel.execute("print(res.totals['ok'], res.frame.shape)"))
        assert "120 (120, 6)" in shown                     # text, status, error, tokens in and out, cost


def test_ctrl_c_keeps_the_finished_rows(claude_server: LocalServer, runs: Path) -> None:
    claude_server.traffic.latency = 0.1
    with claude_kernel(claude_server.base_url, _setup(runs, 300)) as kernel:
        msg_id = kernel._send("res = claude_magic.map('Say {text}', frame, max_cost=100, concurrency=4)",
                              allow_stdin=False, cell_id=None)
        wait_until(lambda: len(claude_server.message_requests) >= 20, "rows on their way")
        kernel.manager.interrupt_kernel()
        messages = kernel.wait_idle([{"parent_header": {"msg_id": msg_id}}], timeout=60)[1:]
        assert not [m for m in messages if m["msg_type"] == "error"], texts(messages)
        shown = texts(kernel.execute("print(json.dumps(res.totals))"))
        totals = json.loads(shown.strip().splitlines()[-1])
        assert totals["ok"] >= 15 and totals["canceled"] > 0 and totals["ok"] + totals["canceled"] == 300
        assert len(claude_server.message_requests) < 300                 # the remaining rows were not sent
        resumed = texts(kernel.execute("res = claude_magic.map_resume(res, progress=False); print(res.totals['ok'])"))
        assert resumed.strip().splitlines()[-1] == "300"


def test_the_cost_question_is_asked_on_stdin(claude_server: LocalServer, runs: Path) -> None:
    with claude_kernel(claude_server.base_url, _setup(runs, 30)) as kernel:
        asked: list[str] = []
        def answer(reply: str) -> Any:
            return lambda request: asked.append(request["content"]["prompt"]) or reply
        code = "res = claude_magic.map('Say {text}', frame, max_cost=0.001, progress=False)"
        declined = texts(kernel.execute(code, stdin=answer("n")))
        assert "MapDeclined: Not started (declined): nothing was sent" in declined
        assert claude_server.message_requests == []
        texts(kernel.execute(code + "\nprint(res.totals['ok'])", stdin=answer("y")))
        assert len(asked) == 2 and "above the $0.00 limit. Start? [y/N]" in asked[0]
        assert len(claude_server.message_requests) == 30


def test_a_restart_between_submit_and_collect(claude_server: LocalServer, runs: Path) -> None:
    claude_server.batches.hold()
    with claude_kernel(claude_server.base_url, _setup(runs, 50)) as kernel:
        kernel.execute("run = claude_magic.map('Say {text}', frame, mode='batch', max_cost=100, wait=False, "
                       "progress=False)")
        wait_until(lambda: claude_server.batches.ids, "the batch")
        batch_id = claude_server.batches.ids[0]
        wait_until(lambda: any(batch_id in path.read_text() for path in runs.glob("map_*.json")), "the id recorded")
        kernel.manager.restart_kernel(now=True)
        kernel.client.wait_for_ready(timeout=60)
        claude_server.batches.release()
        code = (_setup(runs, 50) + f"res = claude_magic.map_resume({batch_id!r}, progress=False)\n"
                "print(res.totals['ok'], res.batch_ids, res['text'][49])")
        shown = texts(kernel.execute("%load_ext claude_magic\n" + code, timeout=60))
        assert f"50 ['{batch_id}'] **Local test server** — you said: “Say row 49”" in shown, shown
        assert len(claude_server.batches.ids) == 1                       # collected, not submitted again
