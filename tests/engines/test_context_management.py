"""The Messages API engine asks the API to manage the context where the model can (issue 25): old tool results are
cleared, the conversation is compacted at its trigger, the compaction block goes back verbatim and first, and the full
history stays in the conversation. A model without it falls back with a warning. All through the real SDK against
the local server, which applies the edits the way the API does."""

from __future__ import annotations

import time
from typing import Any

from claude_magic.core.events import Event, Notice, StepFinished
from claude_magic.core.settings import TurnOptions
from claude_magic.session import Session
from claude_magic.testing import LocalServer, Reply, tool_use
from claude_magic.testing.caching import estimate_tokens
from claude_magic.tools import Toolbox

from ..helpers import MODEL, local_settings

BIG = "row,value\n" + "".join(f"{number},{number * 7 % 13}\n" for number in range(700))    # ~8 kB, ~2k tokens


def data_toolbox() -> Toolbox:
    """One tool whose result is large (what `describe_dataframe` / `run_python` give in a real session)."""
    toolbox = Toolbox()

    @toolbox.tool(consent="allow")
    def read_part(part: int) -> str:
        """Read one part of the data set.

        Args:
            part: which part.
        """
        return f"part {part}\n{BIG}"

    return toolbox


def agent(body: dict[str, Any]) -> Reply:
    """Claude in an agent session: a prompt gets a tool call, a tool result gets a short answer."""
    last = body["messages"][-1]["content"]
    if isinstance(last, list) and last and last[-1].get("type") == "tool_result":
        return Reply("The part looks regular: " + "values cycle through 0-12 with no gap, " * 15)
    return Reply(tool_use("read_part", {"part": len(body["messages"])}))


def small_window(server: LocalServer, window: int = 24_000, model: str = MODEL) -> None:
    server.models[model]["max_input_tokens"] = window


def notices(events: list[Event]) -> list[str]:
    return [event.text for event in events if isinstance(event, Notice)]


def compactions(messages: list[dict[str, Any]]) -> int:
    return sum(1 for message in messages if isinstance(message["content"], list)
               for block in message["content"] if block.get("type") == "compaction")


def test_a_200_turn_agent_session_stays_inside_a_small_window(claude_server: LocalServer) -> None:
    small_window(claude_server)
    claude_server.default = agent
    session = Session(local_settings(claude_server), toolbox=data_toolbox())
    events: list[Event] = []
    started = time.perf_counter()
    for turn in range(200):
        result = session.ask(f"Look at part {turn}.", options=TurnOptions(cell_id=f"cell-{turn}"), emit=events.append)
        assert result.status == "complete", (turn, result.error)
        assert result.context_window == 24_000 and 0 < result.context_tokens < 24_000
    elapsed = time.perf_counter() - started
    conversation = session.conversation()
    assert len(conversation.turns) == 200                                  # every turn kept
    assert [record.prompt for record in conversation.turns][:3] == ["Look at part 0.", "Look at part 1.",
                                                                     "Look at part 2."]
    assert compactions(conversation.messages) > 1                          # compacted more than once
    lines = notices(events)
    assert sum(line.startswith("Context compacted:") for line in lines) == compactions(conversation.messages)
    assert any("old tool results" in line and "cleared" in line for line in lines)
    bodies = claude_server.message_requests
    seen = [event.usage.total_input_tokens for event in events if isinstance(event, StepFinished)]
    assert len(seen) == 400 and max(seen) < 24_000               # what Claude read of every request fitted the window
    assert max(estimate_tokens(body) for body in bodies) > 24_000   # while the requests carried every tool result
    assert all(body["context_management"]["edits"][0]["type"] == "clear_tool_uses_20250919" for body in bodies)
    assert claude_server.rejections == [] and claude_server.errors == []
    assert elapsed < 240

    before = len(bodies)                                                   # re-run turn 10: the full history again
    claude_server.default = lambda body: Reply("Asked again.")
    again = session.ask("Look at part 10, again.", options=TurnOptions(cell_id="cell-10"))
    assert again.status == "complete" and again.text == "Asked again."
    sent = claude_server.message_requests[before]["messages"]
    assert compactions(sent) == 0 and len(sent) == 1 + 4 * 10              # turns 0-9 in full, then the prompt
    assert len(conversation.turns) == 11


