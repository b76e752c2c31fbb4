"""The scripted turn the notebook-cell tests share: Claude adds a Markdown cell and two code cells, runs both
(the user allows one on the cell and refuses the other), then reads the notebook back."""

from __future__ import annotations

import json
import re
from typing import Any

from claude_magic.testing import Reply, text, tool_use

HOSTILE_MARKDOWN = ("# Sales plot\n\nMade by Claude. ![tracker](http://127.0.0.1:9/leak.png?secret=1)\n\n"
                    '<img src="http://127.0.0.1:9/x.png" onerror="window.__xss=1"><script>window.__xss=2</script>'
                    "\n\n[safe link](https://example.com)")
PLOT_CODE = ("runs.append('plot')\nimport matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
             "ax.plot([1, 2, 3], [2, 4, 8])\nax.set_title('growth')\nprint('plotted', len(runs))")
REFUSED_CODE = "runs.append('refused')\nprint('this should not run now')"
ADDED = re.compile(r"Added (?:code|markdown) cell (\S+) ")


def results_of(body: dict[str, Any]) -> list[str]:
    """The texts of the tool results the request sends back (after its last assistant message)."""
    texts = []
    tail: list[Any] = []
    for message in reversed(body["messages"]):           # every user message after the last assistant one
        if message["role"] == "assistant":
            break
        content = message["content"]
        tail[:0] = content if isinstance(content, list) else []
    for block in tail:
        if isinstance(block, dict) and block.get("type") == "tool_result":
            content = block.get("content")
            if isinstance(content, list):
                content = " ".join(part.get("text", "") for part in content if part.get("type") == "text")
            texts.append(str(content))
    return texts


def added_ids(body: dict[str, Any]) -> list[str]:
    return [match.group(1) for result in results_of(body) for match in [ADDED.search(result)] if match]


class Transcript:
    """What the scripted turn saw: the tool results of each step, and the ids of the cells it added."""

    def __init__(self) -> None:
        self.steps: list[list[str]] = []
        self.added: list[str] = []


def build_turn(transcript: Transcript, prefix: str = "") -> list[Any]:
    """One call per step (Claude Code runs the calls of one message concurrently): add three cells, run two (the
    test answers Run, then Skip), read the notebook, finish. `prefix`: how the engine names kernel tools."""
    def step(make: Any) -> Any:
        def answer(body: dict[str, Any]) -> Reply:
            transcript.steps.append(results_of(body))
            transcript.added += added_ids(body)
            return make()
        return answer

    def call(name: str, arguments: dict[str, Any], call_id: str) -> Reply:
        return Reply(tool_use(prefix + name, arguments, id=call_id))

    return [
        Reply(text("I'll build it in the notebook."),
              tool_use(prefix + "add_cell", {"source": HOSTILE_MARKDOWN, "cell_type": "markdown"}, id="toolu_add_md")),
        step(lambda: call("add_cell", {"source": PLOT_CODE}, "toolu_add_plot")),
        step(lambda: call("add_cell", {"source": REFUSED_CODE}, "toolu_add_refused")),
        step(lambda: call("run_cell", {"cell_id": transcript.added[1]}, "toolu_run_plot")),
        step(lambda: call("run_cell", {"cell_id": transcript.added[2]}, "toolu_run_refused")),
        step(lambda: call("read_notebook", {}, "toolu_read")),
        step(lambda: Reply(text("The plot is in the notebook; the second cell was skipped."))),
    ]


def dumps(value: Any) -> str:
    return json.dumps(value, indent=1)[:4000]
