"""The web switch on the Claude Code engine (the real bundled CLI): its WebSearch / WebFetch are offered and ask
first like any Claude Code tool; a large attachment is sent as it is, with one line saying so."""

from __future__ import annotations

from typing import Any

from claude_magic.core.events import Notice, ToolCallFinished
from claude_magic.session import Session
from claude_magic.testing import Reply, text, tool_use
from claude_magic.tools.context import ToolContext

from .conftest import cc_settings

DECLINED = "declined"


def offered(script: Any) -> list[str]:
    return [tool["name"] for tool in script.main_requests()[0].get("tools", [])]


def test_web_switch_offers_claude_codes_web_tools_under_consent(cc_server: Any, cc_home: str, script: Any) -> None:
    session = Session(cc_settings(cc_server, cc_home, server_tools=("web_search", "web_fetch")))
    try:
        asked: list[str] = []
        script.queue(Reply(tool_use("WebFetch", {"url": "https://pandas.pydata.org/docs/",
                                                 "prompt": "What does merge do?"}, id="toolu_fetch")),
                     Reply(text("Not fetched.")))
        events: list[Any] = []
        result = session.ask("Read the pandas docs", emit=events.append,
                             tool_context=ToolContext(approver=lambda call: asked.append(call.name) or False))
        assert result.status == "complete", result.error
        assert {"WebSearch", "WebFetch"} <= set(offered(script)), offered(script)
        assert asked == ["WebFetch"]
        assert [event.status for event in events if isinstance(event, ToolCallFinished)] == ["denied"]
        assert DECLINED in str(script.main_requests()[-1]["messages"][-1])
    finally:
        session.close()


def test_without_the_switch_no_web_tools_and_a_large_attachment_says_so(cc_server: Any, cc_home: str,
                                                                         script: Any) -> None:
    import base64

    session = Session(cc_settings(cc_server, cc_home, files_api_above=1000))
    try:
        script.queue(Reply(text("Read.")))
        document = {"type": "document", "title": "report.pdf", "source": {
            "type": "base64", "media_type": "application/pdf",
            "data": base64.b64encode(b"%PDF-1.4\n" + b"0" * 4000).decode()}}
        events: list[Any] = []
        result = session.ask([document, {"type": "text", "text": "Summarize"}], emit=events.append)
        assert result.status == "complete", result.error
        assert not {"WebSearch", "WebFetch"} & set(offered(script))
        notes = [event.text for event in events if isinstance(event, Notice)]
        assert any("report.pdf (0.0 MB)" in note and "API engine only" in note for note in notes), notes
        assert cc_server.files.uploads == 0
    finally:
        session.close()
