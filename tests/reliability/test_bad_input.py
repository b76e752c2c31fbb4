"""Bad input on every magic and option: one clear line, nothing lost, the shell alive, the next turn works.

Covered: unknown options and wrong types on `%%claude`, an empty cell, a 10 MB cell (refused before it is
sent, or the API's 413), binary and non-UTF-8 attachments, an unknown model alias, unknown $`refs`, a
10-million-row DataFrame interpolated (summarized, not serialized), and every `%claude` command with bad
arguments.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import claude_magic
from claude_magic.core.results import STATUS_MARKERS
from claude_magic.testing import LocalServer, Reply, text

from .conftest import magic_of, run_cell


@pytest.fixture
def primed(shell: Any, claude_server: LocalServer) -> Any:
    """The shell with one finished turn in the default conversation (so that loss would show)."""
    claude_server.queue(Reply(text("The first answer.")))
    assert run_cell(shell, "%%claude\nA first question.").success
    return shell


def snapshot() -> str:
    session = claude_magic.get_session()
    return json.dumps({name: [conversation.messages, len(conversation.turns)]
                       for name, conversation in session.conversations.items()})


FOOTER = re.compile(r"^\S+ · [\d,]+ in")


def error_lines(captured: Any) -> list[str]:
    """Lines printed (stdout and stderr), without the frame a failed turn gets (marker line, usage footer)."""
    lines = [line.strip() for line in (captured.out + captured.err).splitlines() if line.strip()]
    return [line for line in lines if line not in STATUS_MARKERS.values() and not FOOTER.match(line)]


def check_refused(shell: Any, server: LocalServer, capsys: Any, source: str, expected: str) -> str:
    """`source` fails with exactly one line containing `expected`; nothing sent, nothing lost, shell alive."""
    before, requests = snapshot(), len(server.message_requests)
    capsys.readouterr()
    outcome = run_cell(shell, source)
    captured = capsys.readouterr()
    lines = error_lines(captured)
    assert not outcome.success, lines
    assert len(lines) == 1, lines
    assert expected in lines[0], lines[0]
    assert "Traceback" not in lines[0]
    assert snapshot() == before
    assert len(server.message_requests) == requests
    assert run_cell(shell, "1 + 1").result == 2
    return lines[0]


def next_turn_works(shell: Any, server: LocalServer) -> None:
    server.queue(Reply(text("Still fine.")))
    assert run_cell(shell, "%%claude\nStill there?").success
    assert claude_magic.get_session().last.text == "Still fine."
    assert server.rejections == []


BAD_CELL_OPTIONS = [
    ("--bogus", "unrecognized arguments: --bogus"),
    ("--max-tokens lots", "--max-tokens: invalid int value: 'lots'"),
    ("--max-tokens 0", "max_tokens must be a positive integer"),
    ("--max-tokens -5", "max_tokens must be a positive integer"),
    ("--think 100", "at least 1024"),
    ("--think lots", "--think takes no value (adaptive) or a token budget"),
    ("--effort extreme", "invalid choice: 'extreme'"),
    ("--cache-ttl 2h", "invalid choice: '2h'"),
    ("--tools no_such_tool", "no_such_tool"),
    ("-m ''", "the model name is empty"),
    ("--chat", "expected one argument"),
    ("-f html", "invalid choice: 'html'"),
    ("--attach", "expected one argument"),
    ("--attach /no/such/file.png", "/no/such/file.png"),
    ("--system", "expected one argument"),
]


@pytest.mark.parametrize(("options", "expected"), BAD_CELL_OPTIONS, ids=[options for options, _ in BAD_CELL_OPTIONS])
def test_bad_cell_options(primed: Any, claude_server: LocalServer, capsys: Any, options: str, expected: str) -> None:
    check_refused(primed, claude_server, capsys, f"%%claude {options}\nA question.", expected)
    next_turn_works(primed, claude_server)


def test_empty_cells(primed: Any, claude_server: LocalServer, capsys: Any) -> None:
    for source in ("%%claude\n", "%%claude\n   \n\t\n", "%%claude --new\n"):
        check_refused(primed, claude_server, capsys, source, "empty")
    next_turn_works(primed, claude_server)


def test_a_10_mb_cell_is_refused_before_it_is_sent(primed: Any, claude_server: LocalServer, capsys: Any) -> None:
    big = "lorem ipsum dolor sit amet " * (10 * 1024 * 1024 // 27)
    outcome = run_cell(primed, f"%%claude\n{big}")
    lines = error_lines(capsys.readouterr())
    assert not outcome.success and len(lines) == 1, [line[:200] for line in lines]
    assert "context window" in lines[0] and "%claude pop" in lines[0]
    assert big[:100] not in lines[0]
    assert claude_server.message_requests[-1]["messages"][-1]["content"][0]["text"] == "A first question."
    next_turn_works(primed, claude_server)


def test_a_10_mb_cell_over_the_request_size_limit_gets_the_413_line(primed: Any, claude_server: LocalServer,
                                                                    capsys: Any) -> None:
    """With the context-window check off the cell is sent, and the API's size limit (here 4 MB) answers 413."""
    claude_server.max_request_bytes = 4 * 1024 * 1024
    magic_of(primed).context_window_check = False
    try:
        outcome = run_cell(primed, "%%claude\n" + "x" * (10 * 1024 * 1024))
    finally:
        magic_of(primed).context_window_check = True
    lines = error_lines(capsys.readouterr())
    assert not outcome.success and len(lines) == 1, [line[:200] for line in lines]
    assert "Request too large (413)" in lines[0] and "Remove attachments" in lines[0]
    assert len(claude_server.message_requests) == 2                                  # sent once: 413 is not retried
    assert len(claude_magic.get_session().conversation()) == 1                       # the failed turn left no trace
    next_turn_works(primed, claude_server)


