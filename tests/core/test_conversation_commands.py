"""Cell-aware history, named chats, pop/export, models/tokens, context overflow and prices."""

from __future__ import annotations

from typing import Any

import pytest

import claude_magic
from claude_magic.core.conversation import Conversation
from claude_magic.core.settings import Settings, TurnOptions
from claude_magic.session import Session
from claude_magic.testing import ApiError, Reply, text, thinking, tool_use

from .conftest import run


def make_session(server: Any, **settings: Any) -> Session:
    return Session(Settings(base_url=server.base_url, max_retries=0, **settings))


def prompts(body: dict[str, Any]) -> list[str]:
    return [block["text"] for message in body["messages"] if message["role"] == "user"
            for block in message["content"] if block["type"] == "text"]


def test_rerunning_a_cell_replaces_its_turn_and_drops_later_ones(claude_server: Any) -> None:
    session = make_session(claude_server)
    claude_server.queue(*(Reply(text(f"answer {number}")) for number in range(5)))
    events: list[Any] = []
    session.ask("cell A", options=TurnOptions(cell_id="A"))
    session.ask("cell B", options=TurnOptions(cell_id="B"))
    session.ask("cell C", options=TurnOptions(cell_id="C"))
    session.ask("cell B, edited", options=TurnOptions(cell_id="B"), emit=events.append)
    assert prompts(claude_server.message_requests[-1]) == ["cell A", "cell B, edited"]
    conversation = session.conversation()
    assert [record.cell_id for record in conversation.turns] == ["A", "B"]
    assert any("earlier answer (turn 2) is replaced; 1 later turn dropped" in getattr(event, "text", "")
               for event in events)
    session.ask("cell B, edited", options=TurnOptions(cell_id="B"))          # the last cell again: no loss
    assert prompts(claude_server.message_requests[-1]) == ["cell A", "cell B, edited"]
    assert claude_server.rejections == []


def test_rerun_that_fails_keeps_the_old_turn(claude_server: Any) -> None:
    session = make_session(claude_server)
    claude_server.queue(Reply(text("first")), Reply(text("second")), ApiError(500))
    session.ask("A", options=TurnOptions(cell_id="A"))
    session.ask("B", options=TurnOptions(cell_id="B"))
    before = session.conversation().to_dict()
    result = session.ask("A again", options=TurnOptions(cell_id="A"))
    assert result.status == "error"
    assert session.conversation().to_dict() == before


def test_rerun_append_mode(claude_server: Any) -> None:
    session = make_session(claude_server, rerun="append")
    claude_server.queue(Reply(text("one")), Reply(text("two")))
    session.ask("A", options=TurnOptions(cell_id="A"))
    session.ask("A", options=TurnOptions(cell_id="A"))
    assert len(session.conversation().turns) == 2


def test_named_chats_are_separate(shell: Any, claude_server: Any, capsys: Any) -> None:
    claude_server.queue(Reply(text("default")), Reply(text("in stats")), Reply(text("stats again")))
    run(shell, "%%claude\nmain thread")
    run(shell, "%%claude --chat stats\nstats thread")
    run(shell, "%%claude --chat stats\nmore stats")
    assert prompts(claude_server.message_requests[-1]) == ["stats thread", "more stats"]
    capsys.readouterr()
    run(shell, "%claude chats")
    listing = capsys.readouterr().out
    assert "(default)" in listing and "| stats | 2 |" in listing


def test_pop_drops_the_last_turn_and_stays_valid(shell: Any, claude_server: Any) -> None:
    claude_server.queue(Reply(text("one")), Reply(text("two")), Reply(text("three")))
    run(shell, "%%claude\nfirst")
    run(shell, "%%claude\nsecond")
    assert run(shell, "%claude pop").success
    run(shell, "%%claude\nthird")
    assert prompts(claude_server.message_requests[-1]) == ["first", "third"]
    assert claude_server.rejections == []


