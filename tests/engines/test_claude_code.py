"""The Claude Code engine end to end: the bundled CLI, one process per conversation, the same events and records."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from claude_magic.core.cancellation import Cancellation
from claude_magic.core.events import (
    ConsentRequested,
    TextDelta,
    ThinkingDelta,
    ToolCallFinished,
    ToolCallStarted,
)
from claude_magic.core.pricing import cost_of
from claude_magic.core.settings import TurnOptions
from claude_magic.testing import ApiError, Reply, Stall, text, thinking, tool_use
from claude_magic.tools.consent import DECLINED
from claude_magic.tools.context import ToolContext
from claude_magic.views.footer import footer_text

from ..helpers import MODEL, wait_until
from .conftest import cc_settings


def texts_of(messages: list[dict[str, Any]]) -> str:
    """Every text in request messages (string contents and text blocks)."""
    parts = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        else:
            parts += [block.get("text", "") for block in content or [] if isinstance(block, dict)]
    return "\n".join(parts)


def live_pid(session: Any, name: str = "") -> int | None:
    return session.engines["claude-code"].clients[name].pid


def test_streams_text_and_thinking_on_one_process(cc_session: Any, script: Any) -> None:
    script.queue(Reply(thinking("Pondering the greeting."), text("Hello from the CLI, streamed.")))
    events: list[Any] = []
    settings = cc_session.settings.with_options(thinking="adaptive")
    result = cc_session.ask("Say hello", settings=settings, emit=events.append)
    assert result.status == "complete", result.error
    assert result.text == "Hello from the CLI, streamed."
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == result.text
    assert "".join(e.thinking for e in events if isinstance(e, ThinkingDelta)) == "Pondering the greeting."
    assert result.engine == "claude-code" and result.cost is not None and result.usage.output_tokens > 0
    assert "claude-code: Claude Code login (api_key" in footer_text(result)
    assert script.main_requests()[-1]["thinking"]["type"] == "adaptive"
    pid = live_pid(cc_session)
    conversation = cc_session.conversation("")
    assert [m["role"] for m in conversation.messages] == ["user", "assistant"]
    assert conversation.turns[-1].session_id and conversation.turns[-1].resume_at
    second = cc_session.ask("And again", settings=settings)
    assert second.status == "complete" and "And again" in second.text
    # the CLI's total_cost_usd adds up the process's turns: a turn's cost is its own (cache reads make it cheaper)
    own_price = cost_of(second.usage, MODEL, {})
    assert second.cost is not None and own_price is not None and second.cost < result.cost
    assert abs(second.cost - own_price) < 0.25 * own_price, (second.cost, own_price)
    assert live_pid(cc_session) == pid                           # no new CLI process for the next turn
    assert "Say hello" in str(script.main_requests()[-1]["messages"])   # the session holds the first turn


def test_kernel_tool_through_mcp_with_consent_given_and_refused(cc_session: Any, script: Any) -> None:
    answers = iter([True, False])
    context = ToolContext(approver=lambda call: next(answers))
    script.queue(Reply(tool_use("mcp__claude-magic__double", {"x": 21}, id="toolu_cc_1")), Reply(text("It is 42.")),
                 Reply(tool_use("mcp__claude-magic__double", {"x": 5}, id="toolu_cc_2")), Reply(text("Not run.")))
    events: list[Any] = []
    result = cc_session.ask("Double 21", emit=events.append, tool_context=context,
                            options=TurnOptions(conversation="tools"))
    assert result.status == "complete", result.error
    assert result.text == "It is 42."
    finished = [e for e in events if isinstance(e, ToolCallFinished)]
    assert [(e.name, e.status, e.output) for e in finished] == [("double", "done", "42")]
    assert any(isinstance(e, ConsentRequested) and e.name == "double" for e in events)
    sent = script.main_requests()[-1]["messages"]
    assert "42" in str([m for m in sent if m["role"] == "user"][-1])
    tool_turn = cc_session.conversation("tools").messages
    assert tool_turn[1]["content"][0]["name"] == "double"                      # API-shaped, kernel name
    assert tool_turn[2]["content"][0] == {"type": "tool_result", "tool_use_id": "toolu_cc_1", "content": "42"}
    refused = cc_session.ask("Double 5", tool_context=context, options=TurnOptions(conversation="tools"))
    assert refused.status == "complete" and refused.text == "Not run."
    assert DECLINED in str(script.main_requests()[-1]["messages"][-1])


def test_claude_code_tool_asks_and_a_refusal_reaches_claude(cc_server: Any, cc_home: str, script: Any) -> None:
    from claude_magic.session import Session

    session = Session(cc_settings(cc_server, cc_home, claude_code_tools=("Bash",)))
    try:
        asked: list[str] = []
        script.queue(Reply(tool_use("Bash", {"command": "echo hi", "description": "say hi"}, id="toolu_bash")),
                     Reply(text("Understood.")))
        events: list[Any] = []
        result = session.ask("Run echo", emit=events.append,
                             tool_context=ToolContext(approver=lambda call: asked.append(call.name) or False))
        assert result.status == "complete", result.error
        assert asked == ["Bash"]
        assert any(isinstance(e, ToolCallStarted) and e.name == "Bash" for e in events)
        assert [e.status for e in events if isinstance(e, ToolCallFinished)] == ["denied"]
        assert DECLINED in str(script.main_requests()[-1]["messages"][-1])
        assert [t["name"] for t in script.main_requests()[0]["tools"] if not t["name"].startswith("mcp__")
                and t["name"] != "DeferredToolPlaceholder"] == ["Bash"]
    finally:
        session.close()


def test_rerun_rewinds_the_session(cc_session: Any, script: Any) -> None:
    name = "rerun"
    first = cc_session.ask("First cell question", options=TurnOptions(conversation=name, cell_id="cell-1"))
    second = cc_session.ask("Second cell question", options=TurnOptions(conversation=name, cell_id="cell-2"))
    assert first.ok and second.ok
    third = cc_session.ask("Third cell question", options=TurnOptions(conversation=name, cell_id="cell-3"))
    assert third.ok
    again = cc_session.ask("Second cell, asked again", options=TurnOptions(conversation=name, cell_id="cell-2"))
    assert again.status == "complete", again.error
    sent = str(script.main_requests()[-1]["messages"])
    assert "First cell question" in sent and "Second cell, asked again" in sent
    assert "Second cell question" not in sent and "Third cell question" not in sent
    conversation = cc_session.conversation(name)
    assert [t.prompt for t in conversation.turns] == ["First cell question", "Second cell, asked again"]


def test_stop_keeps_the_partial_text_and_the_next_turn_works(cc_session: Any, script: Any) -> None:
    script.queue(Reply(text("The beginning of a long answer that stalls here."), chunk=8,
                       fault=Stall(after_events=6, seconds=30)))
    cancellation = Cancellation()
    events: list[Any] = []

    def emit(event: Any) -> None:
        events.append(event)
        if isinstance(event, TextDelta):
            cancellation.cancel()

    result = cc_session.ask("Tell me a long story", emit=emit, cancellation=cancellation,
                            options=TurnOptions(conversation="stop"))
    assert result.status == "interrupted", (result.text, len(events), [type(e).__name__ for e in events][:12])
    assert result.text and "The beginning".startswith(result.text[:5])
    after = cc_session.ask("Still there?", options=TurnOptions(conversation="stop"))
    assert after.status == "complete", after.error
    assert "Still there?" in after.text


def test_api_errors_behind_the_cli_are_one_line(cc_session: Any, script: Any) -> None:
    for status, expected in ((401, "refused its credential (401)"), (429, "usage or rate limit was reached"),
                             (529, "overloaded (529)")):
        script.queue(ApiError(status))
        result = cc_session.ask(f"Fault {status}", options=TurnOptions(conversation=f"fault-{status}"))
        assert result.status == "error", (status, result.text)
        assert expected in result.error and "\n" not in result.error
        assert cc_session.conversation(f"fault-{status}").turns == []
        after = cc_session.ask("Recovered?", options=TurnOptions(conversation=f"fault-{status}"))
        assert after.status == "complete", after.error


def test_cli_dying_mid_turn_is_restarted_and_resumed(cc_session: Any, script: Any) -> None:
    name = "dying"
    assert cc_session.ask("Remember the word teapot", options=TurnOptions(conversation=name)).ok
    pid = live_pid(cc_session, name)
    script.queue(Reply(text("Starting to answer and then the process dies."), chunk=8,
                       fault=Stall(after_events=6, seconds=30)))

    def kill_when_streaming(event: Any) -> None:
        if isinstance(event, TextDelta) and pid is not None:
            threading.Thread(target=os.kill, args=(pid, signal.SIGKILL)).start()

    result = cc_session.ask("Answer slowly", emit=kill_when_streaming, options=TurnOptions(conversation=name))
    assert result.status in ("cut_off", "error")
    assert "stopped in the middle of the turn" in result.error and "resumes the session" in result.error
    after = cc_session.ask("What was the word?", options=TurnOptions(conversation=name))
    assert after.status == "complete", after.error
    assert live_pid(cc_session, name) != pid
    assert "teapot" in str(script.main_requests()[-1]["messages"])        # resumed: the first turn is there
    wait_until(lambda: not _alive(pid), "the killed CLI to be gone")


def _alive(pid: int | None) -> bool:
    try:
        os.kill(pid or 0, 0)
    except OSError:
        return False
    return pid is not None


def test_api_turns_are_carried_into_a_new_claude_code_session(cc_server: Any, cc_home: str, script: Any) -> None:
    """A conversation begun on the API engine continues on Claude Code with its earlier turns as a marked
    transcript in the first Claude Code prompt; the conversation itself stays API-shaped and valid."""
    from claude_magic.session import Session
    from claude_magic.tools import Toolbox

    toolbox = Toolbox()

    @toolbox.tool
    def lookup(key: str) -> str:
        """Look a key up."""
        return "the value is 42"

    api = cc_settings(cc_server, cc_home, engine="api", base_url=cc_server.base_url)
    session = Session(api, toolbox=toolbox)
    try:
        cc_server.queue(Reply(tool_use("lookup", {"key": "answer"}, id="toolu_api_1")),   # the API's requests
                        Reply(text("The API says the value is 42.")))
        assert session.ask("Look up the answer").ok                      # tool rounds on the API engine
        cc_server.queue(Reply(text("Noted: blue.")))
        assert session.ask("My favourite colour is blue").ok
        events: list[Any] = []
        moved = session.ask("What did we find?", settings=api.with_options(engine="claude-code"),
                            emit=events.append)
        assert moved.status == "complete" and moved.engine == "claude-code", moved.error
        notices = [e.text for e in events if type(e).__name__ == "Notice"]
        assert any("Carried this conversation's 2 earlier turns" in n for n in notices), notices
        carried = texts_of(script.main_requests()[-1]["messages"])
        assert "<earlier_conversation>" in carried and "</earlier_conversation>" in carried
        for expected in ("User: Look up the answer", 'called the tool lookup with {"key": "answer"}',
                         "Tool result: the value is 42", "Assistant: The API says the value is 42.",
                         "User: My favourite colour is blue", "What did we find?"):
            assert expected in carried, expected
        conversation = session.conversation("")
        assert [t.engine for t in conversation.turns] == ["api", "api", "claude-code"]
        assert conversation.messages[-2]["content"] == [{"type": "text", "text": "What did we find?"}]  # as typed
        again = session.ask("And the colour?", settings=api.with_options(engine="claude-code"))
        assert again.ok
        sent = script.main_requests()[-1]["messages"]
        carrying = [m for m in sent if m["role"] == "user" and texts_of([m]).startswith("<earlier_conversation>")]
        assert len(carrying) == 1 and "And the colour?" in texts_of(sent[-1:])      # carried once, then kept
        cc_server.queue(Reply(text("Back on the API.")))
        assert session.ask("Back to the API", settings=api).ok             # the history is valid for the API
    finally:
        session.close()


def test_every_turn_opens_with_turn_started_once(cc_session: Any, script: Any, tmp_path: Any) -> None:
    """The engine holds TurnStarted back until the prompt is written (the view's first paint overlaps Claude's
    latency): it still comes first and once, before notices, on a starting, a warm and a failing turn."""
    def opening(result: Any, events: list[Any]) -> list[str]:
        kinds = [type(event).__name__ for event in events]
        assert kinds.count("TurnStarted") == 1 and kinds[0] == "TurnStarted", kinds
        assert kinds[-1] == "TurnFinished" and events[-1].result is result
        return kinds

    options = TurnOptions(conversation="opening")
    no_cache = cc_session.settings.with_options(cache=False)       # a setting Claude Code has no equivalent for
    clients = cc_session.engine(cc_session.settings).clients
    started_with_cli: list[bool] = []

    def record(events: list[Any]) -> Any:
        def emit(event: Any) -> None:
            if type(event).__name__ == "TurnStarted":
                started_with_cli.append("opening" in clients)
            events.append(event)
        return emit

    for _ in range(2):                                              # the CLI starting, then warm
        events: list[Any] = []
        result = cc_session.ask("Hello there", settings=no_cache, options=options, emit=record(events))
        assert result.status == "complete", result.error
        kinds = opening(result, events)
        assert kinds[1] == "Notice" and "--no-cache" in events[1].text
        assert kinds.index("TextDelta") > 1
    assert started_with_cli == [False, True]      # shown while the CLI starts, not after
    events = []
    missing = cc_session.settings.with_options(claude_code_cli=str(tmp_path / "no-such-claude"))
    failed = cc_session.ask("Hello there", settings=missing, options=TurnOptions(conversation="opening-missing"),
                            emit=events.append)
    assert failed.status == "error" and failed.error
    opening(failed, events)


def test_a_launcher_held_open_by_a_forking_thread_is_started_again(cc_session: Any, script: Any) -> None:
    """Another thread forking while the launcher is written leaves it open for writing in the child until
    its exec: starting the CLI then fails with "Text file busy" for a moment. The engine starts it again."""
    assert cc_session.ask("Warm up", options=TurnOptions(conversation="busy-warm-up")).ok   # the SDK imported
    engine = cc_session.engine(cc_session.settings)
    launcher = engine.launchers.cli_path(cc_session.settings.claude_code_cli)
    assert launcher is not None and "claude-magic-cli-" in launcher
    holder = open(launcher, "a")                     # what the forked child holds  # noqa: SIM115
    threading.Timer(0.3, holder.close).start()       # the first starts fail, a later one (within 0.75 s) works
    result = cc_session.ask("Hello through a busy launcher", options=TurnOptions(conversation="busy-launcher"))
    assert holder.closed
    assert result.status == "complete", result.error
