"""The API key never appears in output, reprs, errors, exports or saved notebooks."""

from __future__ import annotations

import json
from typing import Any

import claude_magic
from claude_magic.testing import ApiError, Reply, text

from ..conftest import CANARY_KEY
from .conftest import run


def test_key_absent_from_everything_a_user_can_see(shell: Any, claude_server: Any, capsys: Any,
                                                  tmp_path: Any) -> None:
    claude_server.queue(Reply(text("Keys are secret.")), ApiError(401, message=f"invalid x-api-key {CANARY_KEY}"))
    run(shell, "%%claude\nwhat is my key?")
    run(shell, "%%claude\nagain")
    run(shell, "%claude history")
    run(shell, "%claude usage")
    path = tmp_path / "chat.json"
    run(shell, f"%claude save {path}")
    out = capsys.readouterr()
    session = claude_magic.get_session()
    visible = [out.out, out.err, repr(session),
               repr(session.last), repr(session.conversation()), repr(session.settings),
               repr(session.clients), str(session.last.error)]
    for item in visible:
        assert CANARY_KEY not in item
    assert "invalid x-api-key [redacted]" in out.out + out.err
    exported = json.loads(path.read_text())
    assert CANARY_KEY not in json.dumps(exported)


def test_key_shaped_strings_are_redacted_even_when_not_configured_or_cut_short(shell: Any,
                                                                                 claude_server: Any,
                                                                                 capsys: Any) -> None:
    """A key pasted into a variable, another workspace's key, or the configured one cut short."""
    other = "sk-ant-api03-" + "Zx9_" * 22 + "-AA"
    shell.user_ns["other_key"] = other
    claude_server.queue(Reply(text("Noted.")))
    run(shell, "%%claude\nThe keys are $`other_key` and $`__import__('os').environ['ANTHROPIC_API_KEY'][:30]`.")
    sent = json.dumps(claude_server.requests[-1].body)
    assert other not in sent and CANARY_KEY[:30] not in sent and sent.count("[redacted]") >= 2
    out = capsys.readouterr()
    assert other not in out.out + out.err and CANARY_KEY[:30] not in out.out + out.err
    from claude_magic.core.redaction import redact

    assert redact("sk-ant-") == "sk-ant-"                      # a mention of the prefix is left alone
    assert redact("see sk-ant-api03-short") == "see sk-ant-api03-short"
