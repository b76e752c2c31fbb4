"""Replay in one session against the local server: unchanged re-runs make no request, anything else asks."""

from __future__ import annotations

from typing import Any

import pytest

from claude_magic.commands import run_command
from claude_magic.core.errors import MissingCredentialError
from claude_magic.core.events import Event, Notice, TextDelta, ToolCallFinished, TurnFinished
from claude_magic.core.settings import TurnOptions
from claude_magic.session import Session
from claude_magic.testing import LocalServer, Reply, text, tool_use
from claude_magic.tools import Tool, Toolbox

from ..helpers import local_settings


def cell(cell_id: str, **changes: Any) -> TurnOptions:
    return TurnOptions(cell_id=cell_id, in_cell=True, **changes)


def three_cells(session: Session) -> None:
    for name in "ABC":
        assert session.ask(f"cell {name}", options=cell(name)).ok


def test_unchanged_rerun_replays_with_no_request_and_keeps_later_turns(claude_server: LocalServer) -> None:
    session = Session(local_settings(claude_server))
    three_cells(session)
    before, requests = session.conversation().to_dict(), len(claude_server.message_requests)
    events: list[Event] = []
    result = session.ask("cell B", options=cell("B"), emit=events.append)
    assert len(claude_server.message_requests) == requests
    assert result.replayed and result.cost == 0.0 and result.usage.output_tokens == 0
    assert result.recorded is not None and result.recorded.usage.output_tokens > 0
    assert result.text == before["messages"][3]["content"][0]["text"]
    assert [type(event).__name__ for event in events] == [
        "TurnStarted", "StepStarted", "BlockStarted", "TextDelta", "BlockFinished", "StepFinished", "TurnFinished"]
    assert "".join(event.text for event in events if isinstance(event, TextDelta)) == result.text
    after = session.conversation().to_dict()
    assert after["messages"] == before["messages"]
    assert [turn["id"] for turn in after["turns"]] == [turn["id"] for turn in before["turns"]]
    assert [turn["replayed"] for turn in after["turns"]] == [False, True, False]
    assert session.cost == sum(turn["cost"] for turn in before["turns"])     # the replay added nothing


@pytest.mark.parametrize("changes", [{"model": "claude-opus-5-5"}, {"system": "Be terse."}, {"max_tokens": 999},
                                     {"thinking": "adaptive"}, {"effort": "low"}])
def test_a_changed_setting_asks_again(claude_server: LocalServer, changes: dict[str, Any]) -> None:
    session = Session(local_settings(claude_server))
    three_cells(session)
    requests = len(claude_server.message_requests)
    result = session.ask("cell B", settings=session.settings.with_options(**changes), options=cell("B"))
    assert not result.replayed and len(claude_server.message_requests) == requests + 1
    assert [record.cell_id for record in session.conversation().turns] == ["A", "B"]


def test_a_changed_earlier_turn_asks_again_from_there(claude_server: LocalServer) -> None:
    session = Session(local_settings(claude_server))
    three_cells(session)
    session.ask("cell A, edited", options=cell("A"))
    requests = len(claude_server.message_requests)
    assert not session.ask("cell B", options=cell("B")).replayed       # what came before it changed
    assert len(claude_server.message_requests) == requests + 1


def test_fresh_and_replay_off_ask_anyway(claude_server: LocalServer) -> None:
    session = Session(local_settings(claude_server))
    three_cells(session)
    requests = len(claude_server.message_requests)
    assert not session.ask("cell C", options=cell("C", fresh=True)).replayed
    assert not session.ask("cell C", settings=session.settings.with_options(replay=False), options=cell("C")).replayed
    assert len(claude_server.message_requests) == requests + 2
    assert session.ask("cell C", options=cell("C")).replayed         # the latest answer replays now


def test_failed_and_interrupted_turns_are_asked_again(claude_server: LocalServer) -> None:
    from claude_magic.testing import MidStreamError

    session = Session(local_settings(claude_server))
    claude_server.queue(Reply(text("a partial answer that is cut off"), chunk=4, fault=MidStreamError(after_events=5)))
    first = session.ask("cell A", options=cell("A"))
    assert first.status == "cut_off" and first.text and session.conversation().turns[0].status == "cut_off"
    requests = len(claude_server.message_requests)
    assert session.ask("cell A", options=cell("A")).ok
    assert len(claude_server.message_requests) == requests + 1


