"""Configuration: `.mcp.json` files and their order, `${VAR}`, one-line errors, glob policies and tool selection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claude_magic.core.errors import ConfigurationError
from claude_magic.mcp.agent_sdk import agent_sdk_servers
from claude_magic.mcp.config import ServersDict, notebook_folder, parse_servers
from claude_magic.mcp.source import McpToolSource
from claude_magic.session import Session
from claude_magic.tools import Toolbox
from claude_magic.tools.policy import configured_policy

from .conftest import ENV_TOKEN, approve_files, configure, stdio, time_server


def write_config(folder: Path, servers: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ".mcp.json"
    path.write_text(json.dumps({"mcpServers": servers}), encoding="utf-8")
    return path


def test_claude_codes_shape_parses_stdio_and_remote_servers() -> None:
    servers = parse_servers({"mcpServers": {
        "git": {"command": "uvx", "args": ["mcp-server-git", "--repository", "."], "env": {"LOG": "debug-level"}},
        "docs": {"type": "http", "url": "https://docs.example/mcp", "headers": {"X-Key": "k-123456789"}},
        "feed": {"type": "sse", "url": "http://127.0.0.1:9/sse"},
    }}, "test")
    assert [(s.name, s.transport) for s in servers.values()] == [("git", "stdio"), ("docs", "http"), ("feed", "sse")]
    assert servers["git"].args == ("mcp-server-git", "--repository", ".")
    assert servers["docs"].to_json() == {"type": "http", "url": "https://docs.example/mcp",
                                         "headers": {"X-Key": "k-123456789"}}


@pytest.mark.parametrize(("entry", "message"), [
    ({"args": ["x"]}, "type must be one of stdio, http, sse"),
    ({"command": ""}, "the command is empty"),
    ({"command": "x", "args": "not-a-list"}, "args must be a list"),
    ({"command": "x", "env": {"A": 1}}, "env['A'] must be a string"),
    ({"type": "http", "url": "ftp://x"}, "url must start with http:// or https://"),
    ({"type": "http", "url": "http://x", "command": "y"}, "unknown key(s) command"),
    ({"command": "x", "env": {"T": "${CLAUDE_MAGIC_UNSET_VARIABLE}"}}, "is used but not set"),
])
def test_bad_entries_are_one_line_errors(entry: dict, message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_servers({"srv": entry}, "here")
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert str(caught.value).startswith("here: MCP server 'srv'")


def test_variables_expand_from_the_environment_and_values_are_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CM_TEST_TOKEN", ENV_TOKEN)
    servers = parse_servers({"s": {"command": "run", "args": ["--port=${CM_PORT:-8080}"],
                                   "env": {"TOKEN": "${CM_TEST_TOKEN}"}}}, "test")
    assert servers["s"].args == ("--port=8080",) and servers["s"].env == {"TOKEN": ENV_TOKEN}
    raw = {"s": {"command": "run", "env": {"TOKEN": "${CM_TEST_TOKEN}"}}}
    shown = repr(servers["s"]) + repr(ServersDict(raw)) + servers["s"].summary
    assert ENV_TOKEN not in shown and "env: TOKEN" in shown
    from claude_magic.core.redaction import redact

    assert redact(f"oops {ENV_TOKEN}") == "oops [redacted]"


def test_the_notebooks_folder_comes_first_then_the_current_folder(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    notebook_dir, cwd = tmp_path / "notebooks", tmp_path / "work"
    write_config(notebook_dir, {"shared": stdio(), "nb": stdio()})
    write_config(cwd, {"shared": time_server(), "here": time_server()})
    (notebook_dir / "analysis.ipynb").write_text("{}")
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook_dir / "analysis.ipynb"))
    monkeypatch.chdir(cwd)
    assert notebook_folder() == notebook_dir.resolve()
    source = McpToolSource()
    try:
        assert list(source.servers()) == [] and list(source.pending) == ["shared", "nb", "here"]
        approve_files(source)
        servers = source.servers()
        assert list(servers) == ["shared", "nb", "here"]
        assert list(servers["shared"].args) == stdio()["args"]      # the notebook's folder wins
        assert servers["here"].origin == str((cwd / ".mcp.json").resolve())
        configure(source, {"here": stdio()})                        # ClaudeMagic.mcp_servers replaces a file's
        assert source.servers()["here"].origin == "test"
        source.remove("nb")
        assert list(source.servers()) == ["shared", "here"]
        assert agent_sdk_servers(_session_with(source)) == {
            "shared": {"type": "stdio", "command": stdio()["command"], "args": stdio()["args"]},
            "here": {"type": "stdio", "command": stdio()["command"], "args": stdio()["args"]},
        }
    finally:
        source.manager.close()


def test_vs_codes_notebook_path_is_used_too(tmp_path: Path) -> None:
    (tmp_path / "a.ipynb").write_text("{}")
    assert notebook_folder({"__vsc_ipynb_file__": str(tmp_path / "a.ipynb")}) == tmp_path.resolve()
    assert notebook_folder({"__vsc_ipynb_file__": str(tmp_path / "gone" / "a.ipynb")}) is None


def test_a_broken_file_is_reported_not_fatal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".mcp.json").write_text("{not json", encoding="utf-8")
    source = McpToolSource(folders=[tmp_path])
    assert source.tools() == []
    [error] = source.config_errors
    assert "is not a usable MCP configuration: not JSON" in error
    assert "is not a usable MCP configuration: not JSON" in capsys.readouterr().err
    write_config(tmp_path, {"ok": stdio()})                      # fixed: read again (its mtime changed)
    import os

    os.utime(tmp_path / ".mcp.json", (1, 1))
    assert list(source.servers()) == [] and list(source.pending) == ["ok"] and source.config_errors == []
    approve_files(source)
    assert list(source.servers()) == ["ok"]
    source.manager.close()


def test_exact_names_beat_globs_and_longer_globs_beat_shorter() -> None:
    policies = {"*": "allow", "mcp__*": "ask", "mcp__git__*": "allow", "mcp__git__push": "deny"}
    assert configured_policy("mcp__git__push", policies) == "deny"
    assert configured_policy("mcp__git__status", policies) == "allow"
    assert configured_policy("mcp__docs__search", policies) == "ask"
    assert configured_policy("run_python", policies) == "allow"
    assert configured_policy("run_python", {"mcp__*": "allow"}) is None


def test_tools_flag_disabled_globs_and_stable_order(source: McpToolSource) -> None:
    configure(source, {"time": time_server(), "echo": stdio()})
    toolbox = Toolbox()

    @toolbox.tool
    def local() -> str:
        """A kernel tool."""
        return "x"

    toolbox.add_source(source)
    every = [tool["name"] for tool in toolbox.definitions(None)]
    assert every[0] == "local" and every[1:3] == ["mcp__time__get_current_time", "mcp__time__convert_time"]
    assert all(name.startswith("mcp__echo__") for name in every[3:]) and "mcp__echo__echo" in every
    assert [t["name"] for t in toolbox.definitions(("mcp__time__*",))] == every[1:3]
    toolbox.configure(disabled=["mcp__echo__*"])
    assert [t["name"] for t in toolbox.definitions(None)] == every[:3]
    assert [t["name"] for t in toolbox.definitions(("mcp__echo__echo",))] == ["mcp__echo__echo"]  # named: offered
    assert toolbox.definitions(()) == []
    toolbox.validate_names(["mcp__time__*", "local", "mcp__echo__echo"])
    with pytest.raises(ConfigurationError, match="unknown tool.*mcp__time__nope"):
        toolbox.validate_names(["mcp__time__nope"])
    assert toolbox.policy("mcp__time__convert_time") == "ask"          # an MCP tool's own default
    assert toolbox.policy("local") == "allow"
    assert toolbox.definitions(None) == toolbox.definitions(None)       # same bytes every turn


def _session_with(source: McpToolSource) -> Session:
    toolbox = Toolbox()
    toolbox.add_source(source)
    return Session(toolbox=toolbox)
