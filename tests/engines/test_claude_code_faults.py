"""Claude Code faults as one line (an expired login, output the SDK cannot parse) and a secret in the CLI's
environment that shows up nowhere — through a real IPython shell, the real CLI and a real broken executable."""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claude_magic import session as session_module
from claude_magic.testing import ApiError, LocalServer, Reply, text

from ..helpers import MODEL
from .conftest import cc_settings, cli_env

CLI_SECRET = "sk-ant-cli-env-canary-5f2c9e71-DO-NOT-LEAK"
EXPIRED = "OAuth token has expired. Please obtain a new token or refresh your existing token."

# A `claude` that speaks just enough of the control protocol to start, then answers a prompt with a line of
# JSON cut off in the middle (what a crashing or incompatible CLI leaves on stdout).
BROKEN_CLI = f"""#!{sys.executable}
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("type") == "control_request":
        reply = {{"subtype": "success", "request_id": message["request_id"], "response": {{}}}}
        print(json.dumps({{"type": "control_response", "response": reply}}), flush=True)
    elif message.get("type") == "user":
        print('{{"type": "assistant", "message": {{"content": [{{"type": "text", "text": "cut', flush=True)
"""


def one_line(shown: str, expected: str) -> str:
    """The single line of `shown` that carries `expected` (the error), with no traceback anywhere."""
    assert "Traceback" not in shown and "site-packages" not in shown, shown
    lines = [line for line in shown.splitlines() if expected in line]
    assert len(lines) == 1, shown
    return lines[0]


@pytest.fixture
def cc_shell(ipython_shell: Any, cc_server: LocalServer, cc_home: str) -> Iterator[Any]:
    """The real shell on a fresh kernel session whose `%%claude` cells use Claude Code on the local server."""
    session_module._session = None
    magic = ipython_shell.magics_manager.registry["ClaudeMagic"]
    names = ("engine", "model", "claude_code_env", "claude_code_cli")
    saved = {name: copy.copy(getattr(magic, name)) for name in names}
    magic.engine, magic.model, magic.claude_code_env = "claude-code", MODEL, cli_env(cc_server, cc_home)
    yield ipython_shell
    for name, value in saved.items():
        setattr(magic, name, value)
    if session_module._session is not None:
        session_module._session.close()
    session_module._session = None


def test_an_expired_login_is_one_line_and_the_turn_leaves_no_trace(cc_shell: Any, script: Any,
                                                                    capfd: Any) -> None:
    assert cc_shell.run_cell("%%claude\nRemember: the answer is 12.").success
    capfd.readouterr()
    script.queue(ApiError(401, message=EXPIRED))
    assert not cc_shell.run_cell("%%claude\nWhat was the answer?").success
    out = capfd.readouterr()
    line = one_line(out.out + out.err, "login has expired")
    assert "/login" in line
    session = session_module._session
    assert session is not None and len(session.conversation()) == 1     # the failed turn left nothing
    assert cc_shell.run_cell("%%claude\nAnd now?").success               # a new login (here: none needed) works
    assert len(session.conversation()) == 2
    assert "Remember: the answer is 12." in str(script.main_requests()[-1]["messages"])


def test_unparseable_cli_output_is_one_line_and_a_working_cli_takes_over(cc_shell: Any, script: Any,
                                                                          tmp_path: Path, capfd: Any) -> None:
    broken = tmp_path / "claude"
    broken.write_text(BROKEN_CLI)
    broken.chmod(0o755)
    magic = cc_shell.magics_manager.registry["ClaudeMagic"]
    magic.claude_code_cli = str(broken)
    assert not cc_shell.run_cell("%%claude\nHello?").success
    out = capfd.readouterr()
    line = one_line(out.out + out.err, "could not read")
    assert "restarts on the next turn" in line and "cut" not in line        # not the CLI's raw output
    session = session_module._session
    assert session is not None and session.conversation().messages == []
    magic.claude_code_cli = None                                            # back to the bundled CLI
    assert cc_shell.run_cell("%%claude\nHello again?").success
    assert session.last.engine == "claude-code" and "Hello again?" in session.last.text
    assert [m["role"] for m in session.conversation().messages] == ["user", "assistant"]


def test_a_secret_in_the_cli_environment_appears_nowhere(cc_shell: Any, cc_server: LocalServer, script: Any,
                                                        tmp_path: Path, capfd: Any) -> None:
    """The key the CLI authenticates with, echoed back by the API in an error and present in the CLI's
    environment: not in cell output, history, export, save, repr, results, events or the error line."""
    magic = cc_shell.magics_manager.registry["ClaudeMagic"]
    magic.claude_code_env = {**magic.claude_code_env, "ANTHROPIC_API_KEY": CLI_SECRET}
    cc_server.require_api_key = CLI_SECRET
    try:
        assert cc_shell.run_cell("%%claude\nSay something harmless.").success
        script.queue(ApiError(403, message=f"This key is not allowed here: {CLI_SECRET}"))
        assert not cc_shell.run_cell("%%claude\nAnd now fail.").success
        script.queue(Reply(text("Recovered.")))
        assert cc_shell.run_cell("%%claude\nRecover.").success
        session = session_module._session
        assert session is not None
        seen = [repr(session), repr(session.settings), repr(session.last), str(session.last.error),
                repr(session.engines), json.dumps(session.conversation().to_dict(), default=str)]
        for command in ("history", "usage", f"export {tmp_path / 't.md'}", f"save {tmp_path / 't.json'}",
                        "auth"):
            result = cc_shell.run_cell(f"%claude {command}")
            seen.append(repr(result.result))
        seen += [(tmp_path / "t.md").read_text(), (tmp_path / "t.json").read_text()]
        engine = session.engines["claude-code"]
        seen += [repr(engine)] + ["\n".join(live.stderr) for live in engine.clients.values()]
        out = capfd.readouterr()
        seen += [out.out, out.err]
        assert "not allowed here" in out.out + out.err                 # the error was shown ...
        assert [index for index, item in enumerate(seen) if CLI_SECRET in item] == []   # ... without the key
        sent = [request for request in cc_server.requests if request.is_message][-1]
        assert sent.headers.get("x-api-key") == CLI_SECRET                  # the CLI did use it
    finally:
        cc_server.require_api_key = None


def test_the_same_secret_through_the_session_api(cc_server: LocalServer, cc_home: str, script: Any) -> None:
    """`Session.ask` with the secret in `claude_code_env`: results, events and records stay clean."""
    from claude_magic.session import Session

    settings = cc_settings(cc_server, cc_home)
    settings = settings.with_options(claude_code_env={**settings.claude_code_env, "ANTHROPIC_API_KEY": CLI_SECRET})
    cc_server.require_api_key = CLI_SECRET
    session = Session(settings)
    try:
        events: list[Any] = []
        script.queue(ApiError(403, message=f"Rejected key {CLI_SECRET}"))
        failed = session.ask("Fail, please", emit=events.append)
        assert failed.status == "error" and "Rejected key" in failed.error
        assert session.ask("Then work", emit=events.append).ok
        seen = [repr(failed), failed.error, repr(session.last), repr(events), repr(session.conversation().turns),
                json.dumps(session.conversation().to_dict(), default=str)]
        assert all(CLI_SECRET not in item for item in seen)
    finally:
        cc_server.require_api_key = None
        session.close()
