"""The built-in workspace tools in a real IPython shell: run_python, variables, DataFrames, figures."""

from __future__ import annotations

import base64
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from claude_magic.tools import builtins
from claude_magic.tools.builtins import (
    builtin_tools,
    current_figure,
    describe_dataframe,
    inspect_variable,
    list_variables,
    run_python,
)
from claude_magic.tools.inspection import VariableNotFound

PNG_MAGIC = b"\x89PNG"


def texts(output: Any) -> str:
    content = output.content
    return content if isinstance(content, str) else "\n".join(b["text"] for b in content if b["type"] == "text")


def images(output: Any) -> list[bytes]:
    content = output.content
    if isinstance(content, str):
        return []
    return [base64.b64decode(b["source"]["data"]) for b in content if b["type"] == "image"]


@pytest.fixture
def agg(user_ns: dict[str, Any]) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def test_run_python_runs_like_a_cell_in_the_user_namespace(user_ns: dict[str, Any]) -> None:
    output = run_python("import sys\nx = 20\nprint('hello')\nprint('warn', file=sys.stderr)\nx * 2 + 2")
    assert not output.is_error
    assert texts(output) == "stdout:\nhello\n\nstderr:\nwarn\n\nresult:\n42"
    assert user_ns["x"] == 20
    assert [bundle.kind for bundle in output.display] == ["stdout", "stderr", "result"]
    assert output.display[-1].data["text/plain"] == "42"
    # state persists for later calls, like later cells
    assert texts(run_python("x + 1")) == "result:\n21"


def test_run_python_semicolon_and_statements_show_no_result(user_ns: dict[str, Any]) -> None:
    assert texts(run_python("y = 5")).startswith("(no output")
    assert texts(run_python("y;")).startswith("(no output")
    assert texts(run_python("None")).startswith("(no output")


def test_run_python_errors_are_error_results_with_the_cells_traceback(user_ns: dict[str, Any]) -> None:
    output = run_python("def f(n):\n    return 1 / n\nprint('before')\nf(0)")
    assert output.is_error
    body = texts(output)
    assert body.startswith("stdout:\nbefore")
    assert "line 4, in <module>" in body and "line 2, in f" in body and "ZeroDivisionError: division by zero" in body
    assert "claude_magic" not in body
    assert output.display[-1].kind == "error"


def test_run_python_reports_syntax_errors_and_system_exit(user_ns: dict[str, Any]) -> None:
    syntax = run_python("def broken(:\n    pass")
    assert syntax.is_error and "SyntaxError" in texts(syntax)
    leaving = run_python("raise SystemExit(3)")
    assert leaving.is_error and "SystemExit: 3" in texts(leaving)


def test_run_python_understands_ipython_syntax_and_top_level_await(user_ns: dict[str, Any]) -> None:
    assert "shell says hi" in texts(run_python("!echo shell says hi"))
    assert texts(run_python("%load_ext autoreload\n%autoreload 0\n'magics ran'")) == "result:\n'magics ran'"
    awaited = run_python("import asyncio\nawait asyncio.sleep(0)\nvalue = await asyncio.sleep(0, result=7)\nvalue")
    assert texts(awaited) == "result:\n7"


def test_run_python_captures_display_calls(user_ns: dict[str, Any]) -> None:
    output = run_python("from IPython.display import display\ndisplay({'a': 1})\ndisplay('second')")
    assert "display:\n{'a': 1}" in texts(output) and "display:\n'second'" in texts(output)
    assert [bundle.kind for bundle in output.display] == ["display", "display"]


def test_run_python_sends_new_figures_to_claude_as_images(agg: Any) -> None:
    output = run_python("import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title('Rising')\nplt.xlabel('t');")
    [png] = images(output)
    assert png.startswith(PNG_MAGIC)
    assert "title 'Rising'" in texts(output) and "x 't'" in texts(output)
    assert [bundle.kind for bundle in output.display] == ["figure"]
    assert output.display[0].data["image/png"]
    # an unchanged figure is not sent again
    assert images(run_python("1 + 1")) == []


def test_run_python_sends_a_figure_once_when_it_is_also_the_result(agg: Any, ipython: Any) -> None:
    from matplotlib.figure import Figure

    from claude_magic.tools.figures import figure_png

    formatter = ipython.display_formatter.formatters["image/png"]
    formatter.enabled = True  # as in a notebook kernel: a Figure result renders as PNG
    formatter.for_type(Figure, figure_png)
    try:
        output = run_python("import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([1, 2])\nfig")
    finally:
        formatter.pop(Figure)
        formatter.enabled = False
    assert "result:" in texts(output) and len(images(output)) == 1
    assert [bundle.kind for bundle in output.display] == ["result"]