def test_pop_after_interrupted_tools_keeps_history_valid(claude_server: Any) -> None:
    conversation = Conversation()
    conversation.add_user([{"type": "text", "text": "q"}])
    conversation.add_assistant([{"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}])
    conversation.answer_pending()
    from claude_magic.core.conversation import TurnRecord
    conversation.turns.append(TurnRecord(prompt="q", start=0, end=3))
    conversation.turns.append(TurnRecord(prompt="next", start=2, end=4))
    conversation.add_user([{"type": "text", "text": "next"}])
    conversation.add_assistant([{"type": "text", "text": "ok"}])
    conversation.pop()
    assert conversation.messages[-1]["role"] == "user"
    assert conversation.messages[-1]["content"][0]["type"] == "tool_result"


def test_export_markdown(shell: Any, claude_server: Any, tmp_path: Any) -> None:
    claude_server.queue(Reply(thinking("pondering"), text("The answer is 42.")))
    run(shell, "%%claude --think\nWhat is the answer?")
    path = tmp_path / "t.md"
    assert run(shell, f"%claude export {path}").success
    markdown = path.read_text()
    assert "**You:**\n\n> What is the answer?" in markdown
    assert "The answer is 42." in markdown and "> pondering" in markdown


def test_models_lists_windows(shell: Any, claude_server: Any, capsys: Any) -> None:
    assert run(shell, "%claude models").success
    out = capsys.readouterr().out
    assert "claude-opus-5-5" in out and "opus" in out and "1,000,000" in out


def test_tokens_counts_and_shows_share(shell: Any, claude_server: Any, capsys: Any) -> None:
    claude_server.queue(Reply(text("hello")))
    run(shell, "%%claude\nhi there")
    capsys.readouterr()
    assert run(shell, "%claude tokens").success
    out = capsys.readouterr().out
    assert "input tokens for the next request to claude-sonnet-5-5" in out and "1,000,000-token" in out


def test_overflowing_turn_is_refused_before_sending(claude_server: Any) -> None:
    session = make_session(claude_server, model="claude-haiku-4-5")
    huge = "word " * 180_000                                     # ~225k tokens by the server's estimate
    result = session.ask(huge)
    assert result.status == "error"
    assert "context window is 200,000" in (result.error or "")
    assert claude_server.message_requests == []
    assert session.conversation().messages == []


def test_price_overrides_and_unknown_models(shell: Any, claude_server: Any, capsys: Any) -> None:
    run(shell, "%config ClaudeMagic.prices = {'claude-sonnet-5-5': [100, 1000]}")
    claude_server.queue(Reply(text("priced")))
    run(shell, "%%claude\nhi")
    last = claude_magic.get_session().last
    assert last.cost == pytest.approx((last.usage.input_tokens * 100 + last.usage.output_tokens * 1000
                                       + last.usage.cache_creation_input_tokens * 125) / 1e6)
    run(shell, "%config ClaudeMagic.prices = {}")
    claude_server.accept_any_model = True
    claude_server.queue(Reply(text("local model")))
    run(shell, "%%claude -m llama3\nhi")
    assert claude_magic.get_session().last.cost is None
    assert "cost unknown" in capsys.readouterr().out


def test_tool_turn_survives_save_load_continue(claude_server: Any, tmp_path: Any) -> None:
    session = make_session(claude_server)
    claude_server.queue(Reply(thinking("need a tool"), tool_use("missing_tool", {"x": 1})), Reply(text("done")),
                        Reply(text("continued")))
    session.ask("use a tool")
    data = session.conversation().to_dict()
    restored = Conversation.from_dict(data)
    session.conversations[""] = restored
    session.ask("and then?")
    assert claude_server.rejections == []
    assert prompts(claude_server.message_requests[-1])[-1] == "and then?"


DOLLAR = '<span class="tex2jax_ignore mathjax_ignore">$</span>'


def shown(shell: Any, line: str) -> dict[str, str]:
    """The MIME bundle a `%claude` command displays."""
    from IPython.core.displaypub import CapturingDisplayPublisher

    saved, shell.display_pub = shell.display_pub, CapturingDisplayPublisher()
    try:
        assert run(shell, line).success
        (output,) = shell.display_pub.outputs
    finally:
        shell.display_pub = saved
    return output["data"]


def usage_rows(bundle: dict[str, str]) -> dict[str, list[str]]:
    rows = [line.strip("|").split("|") for line in bundle["text/plain"].splitlines() if line.startswith("|")]
    return {cells[0].strip(): [cell.strip() for cell in cells[1:]] for cells in rows}


def test_usage_names_its_units_and_money_is_not_math(shell: Any, claude_server: Any) -> None:
    claude_server.queue(Reply(text("priced")))
    run(shell, "%%claude\nhi")
    bundle = shown(shell, "%claude usage")
    assert set(bundle) == {"text/html", "text/markdown", "text/plain"}
    rows = usage_rows(bundle)
    assert rows["conversation"] == ["turns", "input tokens", "cache-write tokens", "cache-read tokens",
                                    "output tokens", "cost (USD)"]
    session = claude_magic.get_session()
    cost = f"${session.cost:.4f}"
    assert rows["(default)"][-1] == rows["**session**"][-1] == cost
    assert rows["**session**"][4] == f"{session.usage.output_tokens:,}"
    # Each channel writes the dollar its own way: a MathJax-ignored span, `\$`, and as it is.
    assert f"{DOLLAR}{cost[1:]}" in bundle["text/html"] and "<table>" in bundle["text/html"]
    assert f"\\{cost}" in bundle["text/markdown"]
    assert "\\" not in bundle["text/plain"]


def test_usage_total_is_unknown_when_any_turn_is(shell: Any, claude_server: Any) -> None:
    claude_server.queue(Reply(text("priced")), Reply(text("local model")), Reply(text("local, aside")))
    run(shell, "%%claude\nhi")
    run(shell, "%%claude -m nosuch-model\nhello")                # refused (404): no tokens, so it costs nothing
    rows = usage_rows(shown(shell, "%claude usage"))
    assert rows["**session**"][-1].startswith("$") and rows["(default)"][-1].startswith("$")

    claude_server.accept_any_model = True
    run(shell, "%%claude --new -m llama3\nan aside")               # outside every conversation, unpriced
    bundle = shown(shell, "%claude usage")
    rows = usage_rows(bundle)
    assert rows["(default)"][-1].startswith("$")                  # that conversation's turns are all priced
    assert rows["**session**"][-1] == "—"                         # the session's total is not
    assert "without a known price" in bundle["text/plain"]

    run(shell, "%%claude --chat local -m llama3\nhello")
    rows = usage_rows(shown(shell, "%claude usage"))
    assert rows["local"][-1] == "—" and rows["**session**"][-1] == "—"
    assert claude_magic.get_session().unpriced_turns == 2


def test_history_with_money_and_math(shell: Any, claude_server: Any) -> None:
    claude_server.queue(Reply(text("Both, and $x^2$ grows.")))
    run(shell, "%%claude\nBasic costs $5 per month, pro costs $10: which?")
    bundle = shown(shell, "%claude history")
    assert "| # | prompt | answer | model | input tokens | output tokens | status |" in bundle["text/plain"]
    assert f"Basic costs {DOLLAR}5 per month, pro costs {DOLLAR}10: which?" in bundle["text/html"]
    assert "$x^2$ grows" in bundle["text/html"]
    assert "Basic costs \\$5 per month, pro costs \\$10: which?" in bundle["text/markdown"]
    assert "$x^2$ grows" in bundle["text/markdown"]
    assert "costs $5 per month" in bundle["text/plain"] and "\\$" not in bundle["text/plain"]


def test_export_writes_money_escaped_and_math_as_is(shell: Any, claude_server: Any, tmp_path: Any) -> None:
    claude_server.queue(Reply(text("Pick the $5 plan; $x^2$ is math.")))
    run(shell, "%%claude\nWhich plan, $5 or $10?")
    path = tmp_path / "t.md"
    assert run(shell, f"%claude export {path}").success
    markdown = path.read_text()
    assert "**You:**\n\n> Which plan, \\$5 or \\$10?" in markdown
    assert "Pick the \\$5 plan; $x^2$ is math." in markdown
    assert "· \\$0." in markdown                                  # the turn's cost line
