"""anyio is imported on the thread that starts a background thread, never first inside it.

anyio parses its own source to an AST when first imported; on CPython 3.11 that races with IPython parsing a
cell on the main thread ("SystemError: AST constructor recursion depth mismatch", python/cpython#106905).
Each check runs in a fresh interpreter, where an import hook records the thread that first imports anyio.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from claude_magic.testing import LocalServer, Reply, text

RECORDER = """
import sys, threading
importers = []

class Recorder:
    def find_spec(self, name, path=None, target=None):
        if name == "anyio":
            importers.append(threading.current_thread().name)
        return None

assert "anyio" not in sys.modules
sys.meta_path.insert(0, Recorder())
"""


def first_importer(body: str) -> str:
    """Run `body` after the recorder is installed; the name of the thread that first imported anyio."""
    script = RECORDER + textwrap.dedent(body) + "\nprint(importers[0] if importers else 'nobody')\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_the_agent_sdk_background_import_gets_anyio_from_the_main_thread() -> None:
    assert first_importer("""
        from claude_magic.engines.claude_code.warmup import wait, warm_up
        assert warm_up(), "the Agent SDK is not installed"
        wait()
        import claude_agent_sdk
    """) == "MainThread"


def test_a_loop_thread_gets_anyio_from_the_thread_that_starts_it() -> None:
    assert first_importer("""
        from claude_magic.tools.asyncloop import LoopThread

        async def use_anyio():
            import anyio
            return anyio.__name__

        assert LoopThread("probe").submit(use_anyio()).result(60) == "anyio"
    """) == "MainThread"


def test_a_chat_panels_first_turn_gets_anyio_from_the_main_thread(claude_server: LocalServer) -> None:
    claude_server.queue(Reply(text("Hello from the panel.")))
    assert first_importer(f"""
        from claude_magic.panel import ChatPanel
        from claude_magic.session import Session
        from claude_magic.core.settings import Settings

        session = Session(Settings(base_url={claude_server.base_url!r}, model="claude-sonnet-5-5", engine="api",
                                   max_retries=0))
        panel = ChatPanel(session)
        panel.send("Hello?")
        assert panel.wait(60)
        assert panel.last_result is not None and panel.last_result.text == "Hello from the panel.", panel.error
        panel.close()
    """) == "MainThread"
