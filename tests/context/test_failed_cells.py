"""The error tracker on a real IPython shell, `Err`, and the `%claude fix` prompt."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult

from claude_magic.core.errors import ClaudeMagicError
from claude_magic.notebook.failed_cells import (
    ErrorList,
    ErrorTracker,
    NoErrorToFix,
    context_namespace,
    fix_prompt,
    tracker_for,
)
from claude_magic.notebook.interpolation import interpolate


def callbacks(shell: Any) -> list[Any]:
    return list(shell.events.callbacks["post_run_cell"])


def test_register_is_idempotent_and_unregister_removes(ipython: Any) -> None:
    tracker = ErrorTracker()
    before = len(callbacks(ipython))
    tracker.register(ipython)
    tracker.register(ipython)
    assert len(callbacks(ipython)) == before + 1
    tracker.unregister()
    tracker.unregister()
    assert len(callbacks(ipython)) == before
    ipython.run_cell("1/0")
    assert tracker.errors == []


def test_tracker_for_gives_one_tracker_per_shell(ipython: Any) -> None:
    before = len(callbacks(ipython))
    first = tracker_for(ipython)
    assert tracker_for(ipython) is first
    assert len(callbacks(ipython)) <= before + 1
    ipython.run_cell("1/0")
    assert first.last is not None and first.last.error_type == "ZeroDivisionError"
    first.clear()
    assert first.errors == []


def test_failed_cell_is_recorded_with_a_plain_traceback(ipython: Any, tracker: ErrorTracker) -> None:
    ipython.run_cell("def halve(x):\n    return x / zero\nhalve(4)")
    record = tracker.last
    assert record is not None
    assert record.source == "def halve(x):\n    return x / zero\nhalve(4)"
    assert (record.error_type, record.message) == ("NameError", "name 'zero' is not defined")
    assert record.summary == "NameError: name 'zero' is not defined"
    assert "\x1b" not in record.traceback
    assert "----> 3 halve(4)" in record.traceback and "----> 2     return x / zero" in record.traceback
    assert record.traceback.rstrip().endswith("NameError: name 'zero' is not defined")
    assert "interactiveshell.py" not in record.traceback          # IPython's own frame is left out


def test_history_number_and_qualified_type(ipython: Any, tracker: ErrorTracker) -> None:
    ipython.run_cell("import json\njson.loads('{bad')", store_history=True)
    record = tracker.last
    assert record is not None
    assert record.error_type == "json.decoder.JSONDecodeError"
    assert record.execution_count == ipython.execution_count - 1
    assert record.cell_label == f"In[{record.execution_count}]"
    assert f"Cell In[{record.execution_count}], line 2" in record.traceback


def test_syntax_error_is_recorded(ipython: Any, tracker: ErrorTracker) -> None:
    ipython.run_cell("x = (1 +* 2)")
    record = tracker.last
    assert record is not None and record.error_type == "SyntaxError"
    assert "x = (1 +* 2)" in record.traceback and "SyntaxError: invalid syntax" in record.traceback


def test_successes_and_excluded_failures_are_not_recorded(ipython: Any, tracker: ErrorTracker) -> None:
    ipython.run_cell("ok = 1 + 1")
    ipython.run_cell("1/0", silent=True)
    ipython.run_cell("raise KeyboardInterrupt")
    ipython.run_cell("from claude_magic.core.errors import ClaudeMagicError\nraise ClaudeMagicError('ours')")
    claude_cell = ExecutionResult(ExecutionInfo("%%claude --bogus\nhi", False, False, True, None))
    claude_cell.error_in_exec = UsageError("%%claude: unrecognized arguments: --bogus")
    ipython.events.trigger("post_run_cell", claude_cell)
    assert tracker.errors == []


def test_only_the_last_few_are_kept(ipython: Any) -> None:
    tracker = ErrorTracker(limit=3)
    tracker.register(ipython)
    try:
        for number in range(5):
            ipython.run_cell(f"raise ValueError('failure {number}')")
    finally:
        tracker.unregister()
    assert [record.message for record in tracker.errors] == ["failure 2", "failure 3", "failure 4"]


def test_cell_id_comes_from_the_execution_info(ipython: Any, tracker: ErrorTracker) -> None:
    result = ExecutionResult(ExecutionInfo("boom()", True, False, True, "cell-abc"))
    result.error_in_exec = RuntimeError("boom")
    ipython.events.trigger("post_run_cell", result)
    record = tracker.last
    assert record is not None and record.cell_id == "cell-abc" and record.error_type == "RuntimeError"
    assert "RuntimeError: boom" in record.traceback


def test_context_namespace_adds_err_without_shadowing(ipython: Any, tracker: ErrorTracker) -> None:
    ipython.run_cell("context_value = 5\n[][1]")
    namespace = context_namespace(ipython, tracker)
    assert namespace["context_value"] == 5
    assert isinstance(namespace["Err"], ErrorList) and namespace["Err"][-1].error_type == "IndexError"
    text = interpolate("Why: $`Err[-1]` and count $`len(Err)`", namespace)
    assert "IndexError: list index out of range" in text and "[][1]" in text and text.endswith("count 1")
    assert "Err[0]: IndexError" in interpolate("$`Err`", namespace)
    ipython.user_ns["Err"] = "mine"
    try:
        assert context_namespace(ipython, tracker)["Err"] == "mine"
    finally:
        del ipython.user_ns["Err"]


def test_fix_prompt_holds_the_cell_and_traceback(ipython: Any, tracker: ErrorTracker) -> None:
    ipython.run_cell("values = [1, 2]\ntotal = sum(values) / len(valuez)", store_history=True)
    prompt = fix_prompt(tracker)
    record = tracker.last
    assert record is not None
    assert prompt.startswith(f"A cell in my notebook ({record.cell_label}) failed with "
                             "NameError: name 'valuez' is not defined\n\nExplain briefly what went wrong")
    assert "propose a corrected version of the whole cell" in prompt
    assert "```python\nvalues = [1, 2]\ntotal = sum(values) / len(valuez)\n```" in prompt
    assert "The traceback:\n```\n" in prompt and prompt.endswith("NameError: name 'valuez' is not defined\n```")


def test_fix_prompt_truncates_long_sources_and_tracebacks(ipython: Any, tracker: ErrorTracker) -> None:
    source = "\n".join(f"line_{number} = {number}" for number in range(2000)) + "\nraise ValueError('end')"
    ipython.run_cell(source)
    prompt = fix_prompt(tracker, source_budget=1000, traceback_budget=300)
    assert "characters of the cell omitted ...]" in prompt
    assert "line_0 = 0" in prompt and "raise ValueError('end')" in prompt and "line_1000 = 1000" not in prompt
    assert "ValueError: end" in prompt.split("The traceback:")[1]
    assert len(prompt) < 2500


def test_fix_prompt_picks_an_earlier_error_and_fences_backticks(ipython: Any, tracker: ErrorTracker) -> None:
    ipython.run_cell("text = '```'\nraise TypeError('first')")
    ipython.run_cell("raise TypeError('second')")
    prompt = fix_prompt(tracker, index=0)
    assert "failed with TypeError: first" in prompt and "````python\ntext = '```'" in prompt


def test_no_error_to_fix(tracker: ErrorTracker) -> None:
    with pytest.raises(NoErrorToFix) as caught:
        fix_prompt(tracker)
    assert isinstance(caught.value, ClaudeMagicError)
    assert "\n" not in str(caught.value) and str(caught.value).startswith("No failed cell to fix")


def test_real_kernel_records_cell_id_and_number() -> None:
    from ..kernel.kernel_driver import running_kernel, texts

    with running_kernel() as kernel:
        kernel.execute("from claude_magic.notebook.failed_cells import tracker_for, fix_prompt\n"
                       "tracker = tracker_for(get_ipython())", cell_id="setup")
        kernel.execute("values = {'a': 1}\nvalues['b']", cell_id="failing-cell")
        shown = texts(kernel.execute("record = tracker.last\n"
                                     "print(record.cell_id, record.cell_label, record.summary)\n"
                                     "print(fix_prompt(tracker))", cell_id="inspect"))
    assert "failing-cell In[2] KeyError: 'b'" in shown
    assert "A cell in my notebook (In[2]) failed with KeyError: 'b'" in shown
    assert "Cell In[2], line 2" in shown and "\x1b" not in shown.split("A cell in my notebook")[1]