def test_binary_attachments_are_refused_in_one_line(primed: Any, claude_server: LocalServer, capsys: Any,
                                                    tmp_path: Path) -> None:
    blob = tmp_path / "data.bin"
    blob.write_bytes(bytes(range(256)) * 64)
    check_refused(primed, claude_server, capsys, f"%%claude --attach {blob}\nWhat is this?", "data.bin")
    primed.user_ns["raw_bytes"] = b"\x00\x01\x02binary" * 1000
    try:
        check_refused(primed, claude_server, capsys, "%%claude --attach raw_bytes\nAnd this?", "raw_bytes")
    finally:
        del primed.user_ns["raw_bytes"]
    next_turn_works(primed, claude_server)


def test_non_utf8_text_is_attached_with_a_note(primed: Any, claude_server: LocalServer, tmp_path: Path) -> None:
    latin = tmp_path / "notes.txt"
    latin.write_bytes("Café crème, déjà vu: naïve façade.\n".encode("latin-1"))
    claude_server.queue(Reply(text("It is French.")))
    assert run_cell(primed, f"%%claude --attach {latin}\nWhat language?").success
    sent = claude_server.message_requests[-1]["messages"][-1]["content"]
    assert "notes.txt" in sent[0]["text"] and "not valid UTF-8" in sent[0]["text"] and "Caf" in sent[0]["text"]
    assert claude_server.rejections == []


def test_an_unknown_model_alias(primed: Any, claude_server: LocalServer, capsys: Any) -> None:
    outcome = run_cell(primed, "%%claude -m opuss\nHello")
    lines = error_lines(capsys.readouterr())
    assert not outcome.success
    assert any("Model 'opuss' was not found" in line and "alias" in line for line in lines), lines
    assert len(claude_magic.get_session().conversation()) == 1
    run_cell(primed, "%claude model opuss")
    capsys.readouterr()
    assert not run_cell(primed, "%%claude\nHello").success
    assert "Model 'opuss' was not found" in capsys.readouterr().out
    run_cell(primed, "%claude model sonnet")
    next_turn_works(primed, claude_server)


@pytest.mark.parametrize(("reference", "expected"), [
    ("$`nmae`", "$`nmae`: name 'nmae' is not defined"),
    ("$`1/0`", "ZeroDivisionError"),
    ("$`df[`", "SyntaxError"),
    ("$`unclosed", "no closing backtick"),
])
def test_unknown_references(primed: Any, claude_server: LocalServer, capsys: Any, reference: str,
                            expected: str) -> None:
    check_refused(primed, claude_server, capsys, f"%%claude\nLook at {reference} please.", expected)
    next_turn_works(primed, claude_server)


def test_a_10_million_row_dataframe_is_summarized(primed: Any, claude_server: LocalServer) -> None:
    import numpy as np
    import pandas as pd

    rows = 10_000_000
    primed.user_ns["big"] = pd.DataFrame({"id": np.arange(rows, dtype=np.int64),
                                          "flag": np.zeros(rows, dtype=np.int8)})
    try:
        claude_server.queue(Reply(text("That is big.")))
        assert run_cell(primed, "%%claude\nDescribe $`big`").success
    finally:
        del primed.user_ns["big"]
    sent = claude_server.message_requests[-1]["messages"][-1]["content"][-1]["text"]
    assert "10,000,000" in sent or "10000000" in sent
    assert len(sent) < 30_000                                  # a summary, never the rows
    assert claude_server.rejections == []


