"""A notebook using an MCP server's tools, run top to bottom in a real kernel (nbclient)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest

from claude_magic.testing import LocalServer, Reply, tool_use

from ..notebooks.runner import execute_notebook, output_text
from .conftest import ENV_TOKEN, STDIO_SERVER

CELLS = [
    "%load_ext claude_magic",
    "%config ClaudeMagic.tool_policies = {'mcp__time__*': 'allow', 'mcp__notes__echo': 'allow'}",
    "%claude mcp approve time",                                  # a project file's servers start once approved
    "%claude mcp approve notes",
    "%%claude\nWhat time is it in Tokyo? Then echo 'done'.",
    "%claude mcp",
]


def test_a_notebook_uses_the_servers_of_its_folders_mcp_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project, workdir = tmp_path / "project", tmp_path / "kernel-cwd"
    project.mkdir()
    workdir.mkdir()
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {
        "time": {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]},
        "notes": {"command": sys.executable, "args": [str(STDIO_SERVER)], "env": {"TOKEN": "${NOTES_TOKEN}"}},
    }}), encoding="utf-8")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    path = project / "analysis.ipynb"
    nbformat.write(notebook, path)
    with LocalServer() as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        monkeypatch.setenv("JPY_SESSION_NAME", str(path))       # what Jupyter tells the kernel
        monkeypatch.setenv("NOTES_TOKEN", ENV_TOKEN)
        server.queue(
            Reply(tool_use("mcp__time__get_current_time", {"timezone": "Asia/Tokyo"}, id="toolu_t"),
                  tool_use("mcp__notes__echo", {"text": "done"}, id="toolu_e")),
            Reply("It is evening in Tokyo, and the notes server said done."))
        ran = execute_notebook(path, workdir)
        requests = server.message_requests
    names = [tool["name"] for tool in requests[0]["tools"]]
    assert {"mcp__time__get_current_time", "mcp__time__convert_time", "mcp__notes__echo", "run_python"} <= set(names)
    assert names.index("run_python") < names.index("mcp__time__get_current_time")    # kernel tools first
    time_result, echo_result = requests[1]["messages"][-1]["content"]
    assert json.loads(time_result["content"])["timezone"] == "Asia/Tokyo"
    assert echo_result["content"] == "echo: done"
    approved = output_text(ran.cells[2]) + output_text(ran.cells[3])
    assert "Approved MCP server `time`" in approved and "Approved MCP server `notes`" in approved
    answer = output_text(ran.cells[4])
    assert "It is evening in Tokyo" in answer and "mcp__time__get_current_time" in answer
    listing = output_text(ran.cells[5])
    assert "| time | running | 2 |" in listing and "| notes | running |" in listing
    saved = (workdir / "analysis.ipynb").read_text(encoding="utf-8")
    assert ENV_TOKEN not in saved and ENV_TOKEN not in json.dumps(requests)
