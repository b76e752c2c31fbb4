"""The panel's worker and the Python API (other threads) on one conversation: one turn at a time, history intact."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from claude_magic.core.errors import ConversationBusy
from claude_magic.panel import ChatPanel
from claude_magic.session import Session
from claude_magic.testing import LocalServer, Reply, text

from ..helpers import LIMIT, wait_until

SLOW = " ".join(f"word{number}" for number in range(120))


def alternates(messages: list[dict[str, Any]]) -> bool:
    return [message["role"] for message in messages] == ["user", "assistant"] * (len(messages) // 2)


def test_a_second_turn_from_another_thread_is_refused_with_a_clear_message(
        panel: ChatPanel, session: Session, claude_server: LocalServer) -> None:
    claude_server.queue(Reply(text(SLOW), delay=0.01, chunk=10))
    panel.send("A long answer please")
    wait_until(lambda: claude_server.message_requests, "the panel's request")
    outcome: list[BaseException] = []

    def other_thread() -> None:
        try:
            session.ask("Me too!")
        except ConversationBusy as error:
            outcome.append(error)

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join(LIMIT)
    [error] = outcome
    assert "already running" in str(error) and "chat panel or another cell" in str(error)
    assert panel.wait(LIMIT)
    assert panel.last_result is not None and panel.last_result.status == "complete"
    assert len(claude_server.message_requests) == 1 and claude_server.rejections == []


def test_a_thread_that_waits_runs_after_the_panel(panel: ChatPanel, session: Session,
                                                  claude_server: LocalServer) -> None:
    claude_server.queue(Reply(text(SLOW), delay=0.01, chunk=10), Reply(text("Thread answer.")))
    panel.send("Panel first")
    wait_until(lambda: claude_server.message_requests, "the panel's request")
    results: list[Any] = []
    thread = threading.Thread(target=lambda: results.append(session.ask("Thread second", wait=LIMIT)))
    thread.start()
    thread.join(LIMIT)
    assert panel.wait(LIMIT)
    [result] = results
    assert result.text == "Thread answer."
    second = claude_server.message_requests[1]["messages"]
    assert [message["role"] for message in second] == ["user", "assistant", "user"]
    assert second[1]["content"][0]["text"].startswith("word0")             # the panel's whole answer came first
    assert len(panel.messages.children) == 2                              # both turns drawn in the panel
    assert claude_server.rejections == []


def test_the_panel_waits_for_a_turn_running_elsewhere(panel: ChatPanel, session: Session,
                                                      claude_server: LocalServer) -> None:
    claude_server.queue(Reply(text(SLOW), delay=0.01, chunk=10), Reply(text("Panel answer.")))
    thread = threading.Thread(target=lambda: session.ask("Cell first"))
    thread.start()
    wait_until(lambda: claude_server.message_requests, "the cell's request")
    panel.send("Panel second")
    wait_until(lambda: "Waiting for the turn running" in panel.status.value or not panel.busy,
               "the panel to wait")
    thread.join(LIMIT)
    assert panel.wait(LIMIT)
    assert panel.last_result is not None and panel.last_result.text == "Panel answer."
    assert alternates(session.conversation().messages) and len(session.conversation()) == 2
    assert claude_server.rejections == []


def test_stop_while_waiting_sends_nothing(panel: ChatPanel, session: Session, claude_server: LocalServer) -> None:
    claude_server.queue(Reply(text(SLOW), delay=0.02, chunk=5))
    thread = threading.Thread(target=lambda: session.ask("Cell holds the conversation"))
    thread.start()
    wait_until(lambda: claude_server.message_requests, "the cell's request")
    panel.send("Waiting in line")
    wait_until(lambda: "Waiting for the turn running" in panel.status.value, "the panel to wait")
    panel.stop()
    assert panel.wait(LIMIT)
    assert "nothing was sent" in panel.status.value and panel.input.value == "Waiting in line"
    thread.join(LIMIT)
    assert len(claude_server.message_requests) == 1


@pytest.mark.parametrize("threads", [4])
def test_many_turns_from_the_panel_and_threads_keep_the_history_valid(
        panel: ChatPanel, session: Session, claude_server: LocalServer, threads: int) -> None:
    claude_server.default = lambda body: Reply(text(f"Answer to {len(body['messages'])} messages."),
                                               delay=0.005, chunk=4)
    results: list[Any] = []
    workers = [threading.Thread(target=lambda number=number: results.append(
        session.ask(f"Thread {number}", wait=LIMIT))) for number in range(threads)]
    for worker in workers:
        worker.start()
    for number in range(3):
        panel.send(f"Panel {number}")                    # queued: the panel runs them one after another
    for worker in workers:
        worker.join(LIMIT)
    assert panel.wait(LIMIT)
    assert all(result.status == "complete" for result in results) and len(results) == threads
    conversation = session.conversation()
    assert len(conversation) == threads + 3 and alternates(conversation.messages)
    assert claude_server.rejections == []
    assert len(claude_server.message_requests) == threads + 3
    for request in claude_server.message_requests:
        assert alternates(request["messages"] + [{"role": "assistant"}])
    assert len(panel.messages.children) == threads + 3


def test_two_panels_on_one_conversation_take_turns(session: Session, claude_server: LocalServer) -> None:
    first, second = ChatPanel(session), ChatPanel(session)
    try:
        claude_server.queue(Reply(text(SLOW), delay=0.01, chunk=10), Reply(text("Second panel answer.")))
        first.send("From the first panel")
        wait_until(lambda: claude_server.message_requests, "the first request")
        second.send("From the second panel")
        assert first.wait(LIMIT) and second.wait(LIMIT)
        assert second.last_result is not None and second.last_result.text == "Second panel answer."
        for chat in (first, second):
            assert chat.wait(LIMIT)
            assert len(chat.messages.children) == 2
        assert claude_server.rejections == []
    finally:
        first.close()
        second.close()
