"""The Claude Code engine gets the same MCP servers (`ClaudeAgentOptions.mcp_servers`): the CLI runs them itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from claude_magic.core.events import ToolCallFinished
from claude_magic.mcp.source import McpToolSource
from claude_magic.session import Session
from claude_magic.testing import LocalServer, Reply, text, tool_use
from claude_magic.tools import Toolbox
from claude_magic.tools.context import ToolContext

from ..engines.conftest import Script, cc_home, cc_server, cc_settings, script  # noqa: F401 - fixtures
from .conftest import configure, time_server


def test_the_cli_runs_the_configured_server_and_asks_before_its_tool(  # noqa: F811 - the engines' fixtures
        cc_server: LocalServer, cc_home: str, script: Script, tmp_path: Path) -> None:  # noqa: F811
    source = McpToolSource(folders=[tmp_path])
    configure(source, {"time": time_server()})
    toolbox = Toolbox()
    toolbox.add_source(source)
    session = Session(cc_settings(cc_server, cc_home), toolbox=toolbox)
    asked: list[str] = []
    try:
        script.queue(Reply(tool_use("mcp__time__get_current_time", {"timezone": "Asia/Tokyo"}, id="toolu_cc_time")),
                     Reply(text("It is evening in Tokyo.")))
        events: list[Any] = []
        result = session.ask("What time is it in Tokyo?", emit=events.append,
                             tool_context=ToolContext(approver=lambda call: asked.append(call.name) or True))
        assert result.status == "complete", result.error
        assert asked == ["mcp__time__get_current_time"]
        finished = [event for event in events if isinstance(event, ToolCallFinished)]
        assert [event.status for event in finished] == ["done"]
        results = [block for message in script.main_requests()[-1]["messages"] if message["role"] == "user"
                   for block in message["content"] if isinstance(block, dict) and block.get("type") == "tool_result"
                   and block["tool_use_id"] == "toolu_cc_time"]
        [answer] = results
        assert not answer.get("is_error") and "datetime" in json.dumps(answer["content"])
        assert "+09:00" in json.dumps(answer["content"])              # the server's answer, from the CLI's call
    finally:
        session.close()
        source.manager.close()
