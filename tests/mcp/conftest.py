"""Fixtures for the MCP tests: real servers (stdio scripts, a PyPI server, an HTTP server), a source, a driver."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claude_magic.mcp.config import parse_servers
from claude_magic.mcp.source import McpToolSource
from claude_magic.testing import LocalServer
from claude_magic.tools import Toolbox

from ..helpers import local_settings
from ..tools.conftest import Driver
from .http_server import HttpMcpServer

HERE = Path(__file__).resolve().parent
STDIO_SERVER = HERE / "stdio_server.py"
RAW_SERVER = HERE / "raw_server.py"
ENV_TOKEN = "env-canary-TOKEN-93b1d5f70a2c"      # passed to a stdio server in `env`: must never be shown


def stdio(script: Path = STDIO_SERVER, **entry: Any) -> dict[str, Any]:
    """A `.mcp.json` entry that runs a test script with this Python."""
    return {"command": sys.executable, "args": [str(script)], **entry}


def time_server() -> dict[str, Any]:
    """The PyPI `mcp-server-time` server, pinned to UTC (it needs no network)."""
    return {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]}


def configure(source: McpToolSource, servers: dict[str, Any]) -> None:
    source.set_configured(parse_servers(servers, "test"))


def approve_files(source: McpToolSource) -> None:
    """Approve every project `.mcp.json` server that waits (as `%claude mcp approve NAME` does)."""
    source.servers(hint=False)
    for name in list(source.pending):
        source.approve(name)


@pytest.fixture(autouse=True)
def approvals_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own approvals (`$CLAUDE_MAGIC_CONFIG_DIR`), so approving in one never trusts a file in another."""
    folder = tmp_path / "user-config"
    monkeypatch.setenv("CLAUDE_MAGIC_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture
def source(tmp_path: Path) -> Iterator[McpToolSource]:
    """A source reading `.mcp.json` from `tmp_path` only; its servers are stopped afterwards."""
    made = McpToolSource(folders=[tmp_path])
    made.start_timeout = 30.0
    yield made
    made.manager.close()


@pytest.fixture
def mcp_driver(claude_server: LocalServer, source: McpToolSource) -> Driver:
    """A session on the local server whose toolbox offers `source`'s tools."""
    toolbox = Toolbox()
    toolbox.add_source(source)
    return Driver(claude_server, toolbox, local_settings(claude_server, tool_timeout=20.0))


@pytest.fixture(scope="module")
def http_server() -> Iterator[HttpMcpServer]:
    with HttpMcpServer() as server:
        yield server
