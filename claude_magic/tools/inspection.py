"""Read-only looks at the user's namespace: variable summaries, one variable in detail, DataFrames."""

from __future__ import annotations

import contextlib
import fnmatch
import inspect
import reprlib
import sys
import types
from typing import Any

from ..core.typenames import type_name
from .read_limits import check_name, check_value, is_credential_name, withheld_reason

__all__ = ["list_variables_text", "inspect_text", "describe_dataframe_text", "resolve", "VariableNotFound"]

_ALWAYS_HIDDEN = frozenset({"In", "Out", "get_ipython", "exit", "quit"})
_MAX_LISTED = 200


class VariableNotFound(LookupError):
    """No such variable (or attribute) in the user's namespace."""


def _short_repr(value: Any, width: int = 80) -> str:
    limits = reprlib.Repr()
    limits.maxstring, limits.maxother, limits.maxlist, limits.maxdict = width, width, 6, 4
    try:
        text = limits.repr(value)
    except Exception as exc:  # noqa: BLE001 - a broken __repr__ must not break the listing
        return f"<repr failed: {type(exc).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _type_name(value: Any) -> str:
    return type_name(type(value))


def _size(value: Any) -> str:
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple):
        return "shape " + "x".join(str(part) for part in shape) if shape else "scalar"
    if isinstance(value, (str, bytes, list, tuple, dict, set, frozenset)):
        return f"len {len(value)}"
    return ""


def resolve(namespace: dict[str, Any], name: str) -> Any:
    """`name` or a dotted path (`df.columns`) in the namespace, through public names and ordinary values only
    (`read_limits`: never a private or credential-like name, a module, an environment or the kernel)."""
    path = name.strip()
    head, *attributes = path.split(".")
    check_name(head, path, top_level=True)
    if head not in namespace:
        raise VariableNotFound(f"There is no variable named {head!r} in the user's namespace "
                               "(list_variables shows what exists).")
    value = namespace[head]
    check_value(value, head)
    for position, attribute in enumerate(attributes, 1):
        check_name(attribute, path, top_level=False)
        try:
            value = getattr(value, attribute)
        except AttributeError:
            raise VariableNotFound(f"{type(value).__qualname__} object has no attribute {attribute!r}") from None
        check_value(value, ".".join([head, *attributes[:position]]))
    return value


def list_variables_text(namespace: dict[str, Any], hidden: set[str] | frozenset[str] = frozenset(),
                        pattern: str | None = None) -> str:
    """One line per variable (name, type, size, short repr); modules summarized on one line."""
    rows, modules = [], []
    for name, value in sorted(list(namespace.items())):
        if name.startswith("_") or name in _ALWAYS_HIDDEN or name in hidden:
            continue
        if pattern and not fnmatch.fnmatchcase(name, pattern):
            continue
        if isinstance(value, types.ModuleType):
            modules.append(name if name == value.__name__ else f"{name} ({value.__name__})")
            continue
        rows.append(_withheld_row(name, value) or _variable_row(name, value))
    lines = [f"{len(rows)} variable(s)" + (f" matching {pattern!r}" if pattern else "") + ":"]
    lines += rows[:_MAX_LISTED]
    if len(rows) > _MAX_LISTED:
        lines.append(f"... and {len(rows) - _MAX_LISTED} more (pass a pattern to narrow the list)")
    if modules:
        lines.append("Imported modules: " + ", ".join(modules))
    return "\n".join(lines)


def _withheld_row(name: str, value: Any) -> str | None:
    """The row of a variable whose value is never shown (credential-like name, environment, kernel), else None."""
    if is_credential_name(name):
        return f"{name}: (withheld: the name looks like a credential)"
    reason = withheld_reason(value)
    return f"{name}: (withheld: {reason})" if reason is not None else None


def _variable_row(name: str, value: Any) -> str:
    if inspect.isclass(value):
        return f"{name}: class"
    if callable(value) and inspect.isroutine(value):
        try:
            return f"{name}: function{inspect.signature(value)}"
        except (TypeError, ValueError):
            return f"{name}: function"
    size = _size(value)
    return f"{name}: {_type_name(value)}" + (f", {size}" if size else "") + f" = {_short_repr(value)}"


def inspect_text(value: Any, name: str) -> str:
    """A detailed description of one value: type, size, repr or source, attributes."""
    lines = [f"{name}: {_type_name(value)}"]
    size = _size(value)
    if size:
        lines.append(size)
    dtype = getattr(value, "dtype", None)
    if dtype is not None and not callable(dtype):
        lines.append(f"dtype: {dtype}")
    if inspect.isroutine(value) or inspect.isclass(value):
        return "\n".join(lines + _callable_details(value))
    if _is_dataframe(value):
        lines.append("(describe_dataframe gives dtypes, missing values and statistics)")
    lines.append("repr:")
    lines.append(_long_repr(value))
    attributes = _public_attributes(value)
    if attributes:
        lines.append("attributes: " + ", ".join(attributes))
    return "\n".join(lines)


