"""Claude calls MCP tools in real turns against the local server: results, consent, images, failures, concurrency."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claude_magic.mcp.source import McpToolSource
from claude_magic.testing import Reply, tool_use
from claude_magic.tools import ToolCall, ToolContext
from claude_magic.tools.consent import DECLINED

from ..tools.conftest import Driver
from .conftest import ENV_TOKEN, RAW_SERVER, configure, stdio, time_server
from .http_server import TOKEN, HttpMcpServer

ALLOW = ToolContext(approver=lambda _call: True)


def offered(driver: Driver, request: int = 0) -> list[str]:
    return [tool["name"] for tool in driver.server.message_requests[request].get("tools", [])]


def result_text(block: dict[str, Any]) -> str:
    content = block["content"]
    return content if isinstance(content, str) else "\n".join(part.get("text", "") for part in content)


def test_a_pypi_server_tool_is_offered_called_and_its_result_reaches_the_next_request(
        mcp_driver: Driver, source: McpToolSource) -> None:
    configure(source, {"time": time_server()})
    asked: list[ToolCall] = []

    def approver(call: ToolCall) -> bool:
        asked.append(call)
        return True

    call = {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"}
    mcp_driver.server.queue(Reply(tool_use("mcp__time__convert_time", call, id="toolu_t")), Reply("21:00 in Tokyo."))
    result = mcp_driver.ask("What is noon UTC in Tokyo?", context=ToolContext(approver=approver))
    assert result.status == "complete", result.error
    tools = mcp_driver.server.message_requests[0]["tools"]
    assert [tool["name"] for tool in tools] == ["mcp__time__get_current_time", "mcp__time__convert_time"]
    convert = tools[1]
    assert convert["description"] == "Convert time between timezones"
    assert set(convert["input_schema"]["required"]) == {"source_timezone", "time", "target_timezone"}
    [answer] = mcp_driver.tool_results(1)
    assert answer["tool_use_id"] == "toolu_t" and not answer.get("is_error")
    data = json.loads(result_text(answer))
    assert data["target"]["timezone"] == "Asia/Tokyo" and data["target"]["datetime"].endswith("21:00:00+09:00")
    assert [request.name for request in asked] == ["mcp__time__convert_time"] and asked[0].policy == "ask"
    assert mcp_driver.finished[0].status == "done"
    mcp_driver.assert_history_valid()


def test_consent_is_asked_and_a_no_means_the_server_never_runs_it(mcp_driver: Driver, source: McpToolSource,
                                                                   tmp_path: Path) -> None:
    configure(source, {"files": stdio()})
    target = tmp_path / "written.txt"
    mcp_driver.server.queue(
        Reply(tool_use("mcp__files__write_file", {"path": str(target), "text": "x"}, id="toolu_w")), Reply("Ok."))
    result = mcp_driver.ask(context=ToolContext(approver=lambda _call: False))
    assert result.status == "complete"
    assert not target.exists()
    assert mcp_driver.tool_results(1) == [{"type": "tool_result", "tool_use_id": "toolu_w", "content": DECLINED,
                                           "is_error": True}]
    assert [event.name for event in mcp_driver.consent_requests] == ["mcp__files__write_file"]
    mcp_driver.server.queue(
        Reply(tool_use("mcp__files__write_file", {"path": str(target), "text": "yes"}, id="toolu_y")), Reply("Ok."))
    mcp_driver.ask(context=ALLOW)
    assert target.read_text() == "yes"
    mcp_driver.assert_history_valid()


def test_a_server_glob_policy_allows_its_tools_without_asking(mcp_driver: Driver, source: McpToolSource,
                                                              tmp_path: Path) -> None:
    configure(source, {"files": stdio()})
    mcp_driver.toolbox.configure(policies={"mcp__files__*": "allow", "mcp__files__write_file": "deny"})
    target = tmp_path / "never.txt"
    mcp_driver.server.queue(
        Reply(tool_use("mcp__files__echo", {"text": "hi"}, id="toolu_e"),
              tool_use("mcp__files__write_file", {"path": str(target), "text": "x"}, id="toolu_w")),
        Reply("Done."))
    mcp_driver.ask(context=ToolContext(approver=lambda _call: pytest.fail("nothing should ask")))
    echo, write = mcp_driver.tool_results(1)
    assert result_text(echo) == "echo: hi"
    assert write["is_error"] and "policy" in write["content"] and not target.exists()


def test_a_streamable_http_server_gets_its_headers_and_its_tools_work(
        mcp_driver: Driver, source: McpToolSource, http_server: HttpMcpServer) -> None:
    configure(source, {"docs": {"type": "http", "url": http_server.url,
                                "headers": {"Authorization": f"Bearer {TOKEN}"}}})
    mcp_driver.server.queue(Reply(tool_use("mcp__docs__add", {"a": 2, "b": 40}, id="toolu_a")), Reply("42."))
    result = mcp_driver.ask("Add 2 and 40.", context=ALLOW)
    assert result.status == "complete", result.error
    assert offered(mcp_driver) == ["mcp__docs__add", "mcp__docs__weather"]
    assert result_text(mcp_driver.tool_results(1)[0]) == "42"
    everything = repr(mcp_driver.events) + json.dumps(mcp_driver.server.message_requests) + repr(source)
    assert TOKEN not in everything


def test_a_wrong_token_is_one_line_and_the_turn_goes_on_without_that_server(
        mcp_driver: Driver, source: McpToolSource, http_server: HttpMcpServer,
        capsys: pytest.CaptureFixture[str]) -> None:
    configure(source, {"docs": {"type": "http", "url": http_server.url,
                                "headers": {"Authorization": "Bearer wrong-token-0123456789"}}})
    mcp_driver.server.queue(Reply("No tools needed."))
    assert mcp_driver.ask(context=ALLOW).status == "complete"
    assert offered(mcp_driver) == []
    [warning] = [line for line in capsys.readouterr().err.splitlines() if "docs" in line]
    assert "did not start" in warning and "%claude mcp restart docs" in warning
    assert "wrong-token-0123456789" not in warning
    assert source.manager.get("docs").status == "failed"


def test_image_content_goes_to_claude_as_an_image_block_and_to_the_card(mcp_driver: Driver,
                                                                         source: McpToolSource) -> None:
    configure(source, {"art": stdio()})
    mcp_driver.server.queue(Reply(tool_use("mcp__art__picture", {}, id="toolu_p")), Reply("A red pixel."))
    assert mcp_driver.ask(context=ALLOW).status == "complete"
    [answer] = mcp_driver.tool_results(1)
    image, caption = answer["content"]
    assert image["type"] == "image" and image["source"]["media_type"] == "image/png"
    assert image["source"]["data"].startswith("iVBORw0KGgo")
    assert caption == {"type": "text", "text": "a red pixel"}
    [finished] = mcp_driver.finished
    assert [sorted(bundle.data) for bundle in finished.display] == [["image/png"]]
    assert mcp_driver.server.rejections == []
    mcp_driver.assert_history_valid()


def test_resource_content_goes_as_text_and_a_tool_error_is_an_error_result(mcp_driver: Driver,
                                                                          source: McpToolSource) -> None:
    configure(source, {"repo": stdio()})
    mcp_driver.server.queue(Reply(tool_use("mcp__repo__readme", {}, id="toolu_r"),
                                  tool_use("mcp__repo__refuse", {}, id="toolu_f")), Reply("Read it."))
    mcp_driver.ask(context=ALLOW)
    readme, refused = mcp_driver.tool_results(1)
    assert result_text(readme) == "[resource file:///project/README.md (text/markdown)]\n# Project\nHello from a resource."
    assert refused["is_error"] and "the database is read-only" in result_text(refused)
    assert [event.status for event in mcp_driver.finished] == ["done", "failed"]
    mcp_driver.assert_history_valid()


def test_a_server_that_dies_mid_call_gives_one_line_and_restart_brings_it_back(mcp_driver: Driver,
                                                                              source: McpToolSource) -> None:
    configure(source, {"flaky": stdio()})
    mcp_driver.server.queue(Reply(tool_use("mcp__flaky__crash", {}, id="toolu_c")), Reply("It crashed."))
    assert mcp_driver.ask(context=ALLOW).status == "complete"
    [answer] = mcp_driver.tool_results(1)
    line = result_text(answer)
    assert answer["is_error"] and "\n" not in line
    assert "stopped during the call" in line and "simulated crash" in line
    assert "`%claude mcp restart flaky`" in line
    [finished] = mcp_driver.finished
    assert finished.status == "failed" and finished.output == line
    mcp_driver.server.queue(Reply(tool_use("mcp__flaky__echo", {"text": "again"}, id="toolu_e")), Reply("Down."))
    mcp_driver.ask(context=ALLOW)
    assert "is not running" in result_text(mcp_driver.tool_results(-1)[0])
    source.manager.restart("flaky", 30.0)
    mcp_driver.server.queue(Reply(tool_use("mcp__flaky__echo", {"text": "back"}, id="toolu_b")), Reply("Back."))
    mcp_driver.ask(context=ALLOW)
    assert result_text(mcp_driver.tool_results(-1)[0]) == "echo: back"
    assert offered(mcp_driver, 0) == offered(mcp_driver, -1)       # same tools, same order, across the restart
    mcp_driver.assert_history_valid()


def test_a_call_that_never_answers_times_out_in_one_line_and_the_server_stays_usable(
        mcp_driver: Driver, source: McpToolSource) -> None:
    configure(source, {"slow": stdio()})
    mcp_driver.server.queue(Reply(tool_use("mcp__slow__hang", {}, id="toolu_h")), Reply("Timed out."))
    assert mcp_driver.ask(context=ALLOW, tool_timeout=1.5).status == "complete"
    [answer] = mcp_driver.tool_results(1)
    assert answer["is_error"] and "timed out after 1.5 s" in answer["content"] and "\n" not in answer["content"]
    assert mcp_driver.finished[0].status == "timeout"
    mcp_driver.server.queue(Reply(tool_use("mcp__slow__echo", {"text": "still here"}, id="toolu_e")), Reply("Ok."))
    mcp_driver.ask(context=ALLOW)
    assert result_text(mcp_driver.tool_results(-1)[0]) == "echo: still here"
    mcp_driver.assert_history_valid()


def test_malformed_answers_are_one_line_results(mcp_driver: Driver,
                                                                       source: McpToolSource) -> None:
    configure(source, {"raw": stdio(RAW_SERVER)})
    mcp_driver.server.queue(Reply(tool_use("mcp__raw__garbled", {}, id="toolu_g"),
                                  tool_use("mcp__raw__bad_image", {}, id="toolu_i")), Reply("Odd."))
    assert mcp_driver.ask(context=ALLOW).status == "complete"
    assert offered(mcp_driver) == ["mcp__raw__garbled", "mcp__raw__bad_image"]
    garbled, bad_image = mcp_driver.tool_results(1)
    assert garbled["is_error"] and "malformed result" in garbled["content"] and "\n" not in garbled["content"]
    assert [block["type"] for block in bad_image["content"]] == ["text", "text"]
    assert "not valid base64" in bad_image["content"][0]["text"]
    mcp_driver.assert_history_valid()


def test_a_malformed_tool_list_fails_the_start_in_one_line(mcp_driver: Driver, source: McpToolSource,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    configure(source, {"raw": stdio(RAW_SERVER, env={"RAW_BAD_SCHEMA": "1"})})
    mcp_driver.server.queue(Reply("No tools."))
    assert mcp_driver.ask(context=ALLOW).status == "complete"
    assert offered(mcp_driver) == []
    error = source.manager.get("raw").last_error
    assert error.startswith("malformed ListToolsResult from the server: tools.2.inputSchema.type:"), error
    [line] = [line for line in capsys.readouterr().err.splitlines() if "'raw'" in line]
    assert error in line


def test_a_server_that_fails_to_start_says_why_once_and_the_others_still_work(
        mcp_driver: Driver, source: McpToolSource, capsys: pytest.CaptureFixture[str]) -> None:
    configure(source, {
        "broken": {"command": "python3", "args": ["-c", "import sys; sys.stderr.write('cannot open the database\\n');"
                                                       " sys.exit(2)"]},
        "missing": {"command": "/nonexistent/mcp-server"},
        "ok": stdio(),
    })
    mcp_driver.server.queue(Reply(tool_use("mcp__ok__echo", {"text": "fine"}, id="toolu_e")), Reply("Fine."))
    assert mcp_driver.ask(context=ALLOW).status == "complete"
    assert all(name.startswith("mcp__ok__") for name in offered(mcp_driver))
    warnings = [line for line in capsys.readouterr().err.splitlines() if "did not start" in line]
    assert len(warnings) == 2
    assert "cannot open the database" in source.manager.get("broken").last_error
    assert "/nonexistent/mcp-server" in source.manager.get("missing").last_error
    assert result_text(mcp_driver.tool_results(1)[0]) == "echo: fine"


def test_mcp_calls_run_concurrently_with_kernel_tools(mcp_driver: Driver, source: McpToolSource,
                                                      tmp_path: Path) -> None:
    configure(source, {"bg": stdio()})
    marker = tmp_path / "started"

    @mcp_driver.toolbox.tool
    def wait_for_marker() -> str:
        """Wait (up to 20 s) until the MCP call has started."""
        import time

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if marker.exists():
                return "overlap"
            time.sleep(0.01)
        return "no overlap"

    mcp_driver.server.queue(
        Reply(tool_use("wait_for_marker", {}, id="toolu_k"),
              tool_use("mcp__bg__touch_then_sleep", {"path": str(marker), "seconds": 0.5}, id="toolu_m")),
        Reply("Both done."))
    mcp_driver.ask(context=ALLOW)
    kernel, remote = mcp_driver.tool_results(1)
    assert kernel["content"] == "overlap" and result_text(remote) == "done"


def test_secrets_in_env_never_reach_claude_the_events_or_the_conversation(mcp_driver: Driver,
                                                                         source: McpToolSource) -> None:
    configure(source, {"envy": stdio(env={"TOKEN": ENV_TOKEN})})
    mcp_driver.server.queue(
        Reply(tool_use("mcp__envy__token_matches", {"expected_length": len(ENV_TOKEN)}, id="toolu_m"),
              tool_use("mcp__envy__leak_token", {}, id="toolu_l")), Reply("Checked."))
    mcp_driver.ask(context=ALLOW)
    matches, leaked = mcp_driver.tool_results(1)
    assert result_text(matches) == "token present: True, length ok: True"
    assert result_text(leaked) == "my token is [redacted]"
    seen = (json.dumps(mcp_driver.server.message_requests) + repr(mcp_driver.events)
            + json.dumps(mcp_driver.session.conversation().to_dict()) + repr(source.servers()))
    assert ENV_TOKEN not in seen
