"""Every fault: one clear line, partial output kept and marked, and the next turn works."""

from __future__ import annotations

import socket
from typing import Any

import pytest

import claude_magic
from claude_magic.testing import ApiError, Drop, Malformed, MidStreamError, Reply, Stall, text

from .conftest import run

LONG = "This answer is long enough to be cut in the middle. " * 6


def check_one_line(shown: str, expected: str) -> None:
    assert expected in shown, shown
    assert "Traceback" not in shown and "site-packages" not in shown
    error_lines = [line for line in shown.splitlines() if expected in line]
    assert len(error_lines) >= 1


def next_turn_works(shell: Any, claude_server: Any) -> None:
    claude_server.queue(Reply(text("Recovered fine.")))
    result = run(shell, "%%claude\nAre you there?")
    assert result.success
    assert claude_magic.get_session().last.text == "Recovered fine."
    assert claude_server.rejections == []


@pytest.mark.parametrize(("status", "expected"), [
    (400, "The API refused the request (400"),
    (401, "Authentication failed (401)"),
    (403, "Permission denied (403)"),
    (404, "was not found"),
    (413, "Request too large (413)"),
    (429, "Rate limited (429)"),
    (500, "internal error (500)"),
    (529, "overloaded (529)"),
])
def test_api_error_status(shell: Any, claude_server: Any, capsys: Any, status: int, expected: str) -> None:
    claude_server.queue(ApiError(status, retry_after=0 if status == 429 else None))
    result = run(shell, "%%claude\nhello")
    assert not result.success
    out = capsys.readouterr()
    check_one_line(out.out + out.err, expected)
    assert claude_magic.get_session().conversation().messages == []
    next_turn_works(shell, claude_server)


def test_retries_are_the_sdks_and_are_reported(shell: Any, claude_server: Any, capsys: Any) -> None:
    magic = shell.magics_manager.registry["ClaudeMagic"]
    magic.max_retries = 2
    claude_server.queue(ApiError(529, retry_after=0), ApiError(529, retry_after=0), ApiError(529, retry_after=0))
    run(shell, "%%claude\nhello")
    out = capsys.readouterr()
    check_one_line(out.out + out.err, "after 2 retries")
    assert len(claude_server.message_requests) == 3
    claude_server.queue(ApiError(429, retry_after=0), Reply(text("made it")))
    assert run(shell, "%%claude\nagain").success
    assert claude_magic.get_session().last.retries == 1
    assert "1 retry" in capsys.readouterr().out


def test_unknown_model(shell: Any, claude_server: Any, capsys: Any) -> None:
    result = run(shell, "%%claude -m claude-nonexistent-9\nhello")
    assert not result.success
    out = capsys.readouterr()
    check_one_line(out.out + out.err, "Model 'claude-nonexistent-9' was not found")
    next_turn_works(shell, claude_server)


def test_connection_refused(shell: Any, claude_server: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://127.0.0.1:{port}")
    result = run(shell, "%%claude\nhello")
    assert not result.success
    out = capsys.readouterr()
    check_one_line(out.out + out.err, f"Could not connect to http://127.0.0.1:{port}")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", claude_server.base_url)
    next_turn_works(shell, claude_server)


@pytest.mark.parametrize(("fault", "expected"), [
    (Drop(after_events=8), "cut off"),
    (MidStreamError(after_events=8), "Claude is overloaded"),
    (Malformed(after_events=8), "malformed"),
])
def test_stream_faults_keep_partial_answer(shell: Any, claude_server: Any, capsys: Any, fault: Any,
                                           expected: str) -> None:
    claude_server.queue(Reply(text(LONG), chunk=10, fault=fault))
    result = run(shell, "%%claude\ntell me something long")
    assert not result.success
    out = capsys.readouterr()
    shown = out.out + out.err
    check_one_line(shown, expected)
    last = claude_magic.get_session().last
    assert last.status == "cut_off"
    assert last.text and LONG.startswith(last.text.strip()[:20])
    assert last.text[:20] in shown                   # the partial answer stayed visible
    conversation = claude_magic.get_session().conversation()
    assert conversation.turns[-1].status == "cut_off"
    next_turn_works(shell, claude_server)


def test_stalled_stream_times_out(shell: Any, claude_server: Any, capsys: Any) -> None:
    magic = shell.magics_manager.registry["ClaudeMagic"]
    magic.timeout = 1.0
    try:
        claude_server.queue(Reply(text(LONG), chunk=10, fault=Stall(after_events=8, seconds=30)))
        result = run(shell, "%%claude\nstall please")
    finally:
        magic.timeout = 600.0
    assert not result.success
    out = capsys.readouterr()
    check_one_line(out.out + out.err, "cut off")
    next_turn_works(shell, claude_server)


def test_no_credential(shell: Any, claude_server: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    result = run(shell, "%%claude\nhello")
    assert not result.success
    out = capsys.readouterr()
    check_one_line(out.out + out.err, "No Anthropic credential: set ANTHROPIC_API_KEY")
    assert "TypeError" not in out.out + out.err
    assert claude_server.message_requests == []


def test_auth_token_is_sent_as_bearer(shell: Any, claude_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "gateway-token-123456")
    claude_server.queue(Reply(text("via gateway")))
    assert run(shell, "%%claude\nhello").success
    headers = {key.lower(): value for key, value in claude_server.requests[-1].headers.items()}
    assert headers["authorization"] == "Bearer gateway-token-123456"


def test_refusal_and_max_tokens_are_explained(shell: Any, claude_server: Any, capsys: Any) -> None:
    claude_server.queue(Reply(text("I can't help with that."), stop_reason="refusal"))
    assert run(shell, "%%claude\nsomething bad").success
    assert "declined" in capsys.readouterr().out
    claude_server.queue(Reply(text("A truncated ans"), stop_reason="max_tokens"))
    assert run(shell, "%%claude\nlong one").success
    assert "max_tokens" in capsys.readouterr().out
    next_turn_works(shell, claude_server)


def test_a_tool_input_that_is_not_json_is_one_line_and_the_text_before_it_is_kept(
        shell: Any, claude_server: Any, capsys: Any, tmp_path: Any) -> None:
    """The model's tool JSON does not parse (the SDK helper raises the same): a cut-off turn, history valid."""
    events = [
        ("message_start", {"type": "message_start", "message": {
            "id": "msg_bad_json", "type": "message", "role": "assistant", "model": "claude-sonnet-5-5",
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 1}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": "Let me look that up."}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {
            "type": "tool_use", "id": "toolu_bad", "name": "run_python", "input": {}}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1,
                                 "delta": {"type": "input_json_delta", "partial_json": '{"code": "1 +'}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1,
                                 "delta": {"type": "input_json_delta", "partial_json": ' 1"}}'}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                           "usage": {"output_tokens": 20}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    import json as _json

    from claude_magic.testing import Replay

    path = tmp_path / "bad_json.sse"
    path.write_text("".join(f"event: {name}\ndata: {_json.dumps(data)}\n\n" for name, data in events))
    claude_server.queue(Replay(path))
    result = run(shell, "%%claude\nadd one and one")
    assert not result.success
    out = capsys.readouterr()
    check_one_line(out.out + out.err, "tool call was not valid JSON")
    last = claude_magic.get_session().last
    assert last.status == "cut_off" and last.text == "Let me look that up."
    assert all(block["type"] != "tool_use" for block in last.content)     # never run, never sent back
    next_turn_works(shell, claude_server)
