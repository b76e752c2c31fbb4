"""The first Claude Code turn waits less: the Agent SDK is imported in the background once the engine is chosen,
and `claude auth status` runs once, shared by "auto"'s check and the footer."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from claude_magic.engines.claude_code.auth import bundled_cli
from claude_magic.engines.selection import forget_login_status
from claude_magic.session import Session

from .conftest import cc_settings, helper_home

CODE = """
import json, sys, threading, time
from IPython.testing.globalipapp import start_ipython
shell = start_ipython()
shell.run_line_magic("load_ext", "claude_magic")

def importing():
    return any(thread.name == "claude-magic-sdk-import" for thread in threading.enumerate())

seen = {"load_ext": [importing(), "claude_agent_sdk" in sys.modules]}
shell.run_line_magic("config", "ClaudeMagic.engine = 'api'")
seen["api"] = [importing(), "claude_agent_sdk" in sys.modules]
shell.run_line_magic("config", "ClaudeMagic.engine = 'claude-code'")
seen["claude-code"] = [importing(), "claude_agent_sdk" in sys.modules]
from claude_magic.engines.claude_code.warmup import wait
wait()
seen["imported"] = ["claude_agent_sdk" in sys.modules and "ClaudeSDKClient" in dir(sys.modules["claude_agent_sdk"])]
print(json.dumps(seen))
"""


def test_choosing_claude_code_imports_the_sdk_in_the_background_and_the_api_engine_never_does() -> None:
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["load_ext"] == [False, False]
    assert seen["api"] == [False, False]
    assert seen["claude-code"][0] is True            # started at once, on its own thread
    assert seen["imported"] == [True]


def logging_cli(folder: Path) -> tuple[str, Path]:
    """A `claude` that logs its first argument on every start, then runs the real CLI."""
    cli = bundled_cli()
    assert cli is not None
    log = folder / "starts.log"
    script = folder / "claude"
    script.write_text(f'#!/bin/sh\necho "$1" >> {str(log)!r}\nexec {cli!r} "$@"\n')
    script.chmod(0o755)
    return str(script), log


def test_auto_asks_claude_auth_status_once_for_the_choice_and_the_footer(cc_server: Any, script: Any,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    forget_login_status()
    with tempfile.TemporaryDirectory(prefix="cc-starts-") as folder:
        cli, log = logging_cli(Path(folder))
        settings = cc_settings(cc_server, helper_home(cc_server), engine="auto", claude_code_cli=cli)
        settings = settings.with_options(claude_code_env={"HOME": settings.claude_code_env["HOME"]})
        session = Session(settings)
        try:
            first = session.ask("Who answers?")
            second = session.ask("And now?")
        finally:
            session.close()
        starts = log.read_text().split()
    assert first.status == "complete" and second.status == "complete", (first.error, second.error)
    assert first.engine == "claude-code" and "api_key_helper" in first.credential
    assert second.credential == first.credential
    assert starts.count("auth") == 1, starts            # auto's check; the footer reused it
    assert len(starts) == 2, starts                     # and one session process for both turns
