"""Redaction covers everything written: canaries in answers, thinking, headers and MCP env never land anywhere.

The local server answers text and thinking that repeat the API key, a short and a long header value, an MCP
server's env value and a `claude_code_env` value, split across stream fragments. A real kernel runs the
notebook; then every file the session writes (the saved notebook, the store beside it, `%claude save`,
`%claude export`), the outputs, `%config ClaudeMagic`, a 401 line and the history sent back are grepped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from claude_magic.core.redaction import REDACTED, StreamScrubber, redact, register_secrets, scrubber
from claude_magic.session import Session
from claude_magic.testing import ApiError, LocalServer, Reply, text, thinking, tool_use
from claude_magic.tools import ToolContext, default_toolbox

from ..conftest import CANARY_KEY
from ..helpers import local_settings
from ..mcp.conftest import STDIO_SERVER
from ..store.notebooks import claude_notebook, run_notebook

HEADER_SHORT = "hq7zp"                       # a header value under 8 characters
HEADER_LONG = "gateway-canary-51d0e2"
MCP_VALUE = "mcp-canary-3e9a"                # an MCP server's env value (its variable's name looks harmless)
CODE_ENV_VALUE = "ccv9k2"                    # a claude_code_env value, short
CANARIES = (CANARY_KEY, HEADER_SHORT, HEADER_LONG, MCP_VALUE, CODE_ENV_VALUE)
LEAKY = f"Your key is {CANARY_KEY}; headers {HEADER_SHORT} and {HEADER_LONG}; token {MCP_VALUE}; env {CODE_ENV_VALUE}."


def split(value: str) -> str:
    """Python source that builds `value` at run time (the cell's own source must not hold it)."""
    return f"({value[:3]!r} + {value[3:]!r})"


SETUP = f"""\
import sys
%config ClaudeMagic.headers = {{"x-gateway-key": {split(HEADER_SHORT)}, "x-gateway-id": {split(HEADER_LONG)}}}
%config ClaudeMagic.claude_code_env = {{"CC_VALUE": {split(CODE_ENV_VALUE)}}}
%config ClaudeMagic.mcp_servers = {{"notes": {{"command": sys.executable, "args": [{str(STDIO_SERVER)!r}], \
"env": {{"VALUE": "${{NOTES_VALUE}}"}}}}}}
"""


def test_canaries_never_reach_a_file_an_output_or_the_history(claude_server: LocalServer, tmp_path: Path) -> None:
    claude_server.queue(
        Reply(thinking(f"The key is {CANARY_KEY} and the gateway is {HEADER_LONG}."), text(LEAKY), chunk=3),
        Reply(thinking(f"Need the variables; the header is {HEADER_SHORT}."), tool_use("list_variables", {}), chunk=4),
        Reply(text(f"Done, {HEADER_SHORT}."), chunk=2),
        ApiError(401, message=f"invalid header value {HEADER_SHORT}"),
        Reply(text("Still fine.")),
    )
    files = {"save": tmp_path / "chat.json", "export": tmp_path / "chat.md"}
    notebook = claude_notebook("Tell me my secrets.", "Look at my variables.", "Again?", "And now?", setup=SETUP)
    notebook.cells.append(nbformat.v4.new_code_cell(
        f"%claude save {files['save']}\n%claude export {files['export']}\n%config ClaudeMagic"))
    saved = run_notebook(notebook, tmp_path, claude_server, allow_errors=True, NOTES_VALUE=MCP_VALUE)
    assert claude_server.rejections == [], claude_server.rejections
    requests = claude_server.message_requests
    assert len(requests) == 5
    shown = json.dumps(saved)
    assert "Your key is [redacted]" in shown and "x-gateway-key" in shown            # the answer and %config ran
    assert "401" in shown
    stores = list((tmp_path / ".claude_magic").glob("*.json"))
    assert len(stores) == 1
    written = {"notebook": shown, "store": stores[0].read_text(), **{name: path.read_text()
                                                                   for name, path in files.items()}}
    written["history of turn 1"] = json.dumps(requests[1]["messages"])            # sent back with turn 2
    written["history after the tool loop"] = json.dumps(requests[4]["messages"])
    for where, content in written.items():
        for canary in CANARIES:
            assert canary not in content, f"{canary!r} in the {where}"


def test_a_thinking_block_with_a_secret_stays_valid_within_its_tool_loop(claude_server: LocalServer) -> None:
    """The signed block goes back unchanged while its tool loop runs (else: 400); after the turn it is withheld."""
    claude_server.queue(Reply(thinking(f"The key is {CANARY_KEY}."), tool_use("list_variables", {})),
                        Reply(thinking("All clear."), text("Done.")), Reply(text("Next.")))
    session = Session(local_settings(claude_server), toolbox=default_toolbox())
    events: list[Any] = []
    result = session.ask("Look.", emit=events.append, tool_context=ToolContext(approver=lambda _call: True))
    assert result.status == "complete", result.error
    stored = json.dumps(session.conversation().to_dict())
    assert CANARY_KEY not in stored and "All clear." in stored
    assert CANARY_KEY not in repr(events) and CANARY_KEY not in json.dumps(result.content)
    assert session.ask("More.").status == "complete"
    assert claude_server.rejections == []
    assert CANARY_KEY not in json.dumps(claude_server.message_requests[-1])


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 11])
def test_secrets_split_across_fragments_are_caught(size: int) -> None:
    register_secrets([HEADER_SHORT, HEADER_LONG])
    streamed = StreamScrubber(scrubber())
    whole = f"a{HEADER_SHORT} {HEADER_SHORT}, {HEADER_LONG}{CANARY_KEY} sk-ant-api03-{'x' * 30} ends s"
    pieces = [whole[index:index + size] for index in range(0, len(whole), size)]
    shown = "".join(streamed.feed(piece) for piece in pieces) + streamed.flush()
    assert shown == redact(whole)
    assert shown.count(REDACTED) == 4 and f"a{HEADER_SHORT}" in shown     # a short value inside a word stays


def test_short_configured_values_are_redacted_in_config_and_errors(ipython_shell: Any) -> None:
    magic = ipython_shell.magics_manager.registry["ClaudeMagic"]
    saved = dict(magic.headers)
    try:
        magic.headers = {"x-short": "zq81"}
        assert "zq81" not in magic.class_get_trait_help(magic.traits()["headers"], magic)
        assert redact("invalid header zq81.") == f"invalid header {REDACTED}."
    finally:
        magic.headers = saved
    assert redact("switches 1 and true stay") == "switches 1 and true stay"


def test_tool_inputs_are_scrubbed_while_they_stream_and_in_the_history(claude_server: LocalServer) -> None:
    """Claude writes the key into code: the live card never shows it, and the code that runs does not hold it."""
    code = f"print('{CANARY_KEY}')"
    claude_server.queue(Reply(tool_use("run_python", {"code": code}), chunk=3), Reply(text("Done.")))
    session = Session(local_settings(claude_server), toolbox=default_toolbox())
    events: list[Any] = []
    calls: list[Any] = []
    result = session.ask("Print it.", emit=events.append,
                         tool_context=ToolContext(approver=lambda call: calls.append(call) or False))
    assert result.status == "complete", result.error
    streamed = "".join(event.partial_json for event in events if type(event).__name__ == "ToolInputDelta")
    assert "print(" in streamed and REDACTED in streamed
    assert CANARY_KEY not in repr(events) and CANARY_KEY not in repr(calls)
    assert CANARY_KEY not in json.dumps(claude_server.message_requests[-1])
