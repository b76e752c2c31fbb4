"""The cell that loads the extension starts importing the first turn's packages in the background (issue 23),
without reviving the CPython 3.11 AST race: anyio comes from the main thread, and nothing is parsed to an
AST on the import thread. `%load_ext` itself stays lazy (tests/core/test_import.py)."""

from __future__ import annotations

from .test_early_imports import first_importer

LOAD_THEN_WAIT = """
import ast, builtins, threading
from IPython.testing.globalipapp import start_ipython

ast_off_main = []
_compile = builtins.compile

def compile(source, filename, mode, flags=0, *args, **kwargs):
    if flags & ast.PyCF_ONLY_AST and threading.current_thread() is not threading.main_thread():
        ast_off_main.append((threading.current_thread().name, filename))
    return _compile(source, filename, mode, flags, *args, **kwargs)

builtins.compile = compile
shell = start_ipython()
shell.run_cell("%load_ext claude_magic")
[importer] = [thread for thread in threading.enumerate() if thread.name == "claude-magic-first-turn-import"]
importer.join(120)
from claude_magic.core.early_imports import FIRST_TURN_MODULES
import importlib.util
missing = [name for name in FIRST_TURN_MODULES if importlib.util.find_spec(name) and name not in sys.modules]
assert not missing, missing
assert not ast_off_main, ast_off_main
"""


def test_the_first_turns_packages_are_imported_after_the_loading_cell_with_anyio_from_the_main_thread() -> None:
    assert first_importer(LOAD_THEN_WAIT) == "MainThread"