BAD_COMMANDS = [
    ("%claude nosuch", "Unknown command 'nosuch'"),
    ("%claude reset a b", "at most one conversation name"),
    ("%claude reset ghost", "No conversation named 'ghost'"),
    ("%claude history ghost", "No conversation named 'ghost'"),
    ("%claude pop ghost", "No conversation named 'ghost'"),
    ("%claude tokens ghost", "No conversation named 'ghost'"),
    ("%claude chat a b", "at most one conversation name"),
    ("%claude model ''", "model name is empty"),
    ("%claude model a b", "usage: %claude model"),
    ("%claude save", "usage: %claude save PATH"),
    ("%claude save /no/such/dir/chat.json", "Could not write /no/such/dir/chat.json"),
    ("%claude export", "usage: %claude export"),
    ("%claude export /no/such/dir/chat.md", "Could not write /no/such/dir/chat.md"),
    ("%claude load", "usage: %claude load PATH"),
    ("%claude load /no/such/chat.json", "Could not read /no/such/chat.json"),
    ("%claude fix abc", "usage: %claude fix [N]"),
    ("%claude 'unclosed", "No closing quotation"),
]


@pytest.mark.parametrize(("command", "expected"), BAD_COMMANDS, ids=[command for command, _ in BAD_COMMANDS])
def test_bad_command_arguments(primed: Any, claude_server: LocalServer, capsys: Any, command: str,
                               expected: str) -> None:
    model = magic_of(primed).model
    check_refused(primed, claude_server, capsys, command, expected)
    assert magic_of(primed).model == model
    next_turn_works(primed, claude_server)


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage", b"[1, 2, 3]", b'{"format": "something else"}',
                                     b'{"format": "claude-magic-conversation", "messages": 5}'])
def test_loading_a_file_that_is_not_a_conversation(primed: Any, claude_server: LocalServer, capsys: Any,
                                                   tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    check_refused(primed, claude_server, capsys, f"%claude load {path}", "is not a claude-magic conversation file")
    next_turn_works(primed, claude_server)


def test_commands_that_reach_the_api_fail_in_one_line(primed: Any, claude_server: LocalServer, capsys: Any) -> None:
    magic_of(primed).max_retries = 0
    for command in ("%claude models", "%claude tokens"):
        claude_server.stop()
        try:
            outcome = run_cell(primed, command)
        finally:
            claude_server.start()
        lines = error_lines(capsys.readouterr())
        assert not outcome.success and len(lines) == 1 and "Could not connect" in lines[0], lines
    next_turn_works(primed, claude_server)


def test_fix_with_an_index_past_the_errors(primed: Any, claude_server: LocalServer, capsys: Any) -> None:
    run_cell(primed, "1 / 0")
    check_refused(primed, claude_server, capsys, "%claude fix 99", "99")
    next_turn_works(primed, claude_server)


_UNSET = object()

BAD_CONFIG = [
    ("model", "''", "ClaudeMagic.model is empty"),
    ("max_tokens", "0", "ClaudeMagic.max_tokens must be a positive integer"),
    ("max_steps", "0", "ClaudeMagic.max_steps must be a positive integer"),
    ("max_retries", "-1", "ClaudeMagic.max_retries must be 0 or more"),
    ("effort", "'extreme'", "extreme"),
    ("thinking", "100", "at least 1024"),
    ("thinking", "'lots'", "thinking must be 'adaptive' or a token budget"),
    ("tool_policies", "{'run_python': 'sometimes'}", "must be one of ask, allow, deny"),
    ("prices", "{'claude': 'cheap'}", "must be [input, output]"),
]


@pytest.mark.parametrize(("name", "value", "expected"), BAD_CONFIG, ids=[f"{name}={value}" for name, value, _ in BAD_CONFIG])
def test_bad_config_values(primed: Any, claude_server: LocalServer, capsys: Any, caplog: pytest.LogCaptureFixture,
                           name: str, value: str, expected: str) -> None:
    """A bad `%config ClaudeMagic.x` is refused when set (traitlets) or by the next cell: one line, no request."""
    magic = magic_of(primed)
    saved = getattr(magic, name)
    configured = primed.config.ClaudeMagic.get(name, _UNSET)
    caplog.clear()
    try:
        run_cell(primed, f"%config ClaudeMagic.{name} = {value}")
        if getattr(magic, name) == saved:             # traitlets refused it on the spot (IPython logs one line)
            records = [record for record in caplog.records if record.levelname == "ERROR"]
            assert records, "traitlets refused the value without a word"      # one line per ClaudeMagic
            assert all(expected in record.getMessage() and "\n" not in record.getMessage() for record in records)
            # instance: a shell that ran %unload_ext / %load_ext still has the earlier ones listening to its config
        else:
            check_refused(primed, claude_server, capsys, "%%claude\nA question.", expected)
    finally:
        setattr(magic, name, saved)
        if configured is _UNSET:        # %config also wrote the shell's config, which a later %load_ext reads
            primed.config.ClaudeMagic.pop(name, None)
        else:
            primed.config.ClaudeMagic[name] = configured
    next_turn_works(primed, claude_server)