def test_replay_needs_no_credential(claude_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    session = Session(local_settings(claude_server))
    three_cells(session)
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    result = session.ask("cell A", options=cell("A"))
    assert result.replayed and result.engine == "api"
    with pytest.raises(MissingCredentialError, match="No Anthropic credential"):
        session.ask("cell A, edited", options=cell("A"))           # asking needs one: the old turns stay
    assert [record.prompt for record in session.conversation().turns] == ["cell A", "cell B", "cell C"]


def counter_toolbox(values: list[str]) -> Toolbox:
    def read_sensor() -> str:
        """Read the sensor."""
        return values[0]

    return Toolbox([Tool(read_sensor)])


def test_tool_calls_run_again_and_a_changed_result_asks_afresh(claude_server: LocalServer) -> None:
    values = ["21 degrees"]
    session = Session(local_settings(claude_server), toolbox=counter_toolbox(values))
    claude_server.queue(Reply(tool_use("read_sensor", {})), Reply(text("It is 21 degrees.")))
    assert session.ask("How warm is it?", options=cell("A")).text == "It is 21 degrees."
    requests = len(claude_server.message_requests)
    events: list[Event] = []
    replayed = session.ask("How warm is it?", options=cell("A"), emit=events.append)
    assert replayed.replayed and len(claude_server.message_requests) == requests
    assert [event.output for event in events if isinstance(event, ToolCallFinished)] == ["21 degrees"]
    values[0] = "25 degrees"
    claude_server.queue(Reply(text("It is 25 degrees now.")))
    events.clear()
    fresh = session.ask("How warm is it?", options=cell("A"), emit=events.append)
    assert not fresh.replayed and fresh.text.endswith("It is 25 degrees now.")
    assert len(claude_server.message_requests) == requests + 1
    sent = claude_server.message_requests[-1]["messages"]
    assert sent[-1]["content"][0]["content"] == [{"type": "text", "text": "25 degrees"}] or \
        "25 degrees" in str(sent[-1]["content"][0]["content"])
    assert sent[-1]["content"][0]["type"] == "tool_result"
    notices = [event.text for event in events if isinstance(event, Notice)]
    assert any("`read_sensor` returned something different from the recording: asked afresh" in note
               for note in notices), notices
    assert fresh.turn_id != replayed.turn_id and fresh.usage.output_tokens > 0
    assert isinstance(events[-1], TurnFinished)
    assert claude_server.rejections == []


def test_a_replayed_tool_asks_for_consent_again(claude_server: LocalServer) -> None:
    from claude_magic.tools import ToolContext

    values = ["ok"]
    toolbox = counter_toolbox(values)
    toolbox.set_policy("read_sensor", "ask")
    session = Session(local_settings(claude_server), toolbox=toolbox)
    asked: list[str] = []

    def approve(call: Any) -> bool:
        asked.append(call.name)
        return True

    claude_server.queue(Reply(tool_use("read_sensor", {})), Reply(text("Fine.")))
    session.ask("Check", options=cell("A"), tool_context=ToolContext(approver=approve))
    refused = session.ask("Check", options=cell("A"), tool_context=ToolContext(approver=lambda call: False))
    assert asked == ["read_sensor"]
    assert not refused.replayed              # declined this time: the result differs, so it is asked afresh


def test_history_marks_replays_and_usage_counts_only_requests(claude_server: LocalServer) -> None:
    session = Session(local_settings(claude_server))
    three_cells(session)
    usage_before = run_command(session, ["usage"])
    session.ask("cell C", options=cell("C"))
    history = run_command(session, ["history"])
    assert "| complete, replayed |" in history and history.count("replayed |") == 1
    assert "no request" in history
    assert run_command(session, ["usage"]) == usage_before     # the answers' recorded cost; no new request
