"""`$`expr`` interpolation, `--attach`, `--code` and `%claude fix` through the magic, against the local server."""

from __future__ import annotations

import base64
from typing import Any

import claude_magic
from claude_magic.testing import Reply, text

from .conftest import run

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def last_user_blocks(server: Any) -> list[dict[str, Any]]:
    return server.message_requests[-1]["messages"][-1]["content"]


def test_interpolation_inserts_values_and_leaves_braces(shell: Any, claude_server: Any) -> None:
    shell.user_ns["answer"] = 42
    claude_server.queue(Reply(text("ok")))
    assert run(shell, "%%claude\nThe value is $`answer * 2`; code {x: 1} and $x stay.").success
    assert last_user_blocks(claude_server)[-1]["text"] == "The value is 84; code {x: 1} and $x stay."


def test_unknown_reference_is_one_line_and_sends_nothing(shell: Any, claude_server: Any, capsys: Any) -> None:
    result = run(shell, "%%claude\nLook at $`no_such_variable`")
    assert not result.success
    out = capsys.readouterr()
    assert "no_such_variable" in out.out + out.err and "Traceback" not in out.out + out.err
    assert claude_server.message_requests == []


def test_attach_image_and_text(shell: Any, claude_server: Any, tmp_path: Any) -> None:
    image = tmp_path / "dot.png"
    image.write_bytes(PNG)
    notes = tmp_path / "notes.txt"
    notes.write_text("revenue fell in March")
    claude_server.queue(Reply(text("I see a dot.")))
    assert run(shell, f"%%claude --attach {image},{notes}\nWhat do you see?").success
    blocks = last_user_blocks(claude_server)
    assert [block["type"] for block in blocks] == ["image", "text", "text"]
    assert blocks[0]["source"]["media_type"] == "image/png"
    assert "revenue fell in March" in blocks[1]["text"]
    assert claude_server.rejections == []


def test_attach_unsupported_is_one_line(shell: Any, claude_server: Any, capsys: Any) -> None:
    shell.user_ns["weird"] = object()
    result = run(shell, "%%claude --attach weird\nhi")
    assert not result.success
    out = capsys.readouterr()
    assert "unsupported attachment" in (out.out + out.err).lower()
    assert claude_server.message_requests == []


def test_code_format_fills_the_next_input(shell: Any, claude_server: Any) -> None:
    claude_server.queue(Reply(text("```python\nprint('hi')\n```")))
    shell.rl_next_input = None
    assert run(shell, "%%claude --code\nprint hi").success
    assert shell.rl_next_input == "print('hi')"          # the next input, never executed
    shell.rl_next_input = None
    body = claude_server.message_requests[-1]
    assert "exactly one fenced Python code block" in body["messages"][-1]["content"][-1]["text"]
    assert "system" not in body                          # the cached prefix is the one other cells send (issue 25)


def test_code_cell_reads_the_cached_prefix(shell: Any, claude_server: Any) -> None:
    claude_server.queue(Reply(text("Noted.")), Reply(text("```python\nprint('hi')\n```")))
    assert run(shell, "%%claude\n" + "Here is what I know about the data. " * 200 + "Noted?").success
    shell.rl_next_input = None
    assert run(shell, "%%claude --code\nprint hi").success
    shell.rl_next_input = None
    usage = claude_magic.get_session().last.usage
    assert usage.cache_read_input_tokens > 0.8 * usage.total_input_tokens     # was 0: the system prompt changed


def test_fix_explains_the_last_error(shell: Any, claude_server: Any) -> None:
    run(shell, "values = [1, 2]\nvalues[5]")
    claude_server.queue(Reply(text("The list has two items.")))
    assert run(shell, "%claude fix").success
    prompt = last_user_blocks(claude_server)[-1]["text"]
    assert "IndexError" in prompt and "values[5]" in prompt
