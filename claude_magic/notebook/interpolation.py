r"""Expand $`expression` references in a prompt with values from the user's namespace.

Syntax:

- `` $`name` `` or `` $`expression` `` (`` $`df.head()` ``, `` $`In[3]` ``, `` $`Out[2]` ``, `` $`Err[-1]` ``):
  a dollar sign, a backtick, then at once something that starts a Python expression (a letter, `_`, a
  digit, a bracket or a quote), up to the next backtick on the same line. The expression runs with `eval`
  against a shallow copy of the namespace, so a walrus cannot rebind the user's variables (methods called
  on the user's objects can still change them).
- A `` $` `` followed by a space, punctuation, another backtick or the end of the line is not a reference
  and stays as it is, so Markdown such as `` `^\d+$` matches`` or `` the `$` sign`` is safe.
- `` $$` `` is an escaped, literal `` $` ``: `` $$`x` `` becomes `` $`x` `` unevaluated.
- Nothing else is touched: braces, plain `$x`, `$$...$$` LaTeX, backtick code spans and fences pass through
  byte for byte. A prompt with no `` $` `` in it is returned unchanged.

Rendering: a `str` value is inserted as it is; anything else goes through `summarize_value` (DataFrames,
arrays, containers and bytes are summarized). Either is cut to `budget` characters per reference with a note
"(truncated: N of M characters)". A multi-line summary is put in its own Markdown fence so that it reads as
data; a one-line one (a number, a short list) is inserted inline. Inserted text is never expanded again.

An unknown name, a syntax error, an exception raised by the expression, or a reference with no closing
backtick on its line is an `InterpolationError` with one line such as
``$`nmae`: name 'nmae' is not defined`` — never a silent literal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..core.errors import ClaudeMagicError
from .summaries import DEFAULT_BUDGET, summarize_value, truncate_text

__all__ = ["interpolate", "summarize_value", "InterpolationError"]

_OPEN = "$`"
_MAX_DETAIL = 300


class InterpolationError(ClaudeMagicError):
    """A $`...` reference that could not be evaluated; `expression` is the text between the backticks."""

    def __init__(self, expression: str, detail: str, *, reference: str | None = None) -> None:
        detail = " ".join(detail.split())
        if len(detail) > _MAX_DETAIL:
            detail = detail[: _MAX_DETAIL - 3] + "..."
        super().__init__(f"{reference or f'$`{expression}`'}: {detail}")
        self.expression = expression


def interpolate(text: str, namespace: Mapping[str, Any], *, budget: int = DEFAULT_BUDGET) -> str:
    """`text` with every $`expression` replaced by its value's text (at most `budget` characters each)."""
    if _OPEN not in text:
        return text
    scope: dict[str, Any] | None = None
    pieces: list[str] = []
    position = 0
    while (start := text.find(_OPEN, position)) != -1:
        if start > position and text[start - 1] == "$":  # `$$`` is a literal `$``
            pieces += [text[position:start - 1], _OPEN]
            position = start + len(_OPEN)
            continue
        if not _starts_expression(text[start + len(_OPEN):start + len(_OPEN) + 1]):
            pieces.append(text[position:start + len(_OPEN)])
            position = start + len(_OPEN)
            continue
        end = _closing_backtick(text, start)
        if scope is None:
            scope = dict(namespace)
        value = _evaluate(text[start + len(_OPEN):end], scope)
        line_start = start == 0 or text[start - 1] == "\n"
        line_end = end + 1 == len(text) or text[end + 1] == "\n"
        pieces += [text[position:start], _render(value, budget, line_start, line_end)]
        position = end + 1
    pieces.append(text[position:])
    return "".join(pieces)


def _starts_expression(character: str) -> bool:
    return bool(character) and (character.isidentifier() or character.isdigit() or character in "([{'\"")


def _closing_backtick(text: str, start: int) -> int:
    end = text.find("`", start + len(_OPEN))
    line_end = text.find("\n", start)
    if end == -1 or (line_end != -1 and line_end < end):
        expression = text[start + len(_OPEN):line_end if line_end != -1 else len(text)][:40]
        raise InterpolationError(expression, "no closing backtick on the same line (write $$` for a literal $`)",
                                 reference=f"unclosed $`{expression}")
    return end


def _evaluate(expression: str, scope: dict[str, Any]) -> Any:
    source = expression.strip()
    try:
        code = compile(source, f"$`{source}`", "eval")
    except SyntaxError as error:
        raise InterpolationError(expression, f"SyntaxError: {error.msg}") from None
    try:
        return eval(code, scope)  # noqa: S307 - the user's own expression in the user's own namespace
    except Exception as error:  # noqa: BLE001 - any failure becomes a one-line user-facing error
        detail = str(error) if isinstance(error, NameError) else f"{type(error).__name__}: {error}"
        raise InterpolationError(expression, detail) from error


def _render(value: Any, budget: int, line_start: bool, line_end: bool) -> str:
    """Inline text for a one-line value; a fenced block on its own lines for a multi-line summary."""
    if isinstance(value, str):
        return truncate_text(value, budget)
    summary = summarize_value(value, budget)
    if "\n" not in summary:
        return summary
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", summary)), default=0) + 1)
    lead = "" if line_start else "\n"
    tail = "" if line_end else "\n"
    return f"{lead}{fence}\n{summary}\n{fence}{tail}"
