"""`--code`: extracting the code from an answer and inserting it below, once per notebook cell."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from typing import Any

import pytest

from claude_magic.notebook.code_cells import CODE_SYSTEM_PROMPT, CodeInserter, extract_code

from ..kernel.kernel_driver import running_kernel


@pytest.mark.parametrize(("answer", "code"), [
    ("```python\nimport math\nprint(math.pi)\n```", "import math\nprint(math.pi)"),
    ("Here you go:\n\n```py\nx = 1\n```\n\nThis sets x.", "x = 1"),
    ("```\nuntagged = True\n```", "untagged = True"),
    ("~~~python\ntilde = '```'\n~~~", "tilde = '```'"),
    ("````python\ndoc = '''\n```\nnested\n```\n'''\n````", "doc = '''\n```\nnested\n```\n'''"),
    ("First install:\n```bash\npip install polars\n```\nThen:\n```python\nimport polars\n```", "import polars"),
    ("```bash\necho only shell\n```", "echo only shell"),
    ("plain_code = 1\nprint(plain_code)\n", "plain_code = 1\nprint(plain_code)"),
    ("```python\ncut = 'off mid-answer'\nfor", "cut = 'off mid-answer'\nfor"),
    ("   ```python\n   indented = 1\n     deeper = 2\n   ```", "indented = 1\n  deeper = 2"),
    ("```python title=\"demo\"\n\n\nspaced = {'a': 1}\n\n```", "spaced = {'a': 1}"),
    ("Use `inline` code ``` not a fence\nvalue = 2", "Use `inline` code ``` not a fence\nvalue = 2"),
])
def test_extract_code(answer: str, code: str) -> None:
    assert extract_code(answer) == code


def test_system_prompt_asks_for_one_code_cell_only() -> None:
    assert "exactly one fenced Python code block" in CODE_SYSTEM_PROMPT
    assert "no explanation" in CODE_SYSTEM_PROMPT


@pytest.fixture
def shell(ipython: Any) -> Iterator[Any]:
    ipython.rl_next_input = None
    yield ipython
    ipython.rl_next_input = None


def test_first_run_inserts_and_re_runs_do_not_stack(shell: Any) -> None:
    inserter = CodeInserter(shell, dedupe=True)
    first = inserter.insert("x = 1", cell_id="cell-1")
    assert (first.inserted, first.note) == (True, None)
    assert shell.rl_next_input == "x = 1"

    shell.rl_next_input = None
    same = inserter.insert("x = 1", cell_id="cell-1")
    assert not same.inserted and same.note is not None and same.note.startswith("Same code")
    changed = inserter.insert("x = 2", cell_id="cell-1")
    assert not changed.inserted and changed.code == "x = 2"
    assert changed.note is not None and "the new code is shown here instead" in changed.note
    assert shell.rl_next_input is None

    assert inserter.insert("y = 1", cell_id="cell-2").inserted
    assert inserter.insert("x = 3", cell_id="cell-1", force=True).inserted
    assert shell.rl_next_input == "x = 3"


def test_cell_source_is_the_key_without_a_cell_id(shell: Any) -> None:
    inserter = CodeInserter(shell, dedupe=True)
    assert inserter.insert("a = 1", cell_source="%%claude --code\nmake a").inserted
    assert not inserter.insert("a = 2", cell_source="%%claude --code\nmake a\n").inserted
    assert inserter.insert("b = 1", cell_source="%%claude --code\nmake b").inserted
    assert inserter.insert("c = 1").inserted and inserter.insert("c = 1").inserted    # nothing to key on


def test_forget_and_clear(shell: Any) -> None:
    inserter = CodeInserter(shell, dedupe=True)
    inserter.insert("x = 1", cell_id="one")
    inserter.insert("y = 1", cell_id="two")
    inserter.forget(cell_id="one")
    assert inserter.insert("x = 1", cell_id="one").inserted
    assert not inserter.insert("y = 1", cell_id="two").inserted
    inserter.clear()
    assert inserter.insert("y = 1", cell_id="two").inserted


def test_terminal_shell_always_inserts(shell: Any) -> None:
    inserter = CodeInserter(shell)          # no kernel: the code only pre-fills the next prompt
    assert inserter.insert("x = 1", cell_id="same").inserted
    assert inserter.insert("x = 2", cell_id="same").inserted
    assert shell.rl_next_input == "x = 2"


def shell_reply(kernel: Any, code: str, cell_id: str) -> dict[str, Any]:
    kernel.execute(code, cell_id=cell_id)
    while True:
        try:
            reply = kernel.client.get_shell_msg(timeout=10)
        except queue.Empty:
            raise AssertionError("no execute_reply") from None
        if reply["msg_type"] == "execute_reply":
            return reply["content"]


def test_real_kernel_sends_one_set_next_input_payload_per_cell() -> None:
    with running_kernel() as kernel:
        setup = shell_reply(kernel, "from claude_magic.notebook.code_cells import CodeInserter\n"
                                    "inserter = CodeInserter(get_ipython())\n"
                                    "def cell_id():\n"
                                    "    return get_ipython().kernel.get_parent()['metadata'].get('cellId')",
                          "setup")
        assert setup["status"] == "ok"
        run = "result = inserter.insert('df.describe()', cell_id=cell_id())"
        first = shell_reply(kernel, run, "claude-cell")
        assert first["payload"] == [{"source": "set_next_input", "text": "df.describe()", "replace": False}]
        again = shell_reply(kernel, run, "claude-cell")
        assert again["payload"] == []
        other = shell_reply(kernel, run, "another-cell")
        assert [payload["text"] for payload in other["payload"]] == ["df.describe()"]
