"""Cell identity from IPython's own `ExecutionInfo.cell_id`: re-runs replace their turn in any shell passing cell ids."""

from __future__ import annotations

from typing import Any

from claude_magic import load_ipython_extension, unload_ipython_extension
from claude_magic.notebook.running_cell import CellWatcher, running_cell_id, watch_cells
from claude_magic.session import get_session
from claude_magic.testing import Reply, text

from ..helpers import scratch_namespace


def prompts(body: dict[str, Any]) -> list[str]:
    return [block["text"] for message in body["messages"] if message["role"] == "user"
            for block in message["content"] if block["type"] == "text"]


def callbacks(shell: Any, event: str, owner: type) -> list[Any]:
    return [callback for callback in shell.events.callbacks[event]
            if isinstance(getattr(callback, "__self__", None), owner)]


def test_rerunning_a_cell_with_the_same_id_replaces_its_turn(claude_shell: Any, claude_server: Any,
                                                             capsys: Any) -> None:
    claude_server.queue(Reply(text("one")), Reply(text("two")), Reply(text("one, again")))
    claude_shell.run_cell("%%claude\nfirst question", cell_id="abc")
    claude_shell.run_cell("%%claude\nsecond question", cell_id="def")
    result = claude_shell.run_cell("%%claude\nfirst question, reworded", cell_id="abc")
    assert result.success
    assert prompts(claude_server.message_requests[-1]) == ["first question, reworded"]
    turns = get_session().conversation().turns
    assert [(turn.cell_id, turn.prompt) for turn in turns] == [("abc", "first question, reworded")]
    assert "1 later turn dropped" in capsys.readouterr().out
    assert claude_server.rejections == []


def test_cells_without_an_id_append(claude_shell: Any, claude_server: Any) -> None:
    claude_server.queue(Reply(text("one")), Reply(text("two")))
    claude_shell.run_cell("%%claude\nsame words")
    claude_shell.run_cell("%%claude\nsame words")
    assert prompts(claude_server.message_requests[-1]) == ["same words", "same words"]
    assert [turn.cell_id for turn in get_session().conversation().turns] == [None, None]


def test_the_innermost_running_cell_counts(ipython_shell: Any) -> None:
    with scratch_namespace(ipython_shell) as namespace:
        namespace["running_cell_id"] = running_cell_id
        ipython_shell.run_cell(
            "seen = [running_cell_id(get_ipython())]\n"
            "get_ipython().run_cell('seen.append(running_cell_id(get_ipython()))', cell_id='inner')\n"
            "get_ipython().run_cell('seen.append(running_cell_id(get_ipython()))')\n"
            "get_ipython().run_cell('')\n"
            "seen.append(running_cell_id(get_ipython()))", cell_id="outer")
        assert namespace["seen"] == ["outer", "inner", None, "outer"]
    assert running_cell_id(ipython_shell) is None                      # between cells


def test_a_failing_cell_is_not_left_running(ipython_shell: Any) -> None:
    with scratch_namespace(ipython_shell) as namespace:
        namespace["running_cell_id"] = running_cell_id
        ipython_shell.run_cell("raise ValueError('no')", cell_id="failing")
        ipython_shell.run_cell("x = (1 +* 2)", cell_id="not-compiling")
        ipython_shell.run_cell("after = running_cell_id(get_ipython())")
        assert namespace["after"] is None


def test_loading_twice_registers_once_and_unloading_stops(ipython_shell: Any) -> None:
    from claude_magic.notebook.failed_cells import ErrorTracker

    def counts() -> tuple[int, int, int]:
        return (len(callbacks(ipython_shell, "pre_run_cell", CellWatcher)),
                len(callbacks(ipython_shell, "post_run_cell", CellWatcher)),
                len(callbacks(ipython_shell, "post_run_cell", ErrorTracker)))

    assert counts() == (1, 1, 1)                                      # the suite's %load_ext
    try:
        load_ipython_extension(ipython_shell)
        load_ipython_extension(ipython_shell)
        assert counts() == (1, 1, 1)
        unload_ipython_extension(ipython_shell)
        assert counts() == (0, 0, 0)
        ipython_shell.run_cell("seen = __import__('claude_magic.notebook.running_cell').notebook.running_cell.running_cell_id("
                               "get_ipython())", cell_id="after-unload")
        assert ipython_shell.user_ns.pop("seen") is None
    finally:
        load_ipython_extension(ipython_shell)
    assert counts() == (1, 1, 1)
    assert watch_cells(ipython_shell) is watch_cells(ipython_shell)
    ipython_shell.run_cell("seen = __import__('claude_magic.notebook.running_cell').notebook.running_cell.running_cell_id("
                           "get_ipython())", cell_id="reloaded")
    assert ipython_shell.user_ns.pop("seen") == "reloaded"


def test_real_kernel_reports_the_cell_ipython_runs() -> None:
    """ipykernel hands JupyterLab's cellId to IPython; a cell run by that cell has its own id, not the request's."""
    from ..kernel.kernel_driver import running_kernel, texts

    with running_kernel() as kernel:
        kernel.execute("%load_ext claude_magic\nfrom claude_magic.notebook.running_cell import running_cell_id",
                       cell_id="setup")
        shown = texts(kernel.execute(
            "print('outer:', running_cell_id(get_ipython()))\n"
            "get_ipython().run_cell(\"print('inner:', running_cell_id(get_ipython()))\", cell_id='inner-cell')",
            cell_id="outer-cell"))
        unnamed = texts(kernel.execute("print('none:', running_cell_id(get_ipython()))"))
    assert "outer: outer-cell" in shown and "inner: inner-cell" in shown
    assert "none: None" in unnamed
