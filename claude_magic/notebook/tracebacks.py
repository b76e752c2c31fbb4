"""Plain-text tracebacks of failed cells for Claude, built from the exception's own frames.

`cell_traceback(error, shell)` walks the traceback (and its `__cause__` / `__context__` chain) and writes
each frame the way IPython shows it, on every IPython version alike:

    Cell In[3], line 2, in halve
          1 def halve(x):
    ----> 2     return x / zero

    File ~/lib/json/decoder.py:353, in JSONDecoder.raw_decode
    --> 353         obj, end = self.scan_once(s, idx)

Cell frames are named by the shell's caching compiler, which maps each compiled cell's file name (also a
kernel's `ipykernel_NNN/NNN.py` temp file) to its number: `shell.compile.format_code_name` (IPython 8.7+),
else the same map it reads, `shell.compile._filename_map` (IPython 8.0-8.6). Frames that only
run the cell are left out: everything above the first cell frame, frames inside IPython's and ipykernel's
packages, and frames that set `__tracebackhide__`. Library frames below the cell (pandas, your modules)
stay. No colours, no local variables.
"""

from __future__ import annotations

import builtins
import linecache
import os
import sys
import traceback as traceback_module
from collections.abc import Iterator
from types import FrameType, TracebackType
from typing import Any

__all__ = ["cell_traceback"]

CONTEXT_BEFORE = 3         # source lines shown above a frame's current line
CONTEXT_AFTER = 1          # and below it
_LINE_LIMIT = 240          # characters of one source line
_REPEAT_LIMIT = 3          # identical consecutive frames shown before "repeated N more times"
_CHAIN_LIMIT = 10          # chained exceptions (cause / context) followed
_GROUP_LIMIT = 10          # sub-exceptions of an exception group shown
_GUTTER = 7                # width of the line-number column, as in IPython

_CAUSE = "The above exception was the direct cause of the following exception:"
_CONTEXT = "During handling of the above exception, another exception occurred:"


def cell_traceback(error: BaseException, shell: Any = None) -> str:
    """`error`'s traceback as plain text, cell frames labelled `Cell In[n], line k` (see the module doc)."""
    return _with_chain(error, _CellNamer(shell), depth=0)


def _with_chain(error: BaseException, namer: _CellNamer, *, depth: int) -> str:
    """The exception after the ones it was raised from or while handling, oldest first, as Python shows them."""
    parts: list[str] = []
    for exception, link in _chain(error):
        parts.append(_one_exception(exception, namer, depth=depth))
        if link:
            parts.append(link)
    return "\n\n".join(parts)


def _chain(error: BaseException) -> list[tuple[BaseException, str | None]]:
    """`error` and its causes / contexts, oldest first, each with the sentence leading to the next one."""
    found: list[tuple[BaseException, str | None]] = []
    seen: set[int] = set()
    exception: BaseException | None = error
    link: str | None = None
    while exception is not None and id(exception) not in seen and len(found) < _CHAIN_LIMIT:
        seen.add(id(exception))
        found.append((exception, link))
        if exception.__cause__ is not None:
            exception, link = exception.__cause__, _CAUSE
        elif exception.__context__ is not None and not exception.__suppress_context__:
            exception, link = exception.__context__, _CONTEXT
        else:
            exception = None
    return found[::-1]


def _one_exception(error: BaseException, namer: _CellNamer, *, depth: int) -> str:
    """One exception: its frames (if any are worth showing) and its `Type: message` lines."""
    frames = [_frame_text(frame, lineno, namer) for frame, lineno in _shown_frames(error.__traceback__, namer)]
    blocks: list[str] = []
    if frames:
        blocks.append("Traceback (most recent call last):\n" + "\n\n".join(_collapse_repeats(frames)))
    blocks.append(_exception_only(error, namer))
    sub_exceptions = getattr(error, "exceptions", None)
    if _is_group(error) and isinstance(sub_exceptions, tuple) and depth < 3:
        for number, sub in enumerate(sub_exceptions[:_GROUP_LIMIT], start=1):
            inner = _with_chain(sub, namer, depth=depth + 1)
            blocks.append(f"[sub-exception {number} of {len(sub_exceptions)}]\n" + _indent(inner))
        if len(sub_exceptions) > _GROUP_LIMIT:
            blocks.append(f"[... {len(sub_exceptions) - _GROUP_LIMIT} more sub-exceptions]")
    return "\n\n".join(blocks)


def _shown_frames(tb: TracebackType | None, namer: _CellNamer) -> list[tuple[FrameType, int | None]]:
    """The frames worth showing: from the first cell frame down, without IPython's, ipykernel's or hidden ones."""
    frames = list(_walk(tb))
    first_cell = next((position for position, (frame, _) in enumerate(frames)
                       if namer.label(frame.f_code.co_filename)), None)
    if first_cell is not None:
        frames = frames[first_cell:]
    return [(frame, lineno) for frame, lineno in frames
            if not namer.is_internal(frame.f_code.co_filename) and not _hidden(frame)]


def _walk(tb: TracebackType | None) -> Iterator[tuple[FrameType, int | None]]:
    while tb is not None:
        yield tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next


