"""`%%claude` and `%claude` in a real IPython shell against the validating local server."""

from __future__ import annotations

from typing import Any

import pytest

import claude_magic
from claude_magic.testing import Reply, text, thinking

from .conftest import run


def last_user_text(body: dict[str, Any]) -> str:
    content = body["messages"][-1]["content"]
    return content if isinstance(content, str) else content[-1]["text"]


def test_cell_streams_answer_and_records_turn(shell: Any, claude_server: Any, capsys: Any) -> None:
    claude_server.queue(Reply(text("A p-value is the probability of data at least this extreme.")))
    result = run(shell, "%%claude\nExplain what a p-value is, briefly.")
    assert result.success
    out = capsys.readouterr().out
    assert "A p-value is the probability" in out
    last = claude_magic.get_session().last
    assert last.text.startswith("A p-value")
    assert last.message.stop_reason == "end_turn"
    assert last.usage.output_tokens > 0
    assert claude_server.rejections == []


def test_next_cell_continues_conversation(shell: Any, claude_server: Any) -> None:
    claude_server.queue(Reply(text("First answer.")), Reply(text("Second answer.")))
    run(shell, "%%claude\nFirst question")
    run(shell, "%%claude\nSecond question")
    second = claude_server.message_requests[-1]
    assert [message["role"] for message in second["messages"]] == ["user", "assistant", "user"]
    assert second["messages"][1]["content"][0]["text"] == "First answer."
    assert last_user_text(second) == "Second question"
    assert claude_server.rejections == []


def test_reset_and_history(shell: Any, claude_server: Any, capsys: Any) -> None:
    claude_server.queue(Reply(text("Hello there.")))
    run(shell, "%%claude\nSay hello")
    capsys.readouterr()
    run(shell, "%claude history")
    table = capsys.readouterr().out
    assert "Say hello" in table and "Hello there." in table and "claude-sonnet-5-5" in table
    run(shell, "%claude reset")
    assert "reset" in capsys.readouterr().out
    assert claude_magic.get_session().conversation().messages == []
    claude_server.queue(Reply(text("Fresh.")))
    run(shell, "%%claude\nAgain")
    assert len(claude_server.message_requests[-1]["messages"]) == 1


def test_help_documents_every_option(shell: Any, capsys: Any) -> None:
    run(shell, "%claude --help")
    out = capsys.readouterr().out
    for option in ("--model", "--system", "--max-tokens", "--new", "--think", "--effort", "--chat",
                   "--tools", "--no-tools", "reset", "history", "model", "usage", "save", "load"):
        assert option in out, option


@pytest.mark.parametrize(("line", "expected"), [
    ("-m opus", {"model": "claude-opus-5-5"}),
    ("--model haiku", {"model": "claude-haiku-5-5"}),
    ("--model claude-opus-4-8", {"model": "claude-opus-4-8"}),
    ("--system 'Be terse.'", {"system": "Be terse."}),
    ("--max-tokens 300", {"max_tokens": 300}),
    ("--think", {"thinking": {"type": "adaptive", "display": "summarized"}}),
    ("--think 2000", {"thinking": {"type": "enabled", "budget_tokens": 2000, "display": "summarized"}}),
    ("--effort high", {"output_config": {"effort": "high"},
                       "thinking": {"type": "adaptive", "display": "summarized"}}),
    ("--cache-ttl 1h", {"cache_control": {"type": "ephemeral", "ttl": "1h"}}),
])
def test_options_reach_the_request(shell: Any, claude_server: Any, line: str, expected: dict[str, Any]) -> None:
    claude_server.queue(Reply(text("ok")))
    assert run(shell, f"%%claude {line}\nhi").success
    body = claude_server.message_requests[-1]
    for key, value in expected.items():
        assert body[key] == value
    assert claude_server.rejections == []


def test_new_answers_outside_the_conversation(shell: Any, claude_server: Any) -> None:
    claude_server.queue(Reply(text("one")), Reply(text("aside")), Reply(text("two")))
    run(shell, "%%claude\nfirst")
    run(shell, "%%claude --new\nside question")
    assert len(claude_server.message_requests[-1]["messages"]) == 1
    run(shell, "%%claude\nsecond")
    roles = [m["role"] for m in claude_server.message_requests[-1]["messages"]]
    assert roles == ["user", "assistant", "user"]


def test_thinking_is_shown_and_round_trips(shell: Any, claude_server: Any, capsys: Any) -> None:
    claude_server.queue(Reply(thinking("Let me think about primes."), text("1001 = 7 × 11 × 13.")),
                        Reply(text("Yes.")))
    run(shell, "%%claude --think\nIs 1001 prime?")
    out = capsys.readouterr().out
    assert "Let me think about primes." in out and "7 × 11 × 13" in out
    run(shell, "%%claude\nSure?")
    sent = claude_server.message_requests[-1]["messages"][1]["content"][0]
    assert sent["type"] == "thinking" and sent["signature"]
    assert claude_server.rejections == []


def test_config_sets_defaults(shell: Any, claude_server: Any) -> None:
    run(shell, "%config ClaudeMagic.model = 'opus'")
    run(shell, "%config ClaudeMagic.system = 'You are a statistician.'")
    claude_server.queue(Reply(text("ok")))
    run(shell, "%%claude\nhi")
    body = claude_server.message_requests[-1]
    assert body["model"] == "claude-opus-5-5"
    assert body["system"] == "You are a statistician."


@pytest.mark.parametrize(("source", "message"), [
    ("%%claude --max-tokens lots\nhi", "invalid int value"),
    ("%%claude --effort extreme\nhi", "invalid choice"),
    ("%%claude --bogus\nhi", "unrecognized arguments"),
    ("%%claude\n   \n", "The cell is empty"),
    ("%%claude --think abc\nhi", "--think takes no value"),
    ("%%claude --think 10\nhi", "at least 1024"),
    ("%claude frobnicate", "Unknown command 'frobnicate'"),
    ("%claude history nosuchchat", "No conversation named 'nosuchchat'"),
])
def test_bad_input_is_one_clear_line(shell: Any, claude_server: Any, capsys: Any, source: str,
                                     message: str) -> None:
    result = run(shell, source)
    assert not result.success
    out = capsys.readouterr()
    shown = out.out + out.err
    assert message in shown
    assert "Traceback" not in shown and "site-packages" not in shown
    assert claude_server.rejections == []


def test_save_and_load_round_trip(shell: Any, claude_server: Any, tmp_path: Any) -> None:
    claude_server.queue(Reply(thinking("hmm"), text("Answer one.")), Reply(text("Answer two.")))
    run(shell, "%%claude --think\nQ1")
    path = tmp_path / "chat.json"
    assert run(shell, f"%claude save {path}").success
    before = claude_magic.get_session().conversation().to_dict()
    run(shell, "%claude reset")
    assert run(shell, f"%claude load {path}").success
    assert claude_magic.get_session().conversation().to_dict() == before
    run(shell, "%%claude\nQ2")
    assert claude_server.rejections == []
    assert len(claude_server.message_requests[-1]["messages"]) == 3


def test_python_api_shares_the_conversation(shell: Any, claude_server: Any) -> None:
    claude_server.queue(Reply(text("From the cell.")), Reply(text("From Python.")))
    run(shell, "%%claude\ncell prompt")
    result = claude_magic.ask("api prompt", display=False)
    assert result.text == "From Python."
    assert result.ok and result.message.content[0].text == "From Python."
    assert len(claude_server.message_requests[-1]["messages"]) == 3
