"""Bounded text summaries of Python values for prompts (DataFrames, arrays, containers, bytes).

`summarize_value(value, budget)` never serializes a whole large object: a DataFrame gives its shape,
dtypes, missing values per column, numeric ranges and its first rows (the column scans stop after 0.3 s,
so even a frame of tens of millions of rows is summarized quickly, with a note on what was skipped); an array its shape, dtype, summary statistics and
numpy's own abbreviated preview; containers are shown through `reprlib` limits. Whatever the kind, the
result is cut to `budget` characters with a note "(truncated: N of M characters)".

pandas, numpy and polars are never imported here: a value is recognised as one of theirs only when the
library is already in `sys.modules` (it must be, for the value to exist).

A class can choose its own prompt text by defining `_repr_claude_(self) -> str` (the notebook's `Err`
records do).
"""

from __future__ import annotations

import numbers
import reprlib
import sys
import time
import warnings
from typing import Any

__all__ = ["summarize_value", "truncate_text", "DEFAULT_BUDGET"]

DEFAULT_BUDGET = 4000
_HEAD_ROWS = 5
_MAX_COLUMNS = 40          # columns listed with dtype and missing count
_PREVIEW_COLUMNS = 20      # columns in the printed first rows
_MAX_STAT_COLUMNS = 20     # numeric columns given min / mean / max
_MAX_STAT_ELEMENTS = 20_000_000   # arrays larger than this get no statistics (they would take too long)
_SCAN_SECONDS = 0.3          # time allowed for counting missing values and ranges of a DataFrame's columns


def truncate_text(text: str, budget: int) -> str:
    """`text` itself, or its first `budget` characters and a note saying how much was cut."""
    budget = max(budget, 0)
    if len(text) <= budget:
        return text
    return f"{text[:budget]}\n(truncated: {budget:,} of {len(text):,} characters)"


def summarize_value(value: Any, budget: int = DEFAULT_BUDGET) -> str:
    """A prompt-sized text description of `value`, at most about `budget` characters."""
    return truncate_text(_describe(value, budget), budget)


def _describe(value: Any, budget: int) -> str:
    hook = getattr(type(value), "_repr_claude_", None)
    if callable(hook):
        return str(hook(value))
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _describe_bytes(bytes(value[:16]), len(value) if not isinstance(value, memoryview) else value.nbytes,
                               type(value).__name__)
    if isinstance(value, bool) or value is None:
        return repr(value)
    for describer in (_describe_pandas, _describe_polars, _describe_numpy):
        text = describer(value)
        if text is not None:
            return text
    if isinstance(value, numbers.Number):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return _describe_container(value, budget)
    return _safe_repr(value)


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception as exc:  # noqa: BLE001 - a broken __repr__ must not break the prompt
        return f"<{type(value).__name__} object: repr failed with {type(exc).__name__}>"


def _describe_bytes(start: bytes, size: int, kind: str) -> str:
    from .attachments import sniff_media_type

    media_type = sniff_media_type(start)
    what = f" ({media_type})" if media_type else ""
    return (f"<{kind} of {size:,} bytes{what}, starting {start!r}; binary content is not inlined: "
            "attach images and PDFs with --attach>")