def _hidden(frame: FrameType) -> bool:
    """A frame that asks to be left out of tracebacks (`__tracebackhide__ = True`, as IPython and pytest honour)."""
    try:
        return bool(frame.f_locals.get("__tracebackhide__", False))
    except Exception:  # noqa: BLE001 - an odd frame is shown rather than breaking the traceback
        return False


def _frame_text(frame: FrameType, lineno: int | None, namer: _CellNamer) -> str:
    """`Cell In[3], line 2, in f` or `File path:12, in f`, then the numbered source lines around `lineno`."""
    code = frame.f_code
    filename = code.co_filename
    name = getattr(code, "co_qualname", code.co_name)
    label = namer.label(filename)
    if label:
        header = f"{label}, line {lineno}" if lineno is not None else label
    else:
        header = f"File {_display_path(filename)}" + (f":{lineno}" if lineno is not None else "")
    if name != "<module>":
        header += f", in {name}"
    return "\n".join([header, *_source_lines(filename, lineno, frame.f_globals)])


def _source_lines(filename: str, lineno: int | None, module_globals: dict[str, Any]) -> list[str]:
    if lineno is None or lineno < 1:
        return []
    try:
        lines = linecache.getlines(filename, module_globals)
    except Exception:  # noqa: BLE001 - a loader that cannot give the source just means no source lines
        return []
    if lineno > len(lines):
        return []
    first, last = max(1, lineno - CONTEXT_BEFORE), min(len(lines), lineno + CONTEXT_AFTER)
    gutter = max(_GUTTER, len(str(last)) + 3)
    shown = []
    for number in range(first, last + 1):
        text = lines[number - 1].rstrip("\r\n")
        if len(text) > _LINE_LIMIT:
            text = text[:_LINE_LIMIT] + " [...]"
        if number == lineno:
            marker = "-" * (gutter - len(str(number)) - 2) + "> " + str(number)
        else:
            marker = str(number).rjust(gutter)
        shown.append(f"{marker} {text}".rstrip())
    return shown


def _collapse_repeats(frames: list[str]) -> list[str]:
    """Deep recursion: identical consecutive frames after the first few become one note."""
    collapsed: list[str] = []
    previous, repeats = None, 0
    for text in frames:
        if text == previous:
            repeats += 1
            if repeats >= _REPEAT_LIMIT:
                continue
        else:
            if repeats >= _REPEAT_LIMIT:
                collapsed.append(f"[Previous frame repeated {repeats - _REPEAT_LIMIT + 1} more times]")
            previous, repeats = text, 0
        collapsed.append(text)
    if repeats >= _REPEAT_LIMIT:
        collapsed.append(f"[Previous frame repeated {repeats - _REPEAT_LIMIT + 1} more times]")
    return collapsed


def _exception_only(error: BaseException, namer: _CellNamer) -> str:
    """Python's `Type: message` lines (with notes; a syntax error's caret), its file named `Cell In[n]`."""
    lines = traceback_module.format_exception_only(type(error), error)
    if isinstance(error, SyntaxError) and lines and error.filename:
        label = namer.label(error.filename)
        if label and lines[0] == f'  File "{error.filename}", line {error.lineno}\n':
            lines[0] = f"{label}, line {error.lineno}\n"
    return "".join(lines).rstrip("\n")


def _is_group(error: BaseException) -> bool:
    group = getattr(builtins, "BaseExceptionGroup", None)  # Python 3.11+
    return group is not None and isinstance(error, group)


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" if line else line for line in text.split("\n"))


def _display_path(filename: str) -> str:
    """The file name with the home directory shown as `~`, as IPython does."""
    home = os.path.expanduser("~")
    if home not in ("~", os.sep) and filename.startswith(home + os.sep):
        return "~" + filename[len(home):]
    return filename


class _CellNamer:
    """Names cell files (`Cell In[3]`) through the shell's compiler and spots IPython's and ipykernel's files."""

    def __init__(self, shell: Any) -> None:
        compiler = getattr(shell, "compile", None)
        self._format_code_name = getattr(compiler, "format_code_name", None)          # IPython 8.7+
        self._numbers: dict[str, int] = getattr(compiler, "_filename_map", None) or {}  # IPython 8.0-8.6
        self._labels: dict[str, str | None] = {}
        self._internal_roots = tuple(
            os.path.dirname(os.path.abspath(module.__file__)) + os.sep
            for module in (sys.modules.get(name) for name in ("IPython", "ipykernel"))
            if module is not None and getattr(module, "__file__", None)
        )

    def label(self, filename: str) -> str | None:
        """`Cell In[3]` for a cell's file, None for any other file."""
        if filename not in self._labels:
            self._labels[filename] = self._lookup(filename)
        return self._labels[filename]

    def _lookup(self, filename: str) -> str | None:
        if self._format_code_name is None:
            number = self._numbers.get(filename)
            return f"Cell In[{number}]" if number is not None else None
        try:
            named = self._format_code_name(filename)
        except Exception:  # noqa: BLE001 - a third-party compiler's bug must not lose the traceback
            return None
        if not named:
            return None
        kind, name = named
        return f"{kind} {name}"

    def is_internal(self, filename: str) -> bool:
        """A file inside the IPython or ipykernel package (the machinery that runs cells)."""
        return bool(self._internal_roots) and os.path.abspath(filename).startswith(self._internal_roots)
