"""The rows of `map`: a pandas or polars DataFrame, a Series or any iterable, and one prompt per row from a template or a function."""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..core.errors import ConfigurationError

__all__ = ["Rows", "Prompt", "read_rows", "render_prompts", "template_prefix"]

Prompt = str | list[dict[str, Any]]


@dataclass
class Rows:
    """The input as plain rows: `records` (a dict per row for frames, else the value), and how to rebuild its index."""

    kind: str                    # "pandas", "polars", "pandas-series", "polars-series" or "iterable"
    records: list[Any]
    columns: list[str]           # field names a template may use
    index: Any = None            # the pandas Index (pandas inputs), else None: rows are numbered from 0
    name: str | None = None      # a Series' name

    def __len__(self) -> int:
        return len(self.records)

    def labels(self) -> list[Any]:
        """Each row's label: its pandas index value, or its position."""
        return list(self.index) if self.index is not None else list(range(len(self.records)))


def _module(value: Any) -> str:
    return type(value).__module__.split(".", 1)[0]


def read_rows(data: Any) -> Rows:
    """Normalize `data`; a one-line `ConfigurationError` for what cannot be rows."""
    module, kind = _module(data), type(data).__name__
    if module == "pandas" and kind == "DataFrame":
        columns = [str(c) for c in data.columns]
        records = [dict(zip(columns, values, strict=True)) for values in data.itertuples(index=False, name=None)]
        return Rows("pandas", records, columns, index=data.index)
    if module == "pandas" and kind == "Series":
        name = None if data.name is None else str(data.name)
        return Rows("pandas-series", data.tolist(), [name] if name else [], index=data.index, name=name)
    if module == "polars" and kind == "DataFrame":
        return Rows("polars", data.to_dicts(), [str(c) for c in data.columns])
    if module == "polars" and kind == "Series":
        name = data.name or None
        return Rows("polars-series", data.to_list(), [name] if name else [], name=name)
    if isinstance(data, (str, bytes)) or not isinstance(data, Iterable):
        raise ConfigurationError(f"map needs rows: a DataFrame, a Series or an iterable of values, not {kind}")
    records = list(data)
    columns = sorted({str(k) for r in records if isinstance(r, Mapping) for k in r}) if records else []
    return Rows("iterable", [dict(r) if isinstance(r, Mapping) else r for r in records], columns)


def template_prefix(template: str) -> str:
    """The literal text before the template's first field (the instructions every row shares)."""
    try:
        first = next(iter(string.Formatter().parse(template)), None)
    except ValueError:
        return ""
    return first[0] if first is not None and first[1] is not None else ""


def _fields(template: str) -> list[str]:
    try:
        return [field for _l, field, _s, _c in string.Formatter().parse(template) if field is not None]
    except ValueError as error:
        raise ConfigurationError(f"the prompt template is malformed: {error}") from None


def render_prompts(prompt: str | Callable[[Any], Prompt], rows: Rows) -> list[Prompt]:
    """One prompt per row; a template names columns (`{text}`), or `{value}` / `{}` for a Series or plain values."""
    if callable(prompt):
        return [_called(prompt, record, position) for position, record in enumerate(rows.records)]
    if not isinstance(prompt, str) or not prompt.strip():
        raise ConfigurationError("map needs a prompt: a template such as 'Classify: {text}' or a function of a row")
    fields = _fields(prompt)
    prompts: list[Prompt] = []
    for position, record in enumerate(rows.records):
        values = record if isinstance(record, dict) else {"value": record, **({rows.name: record} if rows.name else {})}
        positional = () if isinstance(record, dict) else (record,)
        try:
            prompts.append(prompt.format(*positional, **values))
        except KeyError as missing:
            known = ", ".join(rows.columns or ["value"])
            raise ConfigurationError(f"the prompt template uses {{{missing.args[0]}}}, but the rows have no such field "
                                     f"(fields: {known})") from None
        except (IndexError, ValueError, AttributeError) as error:
            raise ConfigurationError(f"the prompt template does not fit row {position} ({error}); fields in it: "
                                     f"{', '.join(fields) or 'none'}") from None
    return prompts


def _called(prompt: Callable[[Any], Prompt], record: Any, position: int) -> Prompt:
    try:
        value = prompt(record)
    except Exception as error:  # noqa: BLE001 - the user's function: one line naming the row
        raise ConfigurationError(f"the prompt function failed on row {position}: {type(error).__name__}: {error}") from None
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, list) and value and all(isinstance(b, dict) and "type" in b for b in value):
        return value
    raise ConfigurationError(f"the prompt function must return text or content blocks; row {position} gave "
                             f"{type(value).__name__}")