def _describe_container(value: Any, budget: int) -> str:
    limits = reprlib.Repr()
    items = max(10, min(200, budget // 20))
    limits.maxlist = limits.maxtuple = limits.maxset = limits.maxfrozenset = limits.maxdeque = items
    limits.maxdict = max(5, items // 2)
    limits.maxlevel = 4
    limits.maxstring = limits.maxother = max(40, min(400, budget // 10))
    try:
        text = limits.repr(value)
    except Exception as exc:  # noqa: BLE001 - a broken __repr__ inside must not break the prompt
        return f"<{type(value).__qualname__} of {len(value):,} items: repr failed with {type(exc).__name__}>"
    shown = limits.maxdict if isinstance(value, dict) else items
    if len(value) > shown:
        text = f"{type(value).__qualname__} of {len(value):,} items (showing the first {shown}): {text}"
    return text


# --- pandas -------------------------------------------------------------------------------------------

def _describe_pandas(value: Any) -> str | None:
    pandas = sys.modules.get("pandas")
    if pandas is None:
        return None
    if isinstance(value, pandas.DataFrame):
        return _pandas_frame(value, pandas)
    if isinstance(value, pandas.Series):
        return _pandas_series(value, pandas)
    return None


def _pandas_frame(frame: Any, pandas: Any) -> str:
    rows, width = frame.shape
    deadline = _Deadline(_SCAN_SECONDS)
    listed = list(zip(frame.columns[:_MAX_COLUMNS], frame.dtypes.iloc[:_MAX_COLUMNS], strict=True))
    lines = [f"pandas DataFrame: {rows:,} rows x {width:,} columns", "columns (dtype, missing values):"]
    for position, (column, dtype) in enumerate(listed):
        missing = _missing_count(frame.iloc[:, position], deadline)
        lines.append(f"  {column}: {dtype}, {missing}")
    if width > _MAX_COLUMNS:
        lines.append(f"  ... and {width - _MAX_COLUMNS:,} more columns (not listed)")
    numeric = [position for position, (_column, dtype) in enumerate(listed) if _is_plain_numeric(dtype, pandas)]
    if rows and numeric:
        lines.append("numeric columns (min / mean / max):")
        lines += [f"  {listed[position][0]}: {_range_of(frame.iloc[:, position], deadline)}"
                  for position in numeric[:_MAX_STAT_COLUMNS]]
    if rows and width:
        head = frame.head(_HEAD_ROWS).to_string(max_cols=_PREVIEW_COLUMNS, max_colwidth=40, line_width=160)
        lines += [f"first {min(rows, _HEAD_ROWS)} rows:", head]
        if rows > _HEAD_ROWS:
            lines.append(f"(showing {_HEAD_ROWS} of {rows:,} rows)")
    return "\n".join(lines)


class _Deadline:
    """Scans of whole columns stop once this much time has gone, so any frame is summarized quickly."""

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds

    def passed(self) -> bool:
        return time.monotonic() > self._end


def _missing_count(series: Any, deadline: _Deadline) -> str:
    if deadline.passed():
        return "missing values not counted (large frame)"
    return f"{int(series.isna().sum()):,} missing"


def _is_plain_numeric(dtype: Any, pandas: Any) -> bool:
    return bool(pandas.api.types.is_numeric_dtype(dtype) and not pandas.api.types.is_bool_dtype(dtype))


def _range_of(series: Any, deadline: _Deadline | None = None) -> str:
    if deadline is not None and deadline.passed():
        return "not computed (large frame)"
    try:
        return f"{_number(series.min())} / {_number(series.mean())} / {_number(series.max())}"
    except (TypeError, ValueError):
        return "not computable"


def _pandas_series(series: Any, pandas: Any) -> str:
    name = "" if series.name is None else f" {series.name!r}"
    lines = [f"pandas Series{name}: {len(series):,} values, dtype {series.dtype}, "
             f"{int(series.isna().sum()):,} missing"]
    if len(series) and _is_plain_numeric(series.dtype, pandas):
        lines.append(f"min / mean / max: {_range_of(series)}")
    if len(series):
        lines += [f"first {min(len(series), _HEAD_ROWS)} values:",
                  series.head(_HEAD_ROWS).to_string(max_rows=_HEAD_ROWS)]
        if len(series) > _HEAD_ROWS:
            lines.append(f"(showing {_HEAD_ROWS} of {len(series):,} values)")
    return "\n".join(lines)


# --- polars -------------------------------------------------------------------------------------------

def _describe_polars(value: Any) -> str | None:
    polars = sys.modules.get("polars")
    if polars is None:
        return None
    if isinstance(value, polars.LazyFrame):
        schema = value.collect_schema()
        return "\n".join(["polars LazyFrame (not collected), columns:"]
                         + [f"  {column}: {dtype}" for column, dtype in list(schema.items())[:_MAX_COLUMNS]])
    if isinstance(value, polars.Series):
        value = value.to_frame()
    if not isinstance(value, polars.DataFrame):
        return None
    rows, width = value.shape
    nulls = value.null_count().row(0)
    lines = [f"polars DataFrame: {rows:,} rows x {width:,} columns", "columns (dtype, missing values):"]
    lines += [f"  {column}: {dtype}, {missing:,} missing"
              for (column, dtype), missing in list(zip(value.schema.items(), nulls, strict=True))[:_MAX_COLUMNS]]
    if width > _MAX_COLUMNS:
        lines.append(f"  ... and {width - _MAX_COLUMNS:,} more columns (not listed)")
    if rows and width:
        with polars.Config(tbl_cols=_PREVIEW_COLUMNS, tbl_rows=_HEAD_ROWS, fmt_str_lengths=40, tbl_width_chars=160):
            lines += [f"first {min(rows, _HEAD_ROWS)} rows:", str(value.head(_HEAD_ROWS))]
        if rows > _HEAD_ROWS:
            lines.append(f"(showing {_HEAD_ROWS} of {rows:,} rows)")
    return "\n".join(lines)


# --- numpy --------------------------------------------------------------------------------------------

def _describe_numpy(value: Any) -> str | None:
    numpy = sys.modules.get("numpy")
    if numpy is None:
        return None
    if isinstance(value, numpy.generic):
        return str(value)
    if not isinstance(value, numpy.ndarray):
        return None
    lines = [f"numpy array: shape {value.shape}, dtype {value.dtype}, {value.size:,} elements"]
    lines += _array_statistics(value, numpy)
    preview = numpy.array2string(value, threshold=60, edgeitems=3, max_line_width=120, precision=6)
    lines += ["preview:", preview]
    return "\n".join(lines)


def _array_statistics(array: Any, numpy: Any) -> list[str]:
    if not array.size:
        return []
    if array.size > _MAX_STAT_ELEMENTS:
        return [f"(no statistics: more than {_MAX_STAT_ELEMENTS:,} elements)"]
    if array.dtype == numpy.bool_:
        return [f"{int(array.sum()):,} True, {int(array.size - array.sum()):,} False"]
    if not numpy.issubdtype(array.dtype, numpy.number) or numpy.issubdtype(array.dtype, numpy.complexfloating):
        return []
    with warnings.catch_warnings(), numpy.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        parts = [f"min {_number(numpy.nanmin(array))}", f"max {_number(numpy.nanmax(array))}",
                 f"mean {_number(numpy.nanmean(array))}", f"std {_number(numpy.nanstd(array))}"]
        if numpy.issubdtype(array.dtype, numpy.floating):
            missing = int(numpy.isnan(array).sum())
            if missing:
                parts.append(f"{missing:,} NaN")
    return [", ".join(parts)]


def _number(value: Any) -> str:
    """A statistic printed briefly: integers as they are, floats to 6 significant digits."""
    try:
        if float(value).is_integer() and abs(float(value)) < 1e15:
            return str(int(value))
        return f"{float(value):.6g}"
    except (TypeError, ValueError, OverflowError):
        return str(value)
