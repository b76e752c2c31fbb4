"""ChatPanel against the local Messages API server: sending, streaming, stopping, errors, tools, conversations."""

from __future__ import annotations

import json

import pytest

from claude_magic.panel import ChatPanel
from claude_magic.panel.keys import SEND_MARK
from claude_magic.panel.panel import NEW_CONVERSATION
from claude_magic.session import Session
from claude_magic.testing import ApiError, LocalServer, Reply, Stall, text, thinking, tool_use
from claude_magic.tools import Toolbox
from claude_magic.tools.consent import DECLINED

from ..helpers import LIMIT, wait_until
from .conftest import entry_html, live_text

SLOW = " ".join(f"word{number}" for number in range(300))


def roles(body: dict) -> list[str]:
    return [message["role"] for message in body["messages"]]


def assert_history_valid(chat: ChatPanel, server: LocalServer) -> None:
    """One more turn from the panel must be accepted, and nothing was ever refused."""
    server.queue(Reply(text("History accepted.")))
    chat.send("Is the history still valid?")
    assert chat.wait(LIMIT)
    assert chat.last_result is not None and chat.last_result.status == "complete", chat.error
    assert server.rejections == []


def test_send_draws_the_turn_and_leaves_the_panel_ready(panel: ChatPanel, claude_server: LocalServer) -> None:
    claude_server.queue(Reply(thinking("The user says hi."), text("Hello, **world**.")))
    panel.input.value = "Hi there"
    panel.send_button.click()
    assert panel.input.value == ""
    assert panel.wait(LIMIT)
    [drawn] = entry_html(panel)
    assert "Hi there" in drawn and "Hello, <strong>world</strong>." in drawn
    assert "claude-magic-thinking" in drawn and "end_turn" in drawn           # thinking and the usage footer
    assert panel.status.value == "" and panel.error is None
    assert not panel.send_button.disabled and panel.stop_button.disabled and not panel.busy
    assert "1 turn" in panel.title.value
    assert roles(claude_server.message_requests[-1]) == ["user"]


def test_the_send_mark_sends_the_text_before_it(panel: ChatPanel, claude_server: LocalServer) -> None:
    claude_server.queue(Reply(text("Got it.")))
    panel.input.value = f"first line\nsecond line{SEND_MARK}a draft typed after"
    assert panel.wait(LIMIT)
    assert claude_server.message_requests[-1]["messages"][-1]["content"][0]["text"] == "first line\nsecond line"
    assert panel.input.value == "a draft typed after"


def test_nothing_is_sent_while_a_turn_runs_or_when_empty(panel: ChatPanel, claude_server: LocalServer) -> None:
    panel.input.value = "   "
    panel.send_button.click()
    assert "Write a message first" in panel.status.value
    claude_server.queue(Reply(text(SLOW), delay=0.01, chunk=8))
    panel.send("Count")
    assert panel.send_button.disabled and not panel.stop_button.disabled
    panel.input.value = f"too early{SEND_MARK}"
    assert panel.input.value == "too early"                                  # kept, without the mark
    assert "A turn is running" in panel.status.value
    assert panel.wait(LIMIT)
    assert len(claude_server.message_requests) == 1


def test_stop_keeps_the_partial_answer_and_a_valid_history(panel: ChatPanel, claude_server: LocalServer) -> None:
    claude_server.queue(Reply(text(SLOW), delay=0.02, chunk=6))
    panel.send("Count slowly")
    wait_until(lambda: "word5" in live_text(panel), "the answer to stream")
    panel.stop_button.click()
    assert panel.wait(LIMIT)
    result = panel.last_result
    assert result is not None and result.status == "interrupted"
    assert result.text.startswith("word0") and "word299" not in result.text
    assert "Stopped: the partial answer was kept" in panel.status.value
    [drawn] = entry_html(panel)
    assert "word5" in drawn and "word299" not in drawn
    assert_history_valid(panel, claude_server)
    assert roles(claude_server.message_requests[-1]) == ["user", "assistant", "user"]


