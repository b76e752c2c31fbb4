"""Where the store lives: the kernel's notebook (from its environment) and `ClaudeMagic.store`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["notebook_path", "store_path", "STORE_FOLDER"]

STORE_FOLDER = ".claude_magic"


def notebook_path(shell: Any = None, environ: dict[str, str] | None = None) -> Path | None:
    """The notebook this kernel runs: VS Code's `__vsc_ipynb_file__`, else Jupyter Server's `JPY_SESSION_NAME`.

    Jupyter Server gives an absolute path, or one relative to its root (the kernel starts in the
    notebook's folder); a console's session name that is no notebook file counts as none.
    """
    namespace = getattr(shell, "user_ns", None) or {}
    vscode = namespace.get("__vsc_ipynb_file__")
    if isinstance(vscode, str) and vscode:
        return Path(vscode).expanduser().absolute()
    name = (environ if environ is not None else os.environ).get("JPY_SESSION_NAME", "")
    if not name:
        return None
    path = Path(name).expanduser()
    if not path.is_absolute():
        here = Path.cwd()
        candidates = [here / path, here / path.name]
        path = next((candidate for candidate in candidates if candidate.is_file()), here / path.name)
    if path.suffix != ".ipynb" and not path.is_file():
        return None
    return path.absolute()


def store_path(setting: bool | str | None, notebook: Path | None) -> Path | None:
    """The store file for `ClaudeMagic.store`: True → beside the notebook; a `.json` path → that file; another
    path → a folder holding `NOTEBOOK.json`; False, "" or None → no store. No notebook and no path: none."""
    if setting is None or setting is False or setting == "":
        return None
    if setting is True:
        return notebook.parent / STORE_FOLDER / f"{notebook.name}.json" if notebook is not None else None
    path = Path(str(setting)).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    if path.suffix.lower() == ".json":
        return path
    return path / (f"{notebook.name}.json" if notebook is not None else "ipython.json")
