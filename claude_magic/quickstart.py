"""`python -m claude_magic.quickstart`: open (or run) the quick-start notebook, offline if there is no key."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["main", "notebook_path"]


def notebook_path(name: str = "quickstart.ipynb") -> Path:
    """A shipped notebook: package data of an installed wheel (claude_magic/notebooks/), or notebooks/ of a
    source checkout."""
    here = Path(__file__).resolve().parent
    for folder in (here / "notebooks", here.parent / "notebooks"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"{name} is not shipped with this installation of claude-magic")


def _has_credential() -> bool:
    """Whether `%%claude` would find a way to Claude: an API credential (key, token, profile, federation)
    or a Claude Code login: what `ClaudeMagic.engine = "auto"` looks for."""
    from .core.errors import ClaudeMagicError
    from .core.settings import Settings
    from .engines.selection import choose_engine

    try:
        choose_engine(Settings())
    except ClaudeMagicError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m claude_magic.quickstart", description=__doc__)
    parser.add_argument("--run", action="store_true",
                        help="execute the notebook headless and print its answers instead of opening JupyterLab")
    parser.add_argument("--local", action="store_true", help="use the local test server even if a credential is found")
    arguments = parser.parse_args(argv)
    server = None
    if arguments.local or not _has_credential():
        from .testing import LocalServer

        server = LocalServer()
        server.start()
        os.environ["ANTHROPIC_BASE_URL"] = server.base_url
        os.environ["ANTHROPIC_API_KEY"] = "local-test-key"
        reason = "--local" if arguments.local else "No credential found (API key, profile or Claude Code login)"
        print(f"{reason}: using the local test server at {server.base_url} (canned answers).\n"
              "Set ANTHROPIC_API_KEY=sk-ant-... or log in to Claude Code to talk to Claude for real "
              "(`%claude auth` shows what is found).", flush=True)
    try:
        if arguments.run:
            return _run(notebook_path())
        return subprocess.call([sys.executable, "-m", "jupyter", "lab", str(notebook_path())])
    except KeyboardInterrupt:
        return 0
    finally:
        if server is not None:
            server.stop()


def _run(path: Path) -> int:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(path, as_version=4)
    try:
        NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    except CellExecutionError as error:
        print(str(error).splitlines()[-1], file=sys.stderr)
        return 1
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        print(f"\n>>> {cell.source}")
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            text = data.get("text/plain") or data.get("text/markdown") or output.get("text", "")   # plain: no `\$` escapes
            if text:
                print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
