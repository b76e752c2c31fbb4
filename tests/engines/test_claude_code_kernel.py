"""Ctrl-C in a real kernel while Claude Code streams: the partial answer stays, the next turn works, the CLI is
the same process (or a new one, the old one gone)."""

from __future__ import annotations

import os
from typing import Any

from claude_magic.testing import Reply, text

from ..kernel.kernel_driver import claude_kernel, texts
from .conftest import cli_env

ANSWER = " ".join(f"word{number}" for number in range(400))
# Expressions, not prints: an execute_result is ordered before the kernel goes idle, stdout may come after it
PID = "'PID %d' % __import__('claude_magic').get_session().engines['claude-code'].clients[''].pid"


def printed_pid(messages: list[dict[str, Any]]) -> int:
    [line] = [line.strip("'") for line in texts(messages).splitlines() if line.startswith("'PID ")]
    return int(line.split()[1])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def test_ctrl_c_in_a_kernel_keeps_the_partial_answer_and_the_session(cc_server: Any, cc_home: str,
                                                                     script: Any) -> None:
    setup = ("%config ClaudeMagic.engine = 'claude-code'\n"
             f"%config ClaudeMagic.claude_code_env = {cli_env(cc_server, cc_home)!r}\n")
    with claude_kernel(cc_server.base_url, setup) as kernel:
        assert "Remember the colour teal" in texts(kernel.execute("%%claude\nRemember the colour teal."))
        before = printed_pid(kernel.execute(PID))
        script.queue(Reply(text(ANSWER), chunk=6, delay=0.02))
        messages = kernel.execute("%%claude\nCount slowly.", until=lambda shown: "word5" in texts(shown))
        kernel.manager.interrupt_kernel()
        shown = texts(kernel.wait_idle(messages))
        assert "word5" in shown and "Interrupted" in shown, shown
        assert "word399" not in shown and "Traceback" not in shown
        kept = texts(kernel.execute("__import__('claude_magic').get_session().conversation().messages[-1]"))
        assert "'role': 'assistant'" in kept and "word0 word1" in kept     # the partial answer is in the history
        assert "Still here" in texts(kernel.execute("%%claude\nStill here?"))
        after = printed_pid(kernel.execute(PID))
        assert after == before and alive(before)      # the same CLI: the interrupt did not reach it
        sent = str(script.main_requests()[-1]["messages"])
        assert "Remember the colour teal" in sent and "Still here?" in sent
