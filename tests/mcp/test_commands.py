"""`%claude mcp` and `%config ClaudeMagic.mcp_servers` in a real IPython shell; `%load_ext` without mcp."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claude_magic import session as session_module
from claude_magic.mcp import source as source_module
from claude_magic.mcp.source import McpToolSource
from claude_magic.session import Session
from claude_magic.testing import LocalServer, Reply, tool_use
from claude_magic.tools import Toolbox

from .conftest import ENV_TOKEN, STDIO_SERVER
from .http_server import TOKEN, HttpMcpServer

SERVER = f"{sys.executable} {STDIO_SERVER}"


@pytest.fixture
def shell(ipython_shell: Any, claude_server: LocalServer, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, McpToolSource]]:
    """The shell with a fresh session whose MCP source reads only `tmp_path`; servers stopped afterwards."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", claude_server.base_url)
    made = McpToolSource(folders=[tmp_path])
    toolbox = Toolbox()
    toolbox.add_source(made)
    monkeypatch.setattr(source_module, "_default", made)
    session_module._session = Session(toolbox=toolbox)
    magic = ipython_shell.magics_manager.registry["ClaudeMagic"]
    magic.max_retries = 0
    yield ipython_shell, made
    magic.mcp_servers = {}
    magic.tool_policies = {}
    magic.max_retries = 2
    session_module._session = None
    made.manager.close()


def run(shell: Any, source: str) -> Any:
    return shell.run_cell(source, store_history=False)


def test_add_list_restart_and_remove(shell: tuple[Any, McpToolSource], capsys: pytest.CaptureFixture[str]) -> None:
    ipython, source = shell
    assert run(ipython, f"%claude mcp add tools --env TOKEN={ENV_TOKEN} -- {SERVER}").success
    added = capsys.readouterr().out
    assert "Added MCP server `tools`" in added and "Running, " in added and "`mcp__tools__echo`" in added
    assert "env: TOKEN" in added and ENV_TOKEN not in added
    run(ipython, "%claude mcp")
    listing = capsys.readouterr().out
    row = next(line for line in listing.splitlines() if line.startswith("| tools |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1] == "running" and int(cells[2]) >= 10 and cells[4] == "%claude mcp add" and cells[5] == ""
    run(ipython, "%claude tools --brief")
    tools = capsys.readouterr().out
    assert "| `mcp__tools__echo` | ask | yes | MCP server tools |" in tools
    assert run(ipython, "%claude mcp restart tools").success
    assert "Restarted `tools`: Running" in capsys.readouterr().out
    assert run(ipython, "%claude mcp remove tools").success
    assert "no longer offered" in capsys.readouterr().out
    assert source.servers() == {} and source.tools() == []
    run(ipython, "%claude mcp")
    assert "No MCP servers are configured" in capsys.readouterr().out


def test_a_remote_server_with_a_header(shell: tuple[Any, McpToolSource], capsys: pytest.CaptureFixture[str]) -> None:
    ipython, _source = shell
    with HttpMcpServer() as server:
        assert run(ipython, f"%claude mcp add docs --url {server.url} --header 'Authorization: Bearer {TOKEN}'").success
        added = capsys.readouterr().out
        assert "`mcp__docs__add`" in added and "headers: Authorization" in added
        run(ipython, "%claude mcp")
        listing = capsys.readouterr().out
        assert "| docs | running | 2 | http " in listing
    assert TOKEN not in added + listing


@pytest.mark.parametrize(("line", "message"), [
    ("%claude mcp add", "usage: %claude mcp"),
    ("%claude mcp add x", "say what to start"),
    ("%claude mcp add x --url http://h -- cmd", "not both"),
    ("%claude mcp add x --env NOEQUALS -- cmd", "--env takes NAME=VALUE"),
    ("%claude mcp add 'bad name' -- cmd", "a server name is 1-40 letters"),
    ("%claude mcp remove nothing", "No MCP server named 'nothing'"),
    ("%claude mcp restart nothing", "No MCP server named 'nothing'"),
    ("%claude mcp frobnicate", "Unknown `%claude mcp` action 'frobnicate'"),
])
def test_bad_commands_are_one_line_errors(shell: tuple[Any, McpToolSource], line: str, message: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    ipython, _source = shell
    result = run(ipython, line)
    assert not result.success
    shown = capsys.readouterr()
    assert message in str(result.error_in_exec)
    assert "Traceback" not in shown.out + shown.err


def test_config_trait_validates_adds_servers_and_hides_values(shell: tuple[Any, McpToolSource],
                                                             claude_server: LocalServer,
                                                             capsys: pytest.CaptureFixture[str],
                                                             caplog: pytest.LogCaptureFixture) -> None:
    ipython, source = shell
    run(ipython, "%config ClaudeMagic.mcp_servers = {'x': {'type': 'ftp'}}")       # %config logs the error
    assert "ClaudeMagic.mcp_servers: MCP server 'x': type must be one of stdio, http, sse" in caplog.text
    assert source.servers() == {}
    ipython.user_ns["_mcp_entry"] = {"tools": {"command": sys.executable, "args": [str(STDIO_SERVER)],
                                               "env": {"TOKEN": ENV_TOKEN}}}
    assert run(ipython, "%config ClaudeMagic.mcp_servers = _mcp_entry").success
    run(ipython, "%config ClaudeMagic.tool_policies = {'mcp__tools__*': 'allow'}")
    run(ipython, "%config ClaudeMagic")
    assert ENV_TOKEN not in capsys.readouterr().out
    claude_server.queue(Reply(tool_use("mcp__tools__echo", {"text": "from a cell"}, id="toolu_c")), Reply("Echoed."))
    assert run(ipython, "%%claude\nEcho something.").success
    last = claude_server.message_requests[-1]["messages"][-1]["content"][0]
    assert last["content"] == "echo: from a cell"
    assert any(tool["name"] == "mcp__tools__echo" for tool in claude_server.message_requests[0]["tools"])
    assert list(source.servers()) == ["tools"]
    capsys.readouterr()
    claude_server.queue(Reply("No tools this time."))
    assert run(ipython, "%%claude --no-tools\nAnything.").success
    assert "tools" not in claude_server.message_requests[-1]
    del ipython.user_ns["_mcp_entry"]


LOAD_WITHOUT_MCP = """
import sys
sys.modules["mcp"] = None            # as if the mcp package were not installed
from IPython.testing.globalipapp import start_ipython
shell = start_ipython()
shell.run_line_magic("load_ext", "claude_magic")
result = shell.run_cell("%claude mcp add x -- some-server")
print("ERROR:", result.error_in_exec)
"""

LOAD_WITH_MCP = """
import sys
from IPython.testing.globalipapp import start_ipython
shell = start_ipython()
shell.run_line_magic("load_ext", "claude_magic")
shell.run_cell("%claude mcp")
print("IMPORTED:", "mcp" in sys.modules)
"""


def test_load_ext_and_listing_do_not_import_mcp(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", LOAD_WITH_MCP], capture_output=True, text=True, check=True,
                          cwd=tmp_path)
    assert "IMPORTED: False" in done.stdout


def test_without_the_mcp_package_one_line_names_the_install_command(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", LOAD_WITHOUT_MCP], capture_output=True, text=True, check=True,
                          cwd=tmp_path)
    assert "ERROR: MCP servers need the `mcp` package: pip install 'claude-magic[mcp]'" in done.stdout
