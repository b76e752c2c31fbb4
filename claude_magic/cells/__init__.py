"""Claude builds the notebook: visible cells it adds, edits and runs, through claude-magic's JupyterLab extension.

`bridge` is the comm pair to the page, `tools` the notebook tools (a tool source the session's toolbox
offers while a page can edit the notebook), `outputs` and `provenance` what goes into a cell.
"""

from __future__ import annotations

from .bridge import FrontEnd, FrontEndUnavailable, front_end

__all__ = ["FrontEnd", "FrontEndUnavailable", "front_end", "notebook_tools"]

_source = None


def notebook_tools() -> object:
    """The kernel's one notebook tool source (starts the page handshake the first time)."""
    global _source
    if _source is None:
        from .tools import NotebookTools

        front = front_end()
        front.start()
        _source = NotebookTools(front)
    return _source