def test_the_compaction_block_goes_back_verbatim_and_first(claude_server: LocalServer) -> None:
    small_window(claude_server, 6_000)                                     # compacts at 4,800 tokens
    session = Session(local_settings(claude_server))
    for number in range(8):
        assert session.ask(f"Question {number}: " + "why? " * 900).status == "complete"
    messages = session.conversation().messages
    assert compactions(messages) >= 1 and len(messages) == 16              # the full history is kept
    block = next(block for message in messages if isinstance(message["content"], list)
                 for block in message["content"] if block.get("type") == "compaction")
    later = [body for body in claude_server.message_requests if body["messages"][0]["role"] == "assistant"]
    assert later and later[0]["messages"][0]["content"][0] == block
    assert claude_server.rejections == []


def test_a_model_without_compaction_warns_once_and_off_sends_nothing(claude_server: LocalServer) -> None:
    old = "claude-sonnet-4-5"                                              # clears tool results, no compaction
    small_window(claude_server, 8_000, old)
    session = Session(local_settings(claude_server, model=old))
    events: list[Event] = []
    for number in range(6):
        assert session.ask(f"Question {number}: " + "why? " * 800, emit=events.append).status == "complete"
    warnings = [event for event in events if isinstance(event, Notice) and event.level == "warning"]
    assert len(warnings) == 1 and "does not offer compaction" in warnings[0].text
    assert [edit["type"] for edit in claude_server.message_requests[-1]["context_management"]["edits"]] == [
        "clear_tool_uses_20250919"]

    claude_server.clear()
    off = Session(local_settings(claude_server, context_management="off"))
    assert off.ask("Hello.").status == "complete"
    assert "context_management" not in claude_server.message_requests[-1]
    assert "anthropic-beta" not in claude_server.requests[-1].headers

    claude_server.models["claude-sonnet-4-5"]["capabilities"]["context_management"] = {"supported": False}
    plain = Session(local_settings(claude_server, model=old))
    assert plain.ask("Hello.").status == "complete"
    assert "context_management" not in claude_server.message_requests[-1]


def test_max_budget_usd_stops_before_the_request_that_would_pass_it(claude_server: LocalServer) -> None:
    claude_server.default = agent
    session = Session(local_settings(claude_server, max_budget_usd=0.02), toolbox=data_toolbox())
    spent = []
    for number in range(40):
        result = session.ask(f"Look at part {number}.")
        if result.status != "complete":
            break
        spent.append(session.cost)
    assert result.status == "error" and "ClaudeMagic.max_budget_usd ($0.02)" in (result.error or "")
    assert session.cost >= 0.02 and all(value < 0.02 for value in spent[:-1])
    requests = len(claude_server.message_requests)
    again = session.ask("One more?")
    assert again.status == "error" and len(claude_server.message_requests) == requests     # nothing sent
    assert claude_server.rejections == []
    assert session.conversation().pending_tool_uses() == []                                 # still valid


def test_max_budget_usd_reaches_the_agent_sdk() -> None:
    from claude_magic.core.settings import Settings
    from claude_magic.engines.claude_code.options import session_options

    assert session_options(Settings(max_budget_usd=1.5), [], {}).fields["max_budget_usd"] == 1.5
    assert session_options(Settings(), [], {}).fields["max_budget_usd"] is None


def test_a_summary_holding_a_secret_is_withheld_and_the_full_history_sent_again() -> None:
    from claude_magic.core.answer_scrubbing import withhold_secret_thinking
    from claude_magic.core.redaction import scrubber
    from claude_magic.transport.context_management import sent_messages

    secret = "sk-ant-api03-" + "x" * 40
    summary = {"type": "compaction", "content": f"The user's key is {secret}.", "signature": "c2ln",
               "encrypted_content": "e30="}
    messages = [{"role": "user", "content": [{"type": "text", "text": "Hi"}]},
                {"role": "assistant", "content": [summary, {"type": "text", "text": "Hello."}]}]
    assert sent_messages(messages)[0]["content"][0] is summary
    assert withhold_secret_thinking(messages, scrubber()) == 1
    assert messages[1]["content"] == [{"type": "text", "text": "Hello."}]
    assert sent_messages(messages) == messages                    # no summary left: the full history is sent
