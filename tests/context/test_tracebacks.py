"""The traceback text Claude gets for a failed cell (`%claude fix`, `$`Err[n]``), in a real IPython shell and kernel."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import IPython

from claude_magic.notebook.failed_cells import ErrorTracker
from claude_magic.notebook.tracebacks import cell_traceback

IPYTHON_DIR = os.path.dirname(IPython.__file__)


def failure(shell: Any, tracker: ErrorTracker, source: str) -> str:
    """Run `source` as a numbered cell; the recorded traceback (checked free of IPython's own frames)."""
    shell.run_cell(source, store_history=True)
    record = tracker.last
    assert record is not None and record.source == source
    text = record.traceback
    assert IPYTHON_DIR not in text and "interactiveshell" not in text and "run_code" not in text
    assert "\x1b" not in text
    return text


def last_number(shell: Any) -> int:
    return shell.execution_count - 1


def test_cell_frames_are_labelled_with_numbers_and_functions(ipython: Any, tracker: ErrorTracker) -> None:
    ipython.run_cell("def halve(x):\n    return x / zero", store_history=True)
    defined_in = last_number(ipython)
    text = failure(ipython, tracker, "values = [4]\nhalve(values[0])")
    failed_in = last_number(ipython)
    assert text.startswith("Traceback (most recent call last):\n")
    cell_frame, function_frame = text.split("\n\n")[:2]
    assert cell_frame.splitlines()[1:] == [f"Cell In[{failed_in}], line 2", "      1 values = [4]",
                                           "----> 2 halve(values[0])"]
    assert function_frame.splitlines() == [f"Cell In[{defined_in}], line 2, in halve", "      1 def halve(x):",
                                           "----> 2     return x / zero"]
    assert text.endswith("\n\nNameError: name 'zero' is not defined")


def test_library_frames_stay_below_the_cell(ipython: Any, tracker: ErrorTracker, tmp_path: Path) -> None:
    (tmp_path / "shapes_module.py").write_text("def area(side):\n    check = side * 2\n    return side ** 'two'\n")
    sys.path.insert(0, str(tmp_path))
    try:
        text = failure(ipython, tracker, "import shapes_module\nshapes_module.area(3)")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("shapes_module", None)
    frames = text.split("\n\n")
    assert frames[0].splitlines()[0] == "Traceback (most recent call last):"
    assert frames[0].splitlines()[1] == f"Cell In[{last_number(ipython)}], line 2"
    module_frame = frames[1].splitlines()
    path, home = str(tmp_path / "shapes_module.py"), os.path.expanduser("~")
    shown_path = "~" + path[len(home):] if path.startswith(home + os.sep) else path
    assert module_frame[0] == f"File {shown_path}:3, in area"
    assert module_frame[1:] == ["      1 def area(side):", "      2     check = side * 2",
                                "----> 3     return side ** 'two'"]
    assert text.endswith("TypeError: unsupported operand type(s) for ** or pow(): 'int' and 'str'")


def test_pandas_frames_are_kept(ipython: Any, tracker: ErrorTracker) -> None:
    text = failure(ipython, tracker, "import pandas as pd\nframe = pd.DataFrame({'a': [1, 2]})\nframe['b']")
    inner, outer = text.split("\n\nThe above exception was the direct cause of the following exception:\n\n")
    assert re.match(r"Traceback \(most recent call last\):\nFile .*pandas.*base\.py:\d+, in Index\.get_loc", inner)
    blocks = outer.split("\n\n")
    assert blocks[0].splitlines()[1] == f"Cell In[{last_number(ipython)}], line 3"
    library = [block.splitlines()[0] for block in blocks[1:-1]]
    assert library and all(re.match(r"File .*pandas.*\.py:\d+, in \S+", header) for header in library)
    assert any("frame.py" in header and "DataFrame.__getitem__" in header for header in library)
    assert text.endswith("KeyError: 'b'")


def test_magic_internals_are_left_out_but_the_code_they_run_is_not(ipython: Any, tracker: ErrorTracker) -> None:
    text = failure(ipython, tracker, "%timeit -n1 -r1 1/0")
    assert f"Cell In[{last_number(ipython)}], line 1" in text
    assert "File <magic-timeit>:1, in inner" in text and text.endswith("ZeroDivisionError: division by zero")
    assert "execution.py" not in text


def test_chained_exceptions_read_like_python(ipython: Any, tracker: ErrorTracker) -> None:
    text = failure(ipython, tracker, "try:\n    {}['key']\nexcept KeyError as error:\n"
                                     "    raise ValueError('bad config') from error")
    first, second = text.split("\n\nThe above exception was the direct cause of the following exception:\n\n")
    assert "----> 2     {}['key']" in first and first.endswith("KeyError: 'key'")
    assert "----> 4     raise ValueError('bad config') from error" in second
    assert second.endswith("ValueError: bad config")
    text = failure(ipython, tracker, "try:\n    1/0\nexcept ZeroDivisionError:\n    undefined_name")
    assert "\n\nDuring handling of the above exception, another exception occurred:\n\n" in text
    assert text.endswith("NameError: name 'undefined_name' is not defined")


def test_syntax_error_names_the_cell(ipython: Any, tracker: ErrorTracker) -> None:
    text = failure(ipython, tracker, "total = 1\nx = (1 +* 2)")
    number = last_number(ipython)
    assert text.splitlines()[0] == f"Cell In[{number}], line 2"
    assert "    x = (1 +* 2)" in text and text.endswith("SyntaxError: invalid syntax")
    assert 'File "' not in text


def test_deep_recursion_is_collapsed(ipython: Any, tracker: ErrorTracker) -> None:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)          # IPython's own display of 3,000 frames takes seconds (25 s on a loaded CI)
    try:
        text = failure(ipython, tracker, "def down(n):\n    return down(n + 1)\ndown(0)")
    finally:
        sys.setrecursionlimit(limit)
    assert re.search(r"\[Previous frame repeated \d{3,} more times\]", text)
    assert text.count(", in down") == 3 and len(text) < 3000
    assert text.endswith("RecursionError: maximum recursion depth exceeded")


