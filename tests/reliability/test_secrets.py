"""The canary API key never appears in output, widget states, saved notebooks, exports, logs, errors or reprs.

The suite-wide net: tests/conftest.py fails any test whose captured output or logs contain the key, and
this suite's conftest turns the SDK's DEBUG logs on for every test and scans open widgets afterwards.
The tests here drive the paths most likely to leak it: errors whose body echoes the key, retries, the
live view's and the chat panel's widgets, a notebook saved after running in a real kernel, `%claude
save` / `export`, a prompt that interpolates the environment, and a tool that prints the environment.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from IPython.core.displaypub import CapturingDisplayPublisher

import claude_magic
from claude_magic.session import Session
from claude_magic.testing import ApiError, LocalServer, Malformed, MidStreamError, Reply, text, tool_use
from claude_magic.tools import ToolContext, default_toolbox

from ..conftest import CANARY_KEY
from ..helpers import LIMIT, exception_texts, run_notebook
from .conftest import SDK_LOGGERS, open_widgets, panel_settings, run_cell, widget_state

ECHO = f"invalid x-api-key: {CANARY_KEY}"
LONG = "A partial answer that will be cut. " * 5


def echoing_faults() -> list[Any]:
    """Server answers whose error bodies repeat the key back (as a misconfigured proxy might)."""
    return [
        ApiError(401, message=ECHO),
        ApiError(400, message=f"bad header {CANARY_KEY}"),
        *[ApiError(500, message=f"upstream said {CANARY_KEY}", retry_after=0.01) for _ in range(3)],
        Reply(text(LONG), chunk=10, fault=MidStreamError(after_events=6, error_type="api_error", message=ECHO)),
    ]


def assert_clean(*items: Any) -> None:
    for item in items:
        assert CANARY_KEY not in (item if isinstance(item, str) else repr(item)), item


def test_errors_reprs_and_debug_logs_hold_no_key(shell: Any, claude_server: LocalServer, capsys: Any,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    claude_server.queue(Reply(text("Fine.")), *echoing_faults())
    errors: list[BaseException | None] = []
    for prompt in ("hello", "401", "400", "500", "mid-stream"):
        outcome = run_cell(shell, f"%%claude\n{prompt}")
        errors.append(outcome.error_in_exec)
    session = claude_magic.get_session()
    out = capsys.readouterr()
    assert out.out.count("[redacted]") >= 3                # the echoed key was there, and was replaced
    assert_clean(out.out, out.err, repr(session), repr(session.settings), repr(session.clients),
                 repr(session.conversation()), repr(session.last), repr(session.last.messages),
                 json.dumps(session.conversation().to_dict()), session.last.error)
    for error in errors:
        for piece in exception_texts(error):
            assert_clean(piece)
    records = [record for record in caplog.records if record.name.split(".")[0] in SDK_LOGGERS]
    assert any(record.levelno == logging.DEBUG for record in records)      # DEBUG logging really was on
    assert any("retry" in record.getMessage().lower() for record in records)
    for record in records:
        assert_clean(record.getMessage(), repr(record.args), record.exc_text or "")


def test_live_view_widget_states_never_hold_the_key(ipython_shell: Any, claude_server: LocalServer) -> None:
    """Every widget value the live view sets, after every event, through an error that echoes the key."""
    from claude_magic.views.live import LiveView

    session = Session(panel_settings(claude_server, max_retries=0), toolbox=default_toolbox())
    saved, ipython_shell.display_pub = ipython_shell.display_pub, CapturingDisplayPublisher()
    checked = 0
    try:
        for item in (Reply(text("Hello **there**.")), ApiError(401, message=ECHO),
                     Reply(text(LONG), chunk=10, fault=Malformed(after_events=6))):
            view = LiveView(interval=0, shell=ipython_shell)

            def emit(event: Any, view: LiveView = view) -> None:
                nonlocal checked
                view(event)
                for widget in open_widgets():
                    assert CANARY_KEY not in widget_state(widget), widget
                    checked += 1

            claude_server.queue(item)
            session.ask("hello", emit=emit)
        outputs = ipython_shell.display_pub.outputs
    finally:
        ipython_shell.display_pub = saved
    assert checked > 0 and outputs
    assert_clean(json.dumps(outputs, default=str))


def test_chat_panel_widget_states_never_hold_the_key(panel: Any, claude_server: LocalServer) -> None:
    claude_server.queue(ApiError(401, message=ECHO))
    panel.send("hello")
    assert panel.wait(LIMIT)
    assert "[redacted]" in panel.status.value
    claude_server.queue(Reply(text("Recovered.")))
    panel.send("again")
    assert panel.wait(LIMIT)
    states = [widget_state(widget) for widget in open_widgets()]
    assert any("Recovered." in state for state in states)
    assert_clean(*states, panel.error or "", repr(panel))


def test_saved_notebook_holds_no_key(claude_server: LocalServer, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A notebook run in a real kernel (key in its environment), errors included, then saved to disk."""

    monkeypatch.setenv("ANTHROPIC_BASE_URL", claude_server.base_url)
    claude_server.queue(Reply(text("The first answer.")), ApiError(401, message=ECHO),
                        Reply(text("Chat answer.")))
    cells = ["%load_ext claude_magic\nimport claude_magic", "%%claude\nhello", "%%claude\nagain",
             "%claude history", "%claude usage",
             "panel = claude_magic.chat()\npanel.send('from the panel')\npanel.wait(30)\npanel",
             "import os\nprint(len(os.environ['ANTHROPIC_API_KEY']))"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    run_notebook(notebook, timeout=60, allow_errors=True)
    path = tmp_path / "saved.ipynb"
    nbformat.write(notebook, path)
    saved = path.read_text(encoding="utf-8")
    assert "The first answer." in saved and "[redacted]" in saved and "Chat answer." in saved
    assert str(len(CANARY_KEY)) in saved                   # the kernel really had the key
    assert CANARY_KEY not in saved


def test_save_and_export_files_hold_no_key(shell: Any, claude_server: LocalServer, tmp_path: Path,
                                           capsys: Any) -> None:
    claude_server.queue(Reply(text("Saved answer.")), *echoing_faults())
    for prompt in ("hello", "401", "400", "500", "mid-stream"):
        run_cell(shell, f"%%claude\n{prompt}")
    saved, exported = tmp_path / "chat.json", tmp_path / "chat.md"
    run_cell(shell, f"%claude save {saved}")
    run_cell(shell, f"%claude export {exported}")
    assert "Saved answer." in saved.read_text() and "Saved answer." in exported.read_text()
    assert_clean(saved.read_text(), exported.read_text(), capsys.readouterr().out)


def test_an_interpolated_environment_does_not_carry_the_key(shell: Any, claude_server: LocalServer,
                                                            capsys: Any, tmp_path: Path) -> None:
    """`$`dict(os.environ)`` in a prompt: the key is replaced before it goes anywhere."""
    claude_server.queue(Reply(text("I see your environment.")))
    result = run_cell(shell, "%%claude\nWhat is set here? $`dict(__import__('os').environ)`")
    assert result.success
    sent = json.dumps(claude_server.message_requests[-1])
    assert "ANTHROPIC_API_KEY" in sent and "[redacted]" in sent
    path = tmp_path / "chat.md"
    run_cell(shell, f"%claude export {path}")
    assert_clean(sent, path.read_text(), capsys.readouterr().out,
                 json.dumps(claude_magic.get_session().conversation().to_dict()))


def test_a_tool_that_prints_the_key_does_not_send_or_show_it(claude_server: LocalServer, ipython_shell: Any,
                                                             capsys: Any) -> None:
    """Claude runs code (the user said yes) that prints the environment: the result is redacted for both."""
    from claude_magic.views.live import LiveView

    session = Session(panel_settings(claude_server, max_retries=0), toolbox=default_toolbox())
    code = "import os\nprint(os.environ['ANTHROPIC_API_KEY'])\nos.environ['ANTHROPIC_API_KEY']"
    claude_server.queue(Reply(tool_use("run_python", {"code": code})), Reply(text("Done.")))
    saved, ipython_shell.display_pub = ipython_shell.display_pub, CapturingDisplayPublisher()
    try:
        view = LiveView(interval=0, shell=ipython_shell)
        result = session.ask("Show me my key.", emit=view, tool_context=ToolContext(approver=lambda _call: True))
        outputs = ipython_shell.display_pub.outputs
    finally:
        ipython_shell.display_pub = saved
    assert result.status == "complete", result.error
    sent = json.dumps(claude_server.message_requests[-1])
    assert "[redacted]" in sent
    assert_clean(sent, json.dumps(outputs, default=str), capsys.readouterr().out,
                 json.dumps(session.conversation().to_dict()))


@pytest.fixture(autouse=True)
def _key_is_the_canary() -> None:
    assert os.environ.get("ANTHROPIC_API_KEY") == CANARY_KEY
