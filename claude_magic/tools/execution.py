"""Running code in the user's namespace like a notebook cell, capturing what it prints, shows and raises."""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import itertools
import linecache
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import CodeType
from typing import Any

from . import figures

__all__ = ["CellRun", "run_cell", "user_shell", "user_namespace"]

Bundle = tuple[dict[str, Any], dict[str, Any]]
_counter = itertools.count(1)


@dataclass
class CellRun:
    """Everything one run produced; `error` is a formatted traceback."""

    stdout: str = ""
    stderr: str = ""
    outputs: list[Bundle] = field(default_factory=list)        # display() calls, in order
    result: Bundle | None = None                               # the last expression's formatted value
    figures: list[tuple[bytes, str]] = field(default_factory=list)  # (PNG, description) of new/changed figures
    error: str | None = None


def user_shell() -> Any:
    """The running IPython shell, or None in plain Python."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    return ipython.get_ipython()


def user_namespace(shell: Any = None) -> dict[str, Any]:
    """The namespace cells run in: the shell's `user_ns`, else `__main__`'s globals."""
    shell = shell if shell is not None else user_shell()
    if shell is not None:
        return shell.user_ns
    return vars(sys.modules["__main__"])


def run_cell(code: str, shell: Any = None) -> CellRun:
    """Run `code` like a cell: IPython syntax, the last expression's value, figures; never raises for its errors.

    KeyboardInterrupt (Ctrl-C, or a time limit's SIGINT) propagates after the capture is undone.
    """
    shell = shell if shell is not None else user_shell()
    namespace = user_namespace(shell)
    run = CellRun()
    filename = f"<claude-run_python-{next(_counter)}>"
    try:
        source = shell.transform_cell(code) if shell is not None else code
        body, last = _compile(source, filename)
    except SyntaxError as exc:
        run.error = "".join(traceback.format_exception_only(type(exc), exc)).rstrip()
        return run
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    before = figures.snapshot()
    value: Any = None
    with _capture(shell) as (stdout, stderr, outputs):
        try:
            _execute(body, namespace)
            if last is not None:
                value = _execute(last, namespace)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - the code's failure is its result
            run.error = _format_error(exc, filename)
    run.stdout, run.stderr, run.outputs = stdout.getvalue(), stderr.getvalue(), list(outputs)
    if value is not None and not source.rstrip().endswith(";"):
        run.result = _format_value(value, shell)
    # a Figure shown as the result (inline backend: as PNG) is not sent a second time
    shown = figures.as_figure(value) if run.result is not None and "image/png" in run.result[0] else None
    changed = figures.changed_figures(before)
    for figure in changed:
        if figure is not shown:
            run.figures.append((figures.figure_png(figure), figures.describe_figure(figure)))
    figures.close_if_inline(changed)
    return run


def _compile(source: str, filename: str) -> tuple[CodeType, CodeType | None]:
    """The cell's statements, and its last expression separately (None if it ends with a statement)."""
    tree = ast.parse(source, filename=filename)
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        expression = ast.Expression(tree.body.pop().value)
        last = compile(expression, filename, "eval", flags=flags, dont_inherit=True)
    return compile(tree, filename, "exec", flags=flags, dont_inherit=True), last


def _execute(code: CodeType, namespace: dict[str, Any]) -> Any:
    """Evaluate compiled code; top-level `await` runs on the tools' private loop."""
    value = eval(code, namespace)  # noqa: S307 - running the user's (consented) code is the point
    if code.co_flags & inspect.CO_COROUTINE:
        from .asyncloop import shared_loop

        future = shared_loop().submit(value)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise
    return value


@contextlib.contextmanager
def _capture(shell: Any) -> Iterator[tuple[io.StringIO, io.StringIO, list[Bundle]]]:
    """Capture stdout, stderr and `display()` calls (through the shell's display publisher)."""
    stdout, stderr, outputs = io.StringIO(), io.StringIO(), []
    publisher = saved = None
    if shell is not None:
        from IPython.core.displaypub import CapturingDisplayPublisher

        publisher, saved = CapturingDisplayPublisher(), shell.display_pub
        shell.display_pub = publisher
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            yield stdout, stderr, outputs
    finally:
        if publisher is not None:
            shell.display_pub = saved
            outputs.extend((item["data"], item.get("metadata") or {}) for item in publisher.outputs)


def _format_value(value: Any, shell: Any) -> Bundle:
    """The value's rich formatting, as IPython would show it as `Out[...]`."""
    if shell is not None:
        try:
            data, metadata = shell.display_formatter.format(value)
            if data:
                return data, metadata
        except Exception:  # noqa: BLE001,S110 - fall back to repr below
            pass
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001 - a broken __repr__ is reported, not raised
        text = f"<{type(value).__qualname__} object (repr failed: {exc})>"
    return {"text/plain": text}, {}


def _format_error(exc: BaseException, filename: str) -> str:
    """The traceback from the cell's own frames on (the runner's frames left out)."""
    summary = traceback.TracebackException.from_exception(exc)
    frames = list(summary.stack)
    for index, frame in enumerate(frames):
        if frame.filename == filename:
            frames = frames[index:]
            break
    summary.stack = traceback.StackSummary.from_list(frames)
    return "".join(summary.format()).rstrip()
