"""The built-in workspace tools Claude sees: run Python, list and inspect variables, DataFrames, figures.

Their docstrings are Claude's instructions. Each can be turned off with `ClaudeMagic.disabled_tools`.
"""

from __future__ import annotations

from typing import Any

from . import execution, figures, inspection
from .bundles import MimeBundle
from .output import ToolOutput
from .tool import Tool

__all__ = ["run_python", "list_variables", "inspect_variable", "describe_dataframe", "current_figure",
           "builtin_tools", "BUILTIN_NAMES"]


def run_python(code: str) -> ToolOutput:
    """Run Python code in the user's live notebook kernel, exactly like a notebook cell.

    The code shares the user's namespace: it sees their variables, and names it defines stay defined
    for the user and for later calls. IPython syntax works (%magics, !shell commands). You get back
    stdout, stderr, the value of the last expression (as in a cell, so end with an expression to see a
    value), rich outputs as text, and every figure the code creates or changes as an image. Errors come
    back with their traceback. The user may be asked to approve each call and sees all outputs in full;
    keep code short and focused, avoid long-running work, and never modify or delete the user's data
    unless they asked for it.

    Args:
        code: Python source to run, one or more statements.
    """
    run = execution.run_cell(code)
    return cell_output(run)


def cell_output(run: execution.CellRun) -> ToolOutput:
    """Claude's text/image view of a cell run, and the user's rich view of it."""
    texts: list[str] = []
    images: list[dict[str, Any]] = []
    display: list[Any] = []
    if run.stdout:
        texts.append("stdout:\n" + run.stdout.rstrip("\n"))
        display.append(MimeBundle.text(run.stdout, "stdout"))
    if run.stderr:
        texts.append("stderr:\n" + run.stderr.rstrip("\n"))
        display.append(MimeBundle.text(run.stderr, "stderr"))
    for data, metadata in run.outputs:
        display.append(MimeBundle(data, metadata, "display"))
        texts.append("display:\n" + _text_of(data))
        images.extend(_images_of(data))
    for png, description in run.figures:
        display.append(figures.figure_bundle(png, description))
        texts.append(description)
        images.append(figures.image_block(png))
    if run.result is not None:
        data, metadata = run.result
        display.append(MimeBundle(data, metadata, "result"))
        texts.append("result:\n" + _text_of(data))
        images.extend(_images_of(data))
    if run.error is not None:
        display.append(MimeBundle.text(run.error, "error"))
        texts.append("error:\n" + run.error)
    if not texts:
        texts.append("(no output: nothing was printed and the code does not end with an expression)")
    text = "\n\n".join(texts)
    content: str | list[dict[str, Any]] = [{"type": "text", "text": text}, *images] if images else text
    return ToolOutput(content, tuple(display), is_error=run.error is not None)


def _text_of(data: dict[str, Any]) -> str:
    """The best text rendering: Markdown/LaTeX when present (their text/plain is often a bare repr)."""
    for mime in ("text/markdown", "text/latex", "text/plain", "text/html"):
        value = data.get(mime)
        if value:
            return value if isinstance(value, str) else "".join(value)
    return "[" + ", ".join(sorted(data)) + "]"


def _images_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = []
    for mime in ("image/png", "image/jpeg"):
        value = data.get(mime)
        if isinstance(value, bytes):
            import base64

            value = base64.b64encode(value).decode("ascii")
        if isinstance(value, str) and value:
            blocks.append({"type": "image", "source": {"type": "base64", "media_type": mime,
                                                      "data": value.replace("\n", "")}})
    return blocks


def list_variables(pattern: str | None = None) -> str:
    """List the variables in the user's notebook: name, type, shape or length, and a short preview.

    Use it first to see what data the user has. Functions and classes are listed with their
    signatures; imported modules are summarized on one line.

    Args:
        pattern: Optional glob pattern for names, e.g. "df*".
    """
    shell = execution.user_shell()
    hidden = set(getattr(shell, "user_ns_hidden", {}) or {}) if shell is not None else set()
    return inspection.list_variables_text(execution.user_namespace(shell), hidden, pattern)


def inspect_variable(name: str) -> str:
    """Show one variable of the user's notebook in detail: type, size, dtype, full repr, attributes.

    For functions and classes: signature, docstring and source. Dotted names reach attributes
    (e.g. "model.coef_"). Reading a variable never changes it.

    Args:
        name: The variable name, or a dotted path to an attribute.
    """
    return inspection.inspect_text(inspection.resolve(execution.user_namespace(), name), name)


def describe_dataframe(name: str, rows: int = 5) -> str:
    """Describe a pandas or polars DataFrame (or Series) in the user's notebook.

    Gives the shape, column dtypes, missing values per column, the first rows and summary statistics.
    Prefer this over printing a whole DataFrame.

    Args:
        name: The variable name (a dotted path also works).
        rows: How many first rows to show (0-50).
    """
    value = inspection.resolve(execution.user_namespace(), name)
    return inspection.describe_dataframe_text(value, name, rows)


def current_figure(name: str | None = None) -> ToolOutput:
    """Look at a matplotlib figure in the user's notebook, as an image.

    Without a name: the current pyplot figure. With a name: the Figure or Axes stored in that
    variable. Figures that run_python creates are already returned by run_python.

    Args:
        name: Optional variable holding a Figure or Axes.
    """
    if name:
        figure = figures.as_figure(inspection.resolve(execution.user_namespace(), name))
        if figure is None:
            return ToolOutput(f"{name} is not a matplotlib Figure or Axes.", is_error=True)
    else:
        plt = figures.pyplot()
        if plt is None or not plt.get_fignums():
            return ToolOutput("There is no open matplotlib figure (with the inline backend, figures close when "
                              "their cell ends; pass the name of a variable holding a Figure).", is_error=True)
        figure = plt.gcf()
    png = figures.figure_png(figure)
    description = figures.describe_figure(figure)
    return ToolOutput([{"type": "text", "text": description}, figures.image_block(png)],
                      (figures.figure_bundle(png, description),))


BUILTIN_NAMES = ("run_python", "list_variables", "inspect_variable", "describe_dataframe", "current_figure")


def builtin_tools() -> list[Tool]:
    """Fresh `Tool` objects for the built-ins, in the order they are offered."""
    return [
        Tool(run_python, consent="ask", main_thread=True, builtin=True),
        Tool(list_variables, builtin=True),
        Tool(inspect_variable, builtin=True),
        Tool(describe_dataframe, builtin=True),
        Tool(current_figure, main_thread=True, builtin=True),
    ]
