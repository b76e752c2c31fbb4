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