def test_list_variables_shows_user_data_and_hides_internals(user_ns: dict[str, Any]) -> None:
    run_python("import json as js\ntt_numbers = list(range(100))\n_private = 1\ndef helper(a, b=2):\n    return a\n"
               "class Thing:\n    pass\nlabel = 'hello'")
    assert "tt_numbers: list, len 100 = [0, 1, 2, 3, 4, 5, ...]" in list_variables("tt_numbers")
    assert "helper: function(a, b=2)" in list_variables("helper") and "Thing: class" in list_variables("Thing")
    assert "label: str, len 5 = 'hello'" in list_variables("label")
    assert "Imported modules: js (json)" in list_variables("js")
    for hidden in ("_private", "In", "Out", "get_ipython", "exit"):
        assert list_variables(hidden).splitlines() == [f"0 variable(s) matching {hidden!r}:"]
    assert list_variables("tt_num*").splitlines()[:2] == ["1 variable(s) matching 'tt_num*':",
                                                       "tt_numbers: list, len 100 = [0, 1, 2, 3, 4, 5, ...]"]


def test_inspect_variable_shows_details_source_and_attributes(user_ns: dict[str, Any]) -> None:
    run_python("class Point:\n    def __init__(self):\n        self.x, self.y = 1, 2\np = Point()\n"
               "def area(w: float, h: float) -> float:\n    '''Area of a rectangle.'''\n    return w * h")
    point = inspect_variable("p")
    assert point.startswith("p: __main__.Point") and "attributes: x=1, y=2" in point
    function = inspect_variable("area")
    assert "signature: area(w: float, h: float) -> float" in function
    assert "docstring: Area of a rectangle." in function and "return w * h" in function
    assert inspect_variable("p.x").startswith("p.x: int")
    with pytest.raises(VariableNotFound, match="no variable named 'nothing_here'"):
        inspect_variable("nothing_here")
    with pytest.raises(VariableNotFound, match="no attribute 'z'"):
        inspect_variable("p.z")


def test_describe_dataframe_with_pandas(user_ns: dict[str, Any]) -> None:
    run_python("import pandas as pd\nsales = pd.DataFrame({'region': ['n', 's', None], 'amount': [1.5, None, 3.0]})")
    description = describe_dataframe("sales", rows=2)
    assert description.startswith("sales: pandas DataFrame, 3 rows x 2 columns")
    assert "region" in description and "amount" in description
    assert "missing" in description and "first 2 rows:" in description and "statistics:" in description
    assert describe_dataframe("sales.amount").startswith("sales.amount: pandas Series, 3 rows x 1 columns")
    user_ns["not_a_frame"] = [1, 2]
    with pytest.raises(TypeError, match="not a pandas or polars"):
        describe_dataframe("not_a_frame")


def test_current_figure_by_variable_and_current(agg: Any, user_ns: dict[str, Any]) -> None:
    run_python("import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.set_title('Kept');")
    output = current_figure()
    [png] = images(output)
    assert png.startswith(PNG_MAGIC) and "title 'Kept'" in texts(output)
    assert output.display[0].kind == "figure"
    agg.close("all")
    assert current_figure().is_error
    assert "title 'Kept'" in texts(current_figure("ax"))
    assert current_figure("fig").content[1]["type"] == "image"
    user_ns["not_a_figure"] = 3
    assert current_figure("not_a_figure").is_error


def test_builtin_policies_and_threads() -> None:
    tools = {tool.name: tool for tool in builtin_tools()}
    assert list(tools) == list(builtins.BUILTIN_NAMES)
    assert tools["run_python"].consent == "ask" and tools["run_python"].main_thread
    assert all(tools[name].consent == "allow" for name in builtins.BUILTIN_NAMES if name != "run_python")
    for tool in tools.values():
        definition = tool.definition
        assert definition["description"] and definition["input_schema"]["type"] == "object"


def test_the_builtins_do_not_import_pandas_polars_or_matplotlib() -> None:
    script = textwrap.dedent("""
        import sys
        from claude_magic.tools import default_toolbox
        from claude_magic.tools.builtins import list_variables, inspect_variable, current_figure
        toolbox = default_toolbox()
        toolbox.definitions(None)
        data = {"a": [1, 2]}
        list_variables(); inspect_variable("data"); current_figure()
        print(sorted(name for name in ("pandas", "polars", "matplotlib", "numpy") if name in sys.modules))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_describe_dataframe_with_polars(user_ns: dict[str, Any]) -> None:
    pytest.importorskip("polars")  # in the test extras; the tool itself never imports it
    run_python("import polars as pl\nframe = pl.DataFrame({'a': [1, 2, None], 'b': ['x', 'y', 'z']})\n"
               "lazy = frame.lazy()")
    description = describe_dataframe("frame", rows=2)
    assert description.startswith("frame: polars DataFrame, 3 rows x 2 columns")
    assert "a: Int64, missing 1" in description and "first 2 rows:" in description and "null_count" in description
    assert describe_dataframe("lazy").splitlines()[:3] == ["lazy: polars LazyFrame (not collected)", "schema:",
                                                           "  a: Int64"]
    run_python("column = frame['a']")
    assert describe_dataframe("column", rows=0).startswith("column: polars Series, 3 rows x 1 columns")
