"""Readable, version-independent names of Python types for messages and summaries (`pandas.DataFrame`)."""

from __future__ import annotations

import sys

__all__ = ["type_name"]


def type_name(kind: type, *, bare_main: bool = False) -> str:
    """`qualname` for builtins (and `__main__` with `bare_main`); else the shortest public path (`pandas.DataFrame`, not
    `pandas.core.frame.DataFrame`): the top-level package when it exports the type, else the full module."""
    module = kind.__module__ or ""
    if module == "builtins" or (bare_main and module == "__main__"):
        return kind.__qualname__
    top = module.split(".", 1)[0]
    package = sys.modules.get(top)
    if package is not None and getattr(package, kind.__name__, None) is kind:
        return f"{top}.{kind.__qualname__}"
    return f"{module}.{kind.__qualname__}"