def test_stop_before_the_first_token_leaves_no_trace(panel: ChatPanel, claude_server: LocalServer) -> None:
    claude_server.queue(Reply(text("never shown"), fault=Stall(after_events=0, seconds=30)))
    panel.send("Hello?")
    wait_until(lambda: claude_server.message_requests, "the request")
    panel.stop()
    assert panel.wait(LIMIT)
    assert "nothing was added" in panel.status.value
    assert entry_html(panel) == []
    assert panel.input.value == "Hello?"                                      # the message is given back
    assert panel.session.conversation().messages == []
    assert_history_valid(panel, claude_server)


def test_an_api_error_is_one_line_and_the_panel_keeps_working(panel: ChatPanel, claude_server: LocalServer) -> None:
    claude_server.queue(ApiError(529))
    panel.send("Are you busy?")
    assert panel.wait(LIMIT)
    assert panel.error and "\n" not in panel.error
    assert "⚠" in panel.status.value and "#b22" in panel.status.value
    assert panel.input.value == "Are you busy?"
    assert not panel.send_button.disabled
    assert_history_valid(panel, claude_server)
    assert panel.status.value == ""


def test_a_missing_key_is_one_line(panel: ChatPanel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    panel.send("Hello")
    assert panel.wait(LIMIT)
    assert "No Anthropic credential" in panel.status.value
    assert panel.input.value == "Hello" and not panel.busy


def test_model_output_is_sanitized(panel: ChatPanel, claude_server: LocalServer) -> None:
    claude_server.queue(Reply(text("Look <script>alert(1)</script><img src=x onerror=alert(2)> **here**")))
    panel.send("<b>bold?</b> <script>no</script>")
    assert panel.wait(LIMIT)
    [drawn] = entry_html(panel)
    assert "<script" not in drawn and "<img" not in drawn, drawn      # shown as text, never as tags
    assert "&lt;b&gt;bold?&lt;/b&gt;" in drawn


def test_the_model_selector_chooses_the_model(panel: ChatPanel, claude_server: LocalServer) -> None:
    assert ("haiku · claude-haiku-5-5", "claude-haiku-5-5") in panel.model.options
    panel.model.value = "claude-haiku-5-5"
    panel.send("Quick one")
    assert panel.wait(LIMIT)
    assert claude_server.message_requests[-1]["model"] == "claude-haiku-5-5"


def test_conversations_are_selected_created_and_kept_apart(panel: ChatPanel, session: Session,
                                                             claude_server: LocalServer) -> None:
    panel.send("In the default one")
    assert panel.wait(LIMIT)
    panel.select("side")
    assert panel.wait(LIMIT)
    assert entry_html(panel) == [] and panel.conversations.value == "side"
    panel.send("In the side one")
    assert panel.wait(LIMIT)
    assert roles(claude_server.message_requests[-1]) == ["user"]
    assert len(session.conversation("side")) == 1 and len(session.conversation("")) == 1
    assert ("side", "side") in panel.conversations.options
    panel.conversations.value = NEW_CONVERSATION
    assert panel.wait(LIMIT)
    assert panel.conversation_name == "chat-2" and "chat-2" in session.conversations
    assert panel.conversations.value == "chat-2" and entry_html(panel) == []
    panel.conversations.value = ""
    assert panel.wait(LIMIT)
    assert len(entry_html(panel)) == 1 and "In the default one" in entry_html(panel)[0]


def test_turns_from_elsewhere_appear_and_the_panel_continues_them(panel: ChatPanel, session: Session,
                                                                    claude_server: LocalServer) -> None:
    claude_server.queue(Reply(text("Answered in a cell.")))
    session.ask("Asked from a cell")                     # what `%%claude` and `claude_magic.ask` do
    assert panel.wait(LIMIT)
    [drawn] = entry_html(panel)
    assert "Asked from a cell" in drawn and "Answered in a cell." in drawn
    panel.send("And now from the panel")
    assert panel.wait(LIMIT)
    assert roles(claude_server.message_requests[-1]) == ["user", "assistant", "user"]
    session.conversation().reset()                        # `%claude reset`: picked up on the next redraw
    panel.refresh()
    assert panel.wait(LIMIT)
    assert entry_html(panel) == [] and "0 turns" in panel.title.value


@pytest.fixture
def asking_toolbox(toolbox: Toolbox) -> Toolbox:
    @toolbox.tool(consent="ask")
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    return toolbox


def test_allow_runs_the_tool_and_the_card_completes(panel: ChatPanel, asking_toolbox: Toolbox,
                                                    claude_server: LocalServer) -> None:
    claude_server.queue(Reply(tool_use("add", {"a": 2, "b": 3})), Reply(text("It is 5.")))
    panel.send("What is 2 + 3?")
    wait_until(lambda: panel.consent.pending, "the consent request")
    assert "Claude wants to run <code>add</code>" in panel.consent.request.value
    assert panel.consent.widget.layout.display == "flex"
    allow, _deny = panel.consent.buttons.children
    allow.click()
    assert panel.wait(LIMIT)
    assert panel.consent.widget.layout.display == "none"
    [drawn] = entry_html(panel)
    assert "✓ done" in drawn and "It is 5." in drawn
    result = claude_server.message_requests[-1]["messages"][-1]["content"][0]
    assert result["type"] == "tool_result" and result["content"] == "5" and not result.get("is_error")


def test_deny_tells_claude_and_the_panel_goes_on(panel: ChatPanel, asking_toolbox: Toolbox,
                                                 claude_server: LocalServer) -> None:
    claude_server.queue(Reply(tool_use("add", {"a": 2, "b": 3})), Reply(text("Understood.")))
    panel.send("Add please")
    wait_until(lambda: panel.consent.pending, "the consent request")
    _allow, deny = panel.consent.buttons.children
    deny.click()
    assert panel.wait(LIMIT)
    result = claude_server.message_requests[-1]["messages"][-1]["content"][0]
    assert result["is_error"] and json.dumps(result["content"]).find(DECLINED) >= 0
    assert "denied" in entry_html(panel)[0]
    assert_history_valid(panel, claude_server)


def test_stop_while_consent_is_asked_interrupts_the_turn(panel: ChatPanel, asking_toolbox: Toolbox,
                                                         claude_server: LocalServer) -> None:
    claude_server.queue(Reply(text("I will add."), tool_use("add", {"a": 1, "b": 1})))
    panel.send("Add")
    wait_until(lambda: panel.consent.pending, "the consent request")
    panel.stop()
    assert panel.wait(LIMIT)
    assert not panel.consent.pending and panel.last_result is not None
    assert panel.last_result.status == "interrupted"
    assert "Stopped" in panel.status.value
    assert_history_valid(panel, claude_server)
    answered = claude_server.message_requests[-1]["messages"][2]["content"][0]
    assert answered["type"] == "tool_result" and answered["is_error"]


def test_a_late_second_click_never_answers_the_next_request(panel: ChatPanel, asking_toolbox: Toolbox,
                                                            claude_server: LocalServer) -> None:
    claude_server.queue(Reply(tool_use("add", {"a": 1, "b": 2})), Reply(tool_use("add", {"a": 3, "b": 4})),
                        Reply(text("Done.")))
    panel.send("Two additions")
    wait_until(lambda: panel.consent.pending, "the first request")
    first_allow, _ = panel.consent.buttons.children
    first_allow.click()
    wait_until(lambda: panel.consent.pending and panel.consent.buttons.children[0] is not first_allow,
               "the second request")
    first_allow.click()                                   # a double click arriving late
    assert panel.consent.pending
    panel.consent.click(False)
    assert panel.wait(LIMIT)
    results = [message["content"][0] for message in claude_server.message_requests[-1]["messages"]
               if message["role"] == "user" and message["content"][0]["type"] == "tool_result"]
    assert [result.get("is_error", False) for result in results] == [False, True]


def test_closing_stops_listening(session: Session, claude_server: LocalServer) -> None:
    chat = ChatPanel(session)
    assert chat.wait(LIMIT)
    assert chat._on_turn_finished in session.listeners
    chat.close()
    assert chat._on_turn_finished not in session.listeners and not chat.worker.alive
    with pytest.raises(Exception, match="closed"):
        chat.send("anyone?")
