"""Finding the notebook, `ClaudeMagic.store` (move, off), `%claude restore` and `%claude forget` in a real kernel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claude_magic.store import notebook_path, store_path
from claude_magic.testing import LocalServer

from ..helpers import scratch_namespace
from ..kernel.kernel_driver import running_kernel, texts


def test_the_notebook_comes_from_vscode_or_jupyter_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         ipython_shell: Any) -> None:
    notebook = tmp_path / "work" / "analysis.ipynb"
    notebook.parent.mkdir()
    notebook.write_text("{}")
    assert notebook_path(None, {"JPY_SESSION_NAME": str(notebook)}) == notebook
    monkeypatch.chdir(notebook.parent)        # a relative name: the kernel runs in the notebook's folder
    assert notebook_path(None, {"JPY_SESSION_NAME": "work/analysis.ipynb"}) == notebook
    assert notebook_path(None, {"JPY_SESSION_NAME": "console-1-3f2a"}) is None
    assert notebook_path(None, {}) is None
    with scratch_namespace(ipython_shell) as namespace:
        namespace["__vsc_ipynb_file__"] = str(tmp_path / "vscode.ipynb")
        assert notebook_path(ipython_shell, {"JPY_SESSION_NAME": str(notebook)}) == tmp_path / "vscode.ipynb"


def test_the_store_setting(tmp_path: Path) -> None:
    notebook = tmp_path / "analysis.ipynb"
    assert store_path(True, notebook) == tmp_path / ".claude_magic" / "analysis.ipynb.json"
    assert store_path(True, None) is None                        # terminal IPython keeps nothing
    assert store_path(False, notebook) is None and store_path("", notebook) is None
    assert store_path(str(tmp_path / "keep.json"), None) == tmp_path / "keep.json"
    assert store_path(str(tmp_path / "stores"), notebook) == tmp_path / "stores" / "analysis.ipynb.json"
    assert store_path(str(tmp_path / "stores"), None) == tmp_path / "stores" / "ipython.json"


def prompts(path: Path, conversation: str = "") -> list[str]:
    return [turn["prompt"] for turn in json.loads(path.read_text())["conversations"][conversation]["turns"]]


def test_store_moves_turns_off_restores_and_forgets(claude_server: LocalServer, tmp_path: Path) -> None:
    notebook = tmp_path / "analysis.ipynb"
    beside = tmp_path / ".claude_magic" / "analysis.ipynb.json"
    moved = tmp_path / "elsewhere" / "custom.json"
    env = {"ANTHROPIC_BASE_URL": claude_server.base_url, "JPY_SESSION_NAME": str(notebook)}
    flush = "import claude_magic\nprint('flushed', claude_magic.get_session().store.flush())"
    with running_kernel(**env) as kernel:
        kernel.execute("%load_ext claude_magic")
        kernel.execute("%%claude\nfirst")
        assert "flushed True" in texts(kernel.execute(flush))
        assert prompts(beside) == ["first"]
        kernel.execute(f"%config ClaudeMagic.store = {str(moved)!r}")
        kernel.execute("%%claude\nsecond")
        assert "flushed True" in texts(kernel.execute(flush))
        assert prompts(moved) == ["first", "second"] and prompts(beside) == ["first"]
        kernel.execute("%config ClaudeMagic.store = False")
        kernel.execute("%%claude\nthird")
        assert "store is None" in texts(kernel.execute(
            "print('store is', claude_magic.get_session().store)"))
        assert prompts(moved) == ["first", "second"]
    with running_kernel(**env) as kernel:                                  # a new kernel for the notebook
        kernel.execute("%load_ext claude_magic")
        history = texts(kernel.execute("%claude history"))
        assert "| first |" in history and "second" not in history       # beside the notebook: one turn
        shown = texts(kernel.execute(f"%claude restore {moved}"))
        assert f"Restored 2 turns in 1 conversation from {moved}" in shown
        assert "flushed True" in texts(kernel.execute(flush))
        assert prompts(beside) == ["first", "second"]                   # and saved where this kernel keeps it
        requests = len(claude_server.message_requests)
        kernel.execute("%%claude\nfirst")                                # matched in order: replayed
        assert len(claude_server.message_requests) == requests
        assert "complete, replayed" in texts(kernel.execute("%claude history"))
        forgot = texts(kernel.execute("%claude forget"))
        assert f"Forgot 2 turns in 1 conversation (deleted {beside})" in forgot
        assert not beside.exists()
        assert "The conversation is empty." in texts(kernel.execute("%claude history"))
        assert f"Nothing to restore from {beside}" in texts(kernel.execute("%claude restore"))
        kernel.execute("%%claude\nfirst")
        assert len(claude_server.message_requests) == requests + 1       # forgotten: asked afresh
        assert "usage: %claude restore [PATH]" in texts(kernel.execute("%claude restore a b"))
        assert f"No store file at {tmp_path / 'missing.json'}" in texts(
            kernel.execute(f"%claude restore {tmp_path / 'missing.json'}"))


def test_terminal_ipython_keeps_nothing_unless_a_path_is_set(claude_server: LocalServer, tmp_path: Path) -> None:
    with running_kernel(ANTHROPIC_BASE_URL=claude_server.base_url, JPY_SESSION_NAME="") as kernel:
        kernel.execute(f"import os\nos.chdir({str(tmp_path)!r})\n%load_ext claude_magic")
        kernel.execute("%%claude\nhello")
        assert "store is None" in texts(kernel.execute(
            "import claude_magic\nprint('store is', claude_magic.get_session().store)"))
        assert "No store for this session" in texts(kernel.execute("%claude restore"))
    assert list(tmp_path.iterdir()) == []
