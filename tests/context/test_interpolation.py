"""$`expression` interpolation: values in, everything else byte for byte."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from claude_magic.core.errors import ClaudeMagicError
from claude_magic.notebook.failed_cells import ErrorTracker, context_namespace
from claude_magic.notebook.interpolation import InterpolationError, interpolate

ODD_TEXTS = [
    "def f(x):\n    return {'a': x, **{k: v for k, v in d.items()}}\n",
    "f\"{name!r:>{width}}\" and '{0}'.format(1) and {{escaped}}",
    r"$$\frac{a}{b}$$ and $x^2$ and \(\sum_{i=1}^{n} x_i\) and ${HOME} and $HOME and $1",
    "```python\nprint(`x`)\n```\nand `inline` code and a lone ` backtick and $ dollar",
    "<script>alert('xss')</script><img src=x onerror=alert(1)>&amp;&lt;",
    "naïve café — ∑ 🐍 \u200b zero-width \x00 nul \r\n windows line",
    "$ `spaced` and $\n`newline` and `$` and ``$`` and `$`",
    "In a regex, `^\\d+$` matches digits; `$` is the end, `a$`, `b$`. and `$`-sign and $`` and $` x`",
    "shell: `echo $`, `cost: 5$`! and (`$`) and `$`\n",
]


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_text_without_references_is_returned_unchanged(text: str) -> None:
    assert interpolate(text, {"x": 1, "name": "n"}) == text


@given(st.text())
def test_any_text_without_a_reference_is_unchanged(text: str) -> None:
    if "$`" not in text:
        assert interpolate(text, {}) == text


def test_braces_and_latex_around_a_reference_survive() -> None:
    text = r"Given {a: 1} and $$\frac{1}{2}$$, the value $`n` stays {n} and $n."
    assert interpolate(text, {"n": 7}) == r"Given {a: 1} and $$\frac{1}{2}$$, the value 7 stays {n} and $n."


def test_str_is_inserted_as_is_even_markup() -> None:
    payload = "<script>alert('x')</script> {braces} $`not expanded again`"
    assert interpolate("Check: $`payload`!", {"payload": payload}) == f"Check: {payload}!"


def test_expressions_are_evaluated_in_the_namespace() -> None:
    namespace = {"items": [3, 1, 2], "word": "abc"}
    assert interpolate("$`len(items)` $`sorted(items)` $`word.upper()` $`word[0] `", namespace) == "3 [1, 2, 3] ABC a"


def test_a_space_after_the_backtick_is_not_a_reference() -> None:
    assert interpolate("$` word` and `^a$` b", {"word": 1}) == "$` word` and `^a$` b"


def test_comprehensions_see_the_namespace() -> None:
    assert interpolate("$`[n * k for n in items]`", {"items": [1, 2], "k": 10}) == "[10, 20]"


def test_evaluation_does_not_rebind_user_variables() -> None:
    namespace = {"x": 1}
    assert interpolate("$`(x := 5)` then $`x`", namespace) == "5 then 5"
    assert namespace == {"x": 1}


def test_escape_gives_a_literal_reference() -> None:
    assert interpolate("write $$`name` to get a value", {}) == "write $`name` to get a value"
    assert interpolate("$$`a` and $`b`", {"b": 2}) == "$`a` and 2"


def test_dataframe_becomes_a_fenced_summary_on_its_own_lines() -> None:
    frame = pd.DataFrame({"city": ["Oslo", "Lima", None], "temp": [3.5, 19.0, 11.2]})
    result = interpolate("Here is my data: $`df` What stands out?", {"df": frame})
    before, block, after = result.split("```")
    assert before == "Here is my data: \n"
    assert block.startswith("\npandas DataFrame: 3 rows x 2 columns\n")
    assert "city: str, 1 missing" in block or "city: object, 1 missing" in block
    assert "Oslo" in block
    assert after == "\n What stands out?"
    assert interpolate("$`df`", {"df": frame}).startswith("```\npandas DataFrame")


def test_head_and_budget() -> None:
    frame = pd.DataFrame({"n": range(100)})
    assert "5 rows x 1 columns" in interpolate("$`df.head()`", {"df": frame})
    long_text = "y" * 50
    assert interpolate("$`s`", {"s": long_text}, budget=10) == "y" * 10 + "\n(truncated: 10 of 50 characters)"


def test_in_out_and_err_from_a_real_shell(ipython: Any, tracker: ErrorTracker) -> None:
    ipython.run_cell("answer = 6 * 7", store_history=True)
    number = ipython.execution_count
    ipython.run_cell("answer + 1", store_history=True)
    ipython.run_cell("{'oops': 1}['missing']", store_history=True)
    namespace = context_namespace(ipython, tracker)
    assert interpolate(f"$`In[{number - 1}]`", namespace) == "answer = 6 * 7"
    assert interpolate(f"$`Out[{number}]`", namespace) == "43"
    err = interpolate("$`Err[-1]`", namespace)
    assert err.startswith("```\nKeyError: 'missing'\nin In[")
    assert "{'oops': 1}['missing']" in err and "Traceback" in err


def test_unknown_name_is_a_one_line_error() -> None:
    with pytest.raises(InterpolationError) as caught:
        interpolate("Summarize $`nmae`.", {"name": 1})
    assert str(caught.value) == "$`nmae`: name 'nmae' is not defined"
    assert isinstance(caught.value, ClaudeMagicError)
    assert caught.value.expression == "nmae"
    assert caught.value._render_traceback_() == ["\x1b[31mInterpolationError\x1b[0m: $`nmae`: name 'nmae' is not defined"]


@pytest.mark.parametrize(("text", "message"), [
    ("$`1/0`", "$`1/0`: ZeroDivisionError: division by zero"),
    ("$`items[5]`", "$`items[5]`: IndexError: list index out of range"),
    ("$`items[`", "$`items[`: SyntaxError: '[' was never closed"),
    ("$`x = 1`", "$`x = 1`: SyntaxError: invalid syntax"),
    ("$`import os`", "$`import os`: SyntaxError: invalid syntax"),
    ("$`items", "unclosed $`items: no closing backtick on the same line (write $$` for a literal $`)"),
    ("$`items\n`", "unclosed $`items: no closing backtick on the same line (write $$` for a literal $`)"),
    ("$`'unclosed string`", "$`'unclosed string`: SyntaxError: unterminated string literal (detected at line 1)"),
    ("$`Err[-1]`", "$`Err[-1]`: IndexError: Err holds 0 failed cell(s) (Err[-1] is the latest)"),
])
def test_failures_are_one_line_errors(text: str, message: str) -> None:
    from claude_magic.notebook.failed_cells import ErrorList

    with pytest.raises(InterpolationError) as caught:
        interpolate(text, {"items": [1], "Err": ErrorList()})
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def test_multi_line_exception_messages_are_flattened_and_capped() -> None:
    def explode() -> None:
        raise ValueError("first line\nsecond line " + "z" * 1000)

    with pytest.raises(InterpolationError) as caught:
        interpolate("$`explode()`", {"explode": explode})
    assert str(caught.value).startswith("$`explode()`: ValueError: first line second line zzz")
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 400


def test_keyboard_interrupt_is_not_swallowed() -> None:
    def stop() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interpolate("$`stop()`", {"stop": stop})