def test_frames_asking_to_be_hidden_are_left_out(ipython: Any, tracker: ErrorTracker) -> None:
    text = failure(ipython, tracker, "def helper():\n    __tracebackhide__ = True\n    raise LookupError('gone')\n"
                                     "helper()")
    assert ", in helper" not in text and "----> 4 helper()" in text and text.endswith("LookupError: gone")


def test_top_level_await(ipython: Any, tracker: ErrorTracker) -> None:
    text = failure(ipython, tracker, "import asyncio\nasync def fetch():\n    raise TimeoutError('slow')\n"
                                     "await fetch()")
    number = last_number(ipython)
    assert text.split("\n\n")[0].splitlines()[1] == f"Cell In[{number}], line 4"
    assert f"Cell In[{number}], line 3, in fetch" in text and "File " not in text   # no event-loop frames
    assert text.endswith("TimeoutError: slow")


def test_exception_groups_show_their_members(ipython: Any, tracker: ErrorTracker) -> None:
    text = failure(ipython, tracker, "raise ExceptionGroup('two failures', [ValueError('a'), TypeError('b')])")
    assert "ExceptionGroup: two failures (2 sub-exceptions)" in text
    assert "[sub-exception 1 of 2]\n    ValueError: a" in text and "[sub-exception 2 of 2]\n    TypeError: b" in text


def test_without_a_shell_cells_are_plain_files() -> None:
    try:
        exec(compile("def broken():\n    raise KeyError('k')\nbroken()", "<generated>", "exec"), {})
    except KeyError as error:
        text = cell_traceback(error)
    assert "File <generated>:3" in text and "File <generated>:2, in broken" in text
    assert text.endswith("KeyError: 'k'")


def test_real_kernel_tracebacks_name_cells_not_temp_files() -> None:
    from ..kernel.kernel_driver import running_kernel, texts

    with running_kernel() as kernel:
        kernel.execute("from claude_magic.notebook.failed_cells import tracker_for, fix_prompt\n"
                       "from claude_magic.notebook.interpolation import interpolate\n"
                       "from claude_magic.notebook.failed_cells import context_namespace\n"
                       "tracker = tracker_for(get_ipython())", cell_id="setup")
        kernel.execute("import pandas as pd\ndef pick(frame):\n    return frame['missing']", cell_id="define")
        kernel.execute("frame = pd.DataFrame({'a': [1]})\npick(frame)", cell_id="failing")
        kernel.execute("x = (1 +* 2)", cell_id="syntax")
        shown = texts(kernel.execute(   # one display, not prints: stdout may arrive after idle on a busy machine
            "from IPython.display import display\n"
            "display({'text/plain': tracker.errors[0].traceback + '\\n=====\\n' + tracker.errors[1].traceback"
            " + '\\n=====\\n' + interpolate('$`Err[0]`', context_namespace(get_ipython(), tracker))}, raw=True)",
            cell_id="inspect"))
    runtime, syntax, interpolated = shown.split("=====\n")
    assert "ipykernel_" not in shown and "site-packages/ipykernel" not in shown     # no temp files, no kernel frames
    assert IPYTHON_DIR not in shown and "\x1b" not in shown
    blocks = runtime.split("The above exception was the direct cause of the following exception:\n\n")[1].split("\n\n")
    assert blocks[0].splitlines()[1:] == ["Cell In[3], line 2", "      1 frame = pd.DataFrame({'a': [1]})",
                                          "----> 2 pick(frame)"]
    assert blocks[1].splitlines()[0] == "Cell In[2], line 3, in pick"
    assert re.match(r"File .*pandas.*frame\.py:\d+, in DataFrame\.__getitem__", blocks[2])
    assert runtime.rstrip().endswith("KeyError: 'missing'")
    assert syntax.splitlines()[0] == "Cell In[4], line 1" and "SyntaxError: invalid syntax" in syntax
    assert "Cell In[3], line 2" in interpolated and "Cell In[2], line 3, in pick" in interpolated