def _callable_details(value: Any) -> list[str]:
    details = []
    with contextlib.suppress(TypeError, ValueError):
        details.append(f"signature: {value.__name__}{inspect.signature(value)}")
    details.append("docstring: " + (inspect.getdoc(value) or "(none)"))
    with contextlib.suppress(OSError, TypeError):
        details.append("source:\n" + inspect.getsource(value))
    return details


def _long_repr(value: Any) -> str:
    limits = reprlib.Repr()
    limits.maxstring, limits.maxother, limits.maxlevel = 4000, 4000, 4
    limits.maxlist = limits.maxtuple = limits.maxset = limits.maxdict = limits.maxdeque = 50
    try:
        return limits.repr(value) if isinstance(value, (list, tuple, dict, set, frozenset)) else repr(value)
    except Exception as exc:  # noqa: BLE001 - report, do not fail
        return f"<repr failed: {type(exc).__name__}: {exc}>"


def _public_attributes(value: Any) -> list[str]:
    own = getattr(value, "__dict__", None)
    if not isinstance(own, dict):
        return []
    shown = [(key, item) for key, item in list(own.items()) if not key.startswith("_") and not is_credential_name(key)]
    return [f"{key}=" + (f"(withheld: {withheld_reason(item)})" if withheld_reason(item) else _short_repr(item, 40))
            for key, item in shown[:30]]


def _is_dataframe(value: Any) -> bool:
    return _pandas_kind(value) is not None or _polars_kind(value) is not None


def _pandas_kind(value: Any) -> str | None:
    pandas = sys.modules.get("pandas")
    if pandas is None:
        return None
    if isinstance(value, pandas.DataFrame):
        return "DataFrame"
    if isinstance(value, pandas.Series):
        return "Series"
    return None


def _polars_kind(value: Any) -> str | None:
    polars = sys.modules.get("polars")
    if polars is None:
        return None
    for kind in ("DataFrame", "LazyFrame", "Series"):
        if isinstance(value, getattr(polars, kind)):
            return kind
    return None


def describe_dataframe_text(value: Any, name: str, rows: int = 5) -> str:
    """Shape, dtypes, missing values, the first rows and summary statistics of a pandas/polars frame."""
    rows = max(0, min(rows, 50))
    if _pandas_kind(value) is not None:
        return _describe_pandas(value, name, rows)
    if _polars_kind(value) is not None:
        return _describe_polars(value, name, rows)
    raise TypeError(f"{name} is a {_type_name(value)}, not a pandas or polars DataFrame/Series.")


def _describe_pandas(value: Any, name: str, rows: int) -> str:
    pandas = sys.modules["pandas"]
    frame = value.to_frame() if isinstance(value, pandas.Series) else value
    options = ("display.max_columns", 40, "display.width", 160, "display.max_colwidth", 50)
    with pandas.option_context(*options):
        columns = pandas.DataFrame({"dtype": frame.dtypes.astype(str), "non-null": frame.notna().sum(),
                                    "missing": frame.isna().sum()})
        parts = [f"{name}: pandas {_pandas_kind(value)}, {frame.shape[0]} rows x {frame.shape[1]} columns",
                 f"index: {type(frame.index).__name__}"
                 f"{' ' + repr(frame.index.name) if frame.index.name is not None else ''}",
                 f"memory: {frame.memory_usage(deep=False).sum() / 1e6:.2f} MB (shallow)",
                 "columns:", columns.to_string()]
        if rows:
            parts += [f"first {min(rows, len(frame))} rows:", frame.head(rows).to_string()]
        if len(frame) and len(frame.columns):
            try:
                stats = frame.describe(include="all").T
                parts += ["statistics:", stats.to_string()]
            except (ValueError, TypeError) as exc:
                parts.append(f"statistics unavailable: {exc}")
    return "\n".join(parts)


def _describe_polars(value: Any, name: str, rows: int) -> str:
    polars = sys.modules["polars"]
    kind = _polars_kind(value)
    if kind == "LazyFrame":
        schema = value.collect_schema()
        return "\n".join([f"{name}: polars LazyFrame (not collected)", "schema:"]
                         + [f"  {column}: {dtype}" for column, dtype in schema.items()])
    frame = value.to_frame() if kind == "Series" else value
    with polars.Config(tbl_cols=40, tbl_rows=max(rows, 10), fmt_str_lengths=50, tbl_width_chars=160):
        parts = [f"{name}: polars {kind}, {frame.height} rows x {frame.width} columns", "columns:"]
        nulls = frame.null_count().row(0)
        parts += [f"  {column}: {dtype}, missing {missing}"
                  for (column, dtype), missing in zip(frame.schema.items(), nulls, strict=False)]
        if rows:
            parts += [f"first {min(rows, frame.height)} rows:", str(frame.head(rows))]
        if frame.height:
            parts += ["statistics:", str(frame.describe())]
    return "\n".join(parts)
