"""Bounded summaries of DataFrames, arrays, containers, strings and bytes."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from claude_magic.notebook.summaries import summarize_value, truncate_text

NOTE_ALLOWANCE = 60   # room for the "(truncated: N of M characters)" note on top of the budget


@pytest.fixture(scope="module")
def big_frame() -> pd.DataFrame:
    rows = 10_000_000
    frame = pd.DataFrame({
        "id": np.arange(rows, dtype=np.int64),
        "value": np.linspace(0.0, 1.0, rows),
        "label": pd.Categorical(np.where(np.arange(rows) % 2 == 0, "even", "odd")),
    })
    frame.loc[[3, 7, 11], "value"] = np.nan
    return frame


def test_ten_million_row_frame_is_summarized_not_serialized(big_frame: pd.DataFrame) -> None:
    summary = summarize_value(big_frame, 4000)
    assert summary.startswith("pandas DataFrame: 10,000,000 rows x 3 columns")
    assert "id: int64, 0 missing" in summary
    assert "value: float64, 3 missing" in summary
    assert "label: category, 0 missing" in summary
    assert "id: 0 / 5e+06 / 9999999" in summary          # min / mean / max
    assert "first 5 rows:" in summary and "(showing 5 of 10,000,000 rows)" in summary
    assert "even" in summary and "odd" in summary
    assert "9999999 " not in summary.split("first 5 rows:")[1]   # only the head is printed
    assert len(summary) < 1500


def test_frame_summary_respects_a_small_budget(big_frame: pd.DataFrame) -> None:
    summary = summarize_value(big_frame, 200)
    assert len(summary) <= 200 + NOTE_ALLOWANCE
    note = re.search(r"\n\(truncated: 200 of ([\d,]+) characters\)$", summary)
    assert note is not None and int(note.group(1).replace(",", "")) > 200   # the full length varies: column
    # scans stop after a time budget, so a second summary under load may hold fewer statistics


def test_wide_frame_lists_a_bounded_number_of_columns() -> None:
    frame = pd.DataFrame(np.zeros((3, 500)), columns=[f"c{number}" for number in range(500)])
    summary = summarize_value(frame, 100_000)
    assert "3 rows x 500 columns" in summary
    assert "... and 460 more columns (not listed)" in summary
    assert "c39: float64" in summary and "c40: float64" not in summary


def test_empty_frame() -> None:
    summary = summarize_value(pd.DataFrame({"a": pd.Series([], dtype="int64")}))
    assert "0 rows x 1 columns" in summary and "a: int64, 0 missing" in summary
    assert "first" not in summary


def test_series() -> None:
    series = pd.Series([1.5, None, 3.5] * 1000, name="price")
    summary = summarize_value(series)
    assert summary.startswith("pandas Series 'price': 3,000 values, dtype float64, 1,000 missing")
    assert "min / mean / max: 1.5 / 2.5 / 3.5" in summary
    assert "(showing 5 of 3,000 values)" in summary


def test_numpy_array_stats_and_preview() -> None:
    array = np.arange(1_000_000, dtype=np.float64).reshape(1000, 1000)
    array[0, 0] = np.nan
    summary = summarize_value(array)
    assert summary.startswith("numpy array: shape (1000, 1000), dtype float64, 1,000,000 elements")
    assert "min 1, max 999999" in summary and "1 NaN" in summary
    assert "..." in summary.split("preview:")[1]          # numpy's own abbreviation
    assert len(summary) < 1500


def test_numpy_bool_object_and_empty_arrays() -> None:
    assert "2 True, 1 False" in summarize_value(np.array([True, False, True]))
    assert "preview:\n['a' None]" in summarize_value(np.array(["a", None], dtype=object))
    assert summarize_value(np.array([])).startswith("numpy array: shape (0,), dtype float64, 0 elements")
    assert summarize_value(np.float64(2.5)) == "2.5"


def test_long_list_and_dict_are_truncated_with_counts() -> None:
    summary = summarize_value(list(range(1_000_000)), 4000)
    assert summary.startswith("list of 1,000,000 items (showing the first 200): [0, 1, 2,")
    assert len(summary) <= 4000 + NOTE_ALLOWANCE
    mapping = summarize_value({f"key{number}": number for number in range(10_000)}, 4000)
    assert mapping.startswith("dict of 10,000 items (showing the first 100):")
    assert summarize_value([1, 2, 3]) == "[1, 2, 3]"
    assert summarize_value({"a": 1}) == "{'a': 1}"


def test_long_string_is_cut_with_the_note() -> None:
    assert summarize_value("x" * 10_000, 4000) == "x" * 4000 + "\n(truncated: 4,000 of 10,000 characters)"
    assert truncate_text("short", 10) == "short"


def test_bytes_are_a_short_note_not_decoded_garbage() -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 1000
    summary = summarize_value(png)
    assert summary.startswith("<bytes of 256,008 bytes (image/png), starting b'\\x89PNG")
    assert len(summary) < 300
    assert "bytearray of 3 bytes" in summarize_value(bytearray(b"abc"))
    assert "memoryview of 4 bytes" in summarize_value(memoryview(b"abcd"))


def test_numbers_none_and_plain_objects() -> None:
    assert summarize_value(42) == "42"
    assert summarize_value(None) == "None"
    assert summarize_value(True) == "True"

    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert summarize_value(Broken()) == "<Broken object: repr failed with RuntimeError>"


def test_repr_claude_hook_wins() -> None:
    class Custom:
        def _repr_claude_(self) -> str:
            return "custom text"

    assert summarize_value(Custom()) == "custom text"


def test_summaries_never_import_pandas_numpy_or_polars() -> None:
    script = (
        "import sys\n"
        "from claude_magic.notebook.interpolation import interpolate\n"
        "from claude_magic.notebook.attachments import attachment_blocks\n"
        "import claude_magic.notebook.failed_cells, claude_magic.notebook.code_cells\n"
        "print(interpolate('$`x` $`b` $`s`', {'x': [1, {'a': 2}], 'b': b'%PDF-1.4', 's': 'text'}))\n"
        "attachment_blocks(['b'], {'b': b'hello'})\n"
        "print(sorted(name for name in ('pandas', 'numpy', 'polars', 'matplotlib', 'PIL') if name in sys.modules))\n"
    )
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert output.splitlines()[-1] == "[]"
    assert "application/pdf" in output
