"""The notebook tools: Claude reads the notebook, adds and edits visible cells, and runs them (`read_notebook`,
`add_cell`, `edit_cell`, `run_cell`), through the page (`bridge`).

Consent: reading and adding are allowed (visible, undoable); editing a cell Claude added in this conversation and
this kernel, untouched since, is allowed (metadata alone is not trusted: a cloned notebook can forge it); editing any other cell asks; running asks, like `run_python`. Asking happens on
the cell itself (Run / Skip) when the page can show it, else in the console. `%config
ClaudeMagic.tool_policies` overrides any of these. Replay returns the recorded results: a notebook rebuilt by
Run All already holds the cells, and runs them itself.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable
from typing import Any, Literal

from ..core.events import Notice
from ..notebook.running_cell import current_execution, running_cell_id
from ..tools import execution
from ..tools.builtins import cell_output
from ..tools.consent import ask_in_console, format_request
from ..tools.context import ToolCall, running_call
from ..tools.output import ToolOutput
from ..tools.tool import Tool
from ..views.inert_markdown import inert_markdown
from . import provenance
from .bridge import FrontEnd, FrontEndUnavailable
from .outputs import nbformat_outputs, outputs_summary

__all__ = ["NotebookTools", "NOTEBOOK_TOOL_NAMES"]

NOTEBOOK_TOOL_NAMES = ("read_notebook", "add_cell", "edit_cell", "run_cell")
SOURCE_LIMIT = 6_000          # characters of one cell's source in `read_notebook`


class NotebookTools:
    """A tool source (`Toolbox.add_source`): the notebook tools, offered while a page can edit the notebook."""

    runs_in_kernel = True       # offered to the Claude Code engine too: they run here, not in the CLI

    def __init__(self, front: FrontEnd) -> None:
        self.front = front
        self._lock = threading.Lock()
        self._anchor: tuple[Any, str] | None = None          # (this turn's key, the last cell it added)
        self._cleaned: set[Any] = set()                       # turns whose predecessor's cells were replaced
        self._added: set[str] = set()     # cells this kernel added: metadata alone can be forged by a cloned notebook
        self._tools = [
            self._tool(self.read_notebook, "allow"),
            self._tool(self.add_cell, "allow"),
            self._tool(self.edit_cell, "ask", policy_for=self._edit_policy),
            self._tool(self.run_cell, "ask"),
        ]

    def _tool(self, function: Any, consent: str, policy_for: Any = None) -> Tool:
        item = Tool(_one_line_errors(function), consent=consent, main_thread=True, builtin=True)
        item.policy_for = policy_for
        item.approver = self._approver
        item.replays_recorded = True
        item.fingerprinted = False
        return item

    # -- the source ------------------------------------------------------------------------------
    def tools(self, names: Iterable[str] | None = None, *, start: bool = True) -> list[Tool]:
        """Offered (`start`) only while a page can edit the notebook; always known, so that a recorded call
        replays from its record where no page is (nbclient's Run All)."""
        if start and not self.front.wait_ready():
            return []
        return list(self._tools)

    @property
    def missing_reason(self) -> str:
        """Why the notebook tools are not offered now ("" when they are)."""
        return "" if self.front.ready else self.front.reason

    # -- consent ---------------------------------------------------------------------------------
    def _edit_policy(self, arguments: dict[str, Any]) -> str:
        running = running_call.get()
        try:
            cell = self._cell(str(arguments.get("cell_id", "")))
        except (FrontEndUnavailable, LookupError):
            return "ask"
        conversation = running.conversation if running is not None else None
        if (str(cell.get("id")) in self._added and provenance.made_by_claude(cell, conversation)
                and not provenance.user_edited(cell)):
            return "allow"
        return "ask"

    def _approver(self, call: ToolCall) -> bool:
        """Run / Skip on the cell the call would run or change; the console when the page can't ask."""
        cell_id = str(call.input.get("cell_id", ""))
        try:
            text = "" if call.name == "run_cell" else format_request(call)   # the cell itself shows what runs
            answer = self.front.request("consent", timeout=None, cell_id=cell_id, tool=call.name, text=text)
        except FrontEndUnavailable:
            return ask_in_console(call)
        return answer is True

    # -- the tools (their docstrings are Claude's instructions) ------------------------------------
    def read_notebook(self) -> str:
        """Read the user's notebook as it is on screen now, unsaved edits included.

        Lists every cell in order: its id, type, execution count, whether you added it, its source, and a
        short summary of its outputs. The `%%claude` cell you are answering is marked. Use the ids with
        edit_cell and run_cell.
        """
        self._replace_previous_cells()
        notebook = self.front.request("read")
        cells = notebook.get("cells") or []
        here = running_cell_id(execution.user_shell())
        lines = [f"Notebook {notebook.get('path') or '(unsaved)'}: {len(cells)} cells."]
        for index, cell in enumerate(cells):
            marks = [cell.get("cell_type", "code")]
            if cell.get("execution_count") is not None:
                marks.append(f"[{cell['execution_count']}]")
            if provenance.made_by_claude(cell):
                marks.append("added by Claude" + (", edited by the user" if provenance.user_edited(cell) else ""))
            if cell.get("id") == here:
                marks.append("the %%claude cell you are answering")
            source = _source(cell)
            if len(source) > SOURCE_LIMIT:
                source = source[:SOURCE_LIMIT] + f"\n… ({len(source) - SOURCE_LIMIT} more characters)"
            lines.append(f"--- cell {index} · id {cell.get('id')} · " + " · ".join(marks))
            lines.append(source)
            summary = outputs_summary(cell.get("outputs") or [])
            if summary:
                lines.append("--- outputs:")
                lines.append(summary)
        return "\n".join(lines)

    def add_cell(self, source: str, cell_type: Literal["code", "markdown"] = "code",
                 after_cell_id: str | None = None) -> str:
        """Add a visible cell to the user's notebook; the user sees it at once and can undo it.

        By default the cell goes after the `%%claude` cell you are answering, or after the last cell you
        added in this turn, so several calls build the notebook in order. A code cell does not run: call
        run_cell with the id this returns. Write code the user can re-run: one step per cell. Markdown
        cells are shown as text (no raw HTML, images as links).

        Args:
            source: The cell's full source.
            cell_type: "code" or "markdown".
            after_cell_id: Insert after this cell instead (an id from read_notebook).
        """
        if cell_type not in ("code", "markdown"):
            raise ValueError(f"cell_type must be 'code' or 'markdown', not {cell_type!r}")
        self._replace_previous_cells()
        running = running_call.get()
        prompt_cell = running_cell_id(execution.user_shell())
        key = self._turn_key()
        with self._lock:
            anchor = self._anchor[1] if self._anchor is not None and self._anchor[0] == key else None
        after = after_cell_id or anchor or prompt_cell
        if cell_type == "markdown":
            source = inert_markdown(source)
        mark = provenance.stamp(source, tool_use_id=running.id if running else "", prompt_cell=prompt_cell,
                                model=running.model if running else "",
                                conversation=running.conversation if running else "")
        added = self.front.request("add", cell_type=cell_type, source=source, after=after,
                                   metadata={provenance.KEY: mark})
        cell_id = str(added.get("id"))
        with self._lock:
            self._anchor = (key, cell_id)
            self._added.add(cell_id)
        where = f"after cell {after}" if after and added.get("placed_after") == after else "at the end"
        return (f"Added {cell_type} cell {cell_id} {where} (position {added.get('index')})."
                + (" It has not run: call run_cell to run it." if cell_type == "code" else ""))

    def edit_cell(self, cell_id: str, source: str) -> str:
        """Replace the whole source of a cell in the user's notebook (an id from read_notebook or add_cell).

        Editing a cell you added in this conversation needs no approval; editing the user's own cells asks
        them first. Editing does not run the cell: call run_cell.

        Args:
            cell_id: The cell to change.
            source: Its new full source.
        """
        self._replace_previous_cells()
        cell = self._cell(cell_id)
        if cell.get("cell_type") == "markdown":
            source = inert_markdown(source)
        metadata = None
        mark = (cell.get("metadata") or {}).get(provenance.KEY)
        if provenance.made_by_claude(cell) and isinstance(mark, dict):
            running = running_call.get()
            metadata = {provenance.KEY: {**mark, "source_sha256": provenance.source_hash(source),
                                         "edited_by": running.id if running else ""}}
        self.front.request("edit", cell_id=cell_id, source=source, metadata=metadata)
        return f"Cell {cell_id} has its new source." + (" It has not run." if cell.get("cell_type") == "code" else "")

    def run_cell(self, cell_id: str) -> ToolOutput:
        """Run a code cell of the user's notebook in the kernel, as if the user had run it.

        Its outputs (text, rich displays, figures, errors) appear in that cell with an execution count,
        and you get them back like run_python's. The user may be asked to approve the run on the cell.

        Args:
            cell_id: The code cell to run (an id from read_notebook or add_cell).
        """
        self._replace_previous_cells()
        cell = self._cell(cell_id)
        if cell.get("cell_type") != "code":
            raise ValueError(f"cell {cell_id} is a {cell.get('cell_type')} cell: only code cells run")
        shell = execution.user_shell()
        count = None
        if shell is not None:
            shell.execution_count += 1
            count = shell.execution_count
        self.front.notify("running", cell_id=cell_id)
        run = execution.run_cell(_source(cell), shell)
        self.front.request("outputs", cell_id=cell_id, outputs=nbformat_outputs(run, count or 0),
                           execution_count=count)
        output = cell_output(run)
        return ToolOutput(output.content, (), output.is_error)

    # -- helpers ---------------------------------------------------------------------------------
    def _cell(self, cell_id: str) -> dict[str, Any]:
        found = self.front.request("read", cell_id=cell_id)
        cells = found.get("cells") or []
        if not cells:
            raise LookupError(f"there is no cell with id {cell_id!r} (read_notebook lists the ids)")
        return cells[0]

    @staticmethod
    def _turn_key() -> Any:
        """What tells this turn's calls from the next turn's: the running cell's execution, else the call's turn."""
        return current_execution(execution.user_shell())

    def _replace_previous_cells(self) -> None:
        """Re-asked turn: remove the cells an earlier answer to the same `%%claude` cell added, unless the user
        changed them (those stay, and the cell says so). Once per turn, before its first notebook call."""
        running = running_call.get()
        key = self._turn_key()
        prompt_cell = running_cell_id(execution.user_shell())
        if running is None or running.replayed or key is None or prompt_cell is None:
            return
        with self._lock:
            if key in self._cleaned:
                return
            self._cleaned = {key}
        cells = (self.front.request("read").get("cells") or [])
        stale = [cell for cell in cells if provenance.made_by_claude(cell, running.conversation)
                 and (cell["metadata"][provenance.KEY].get("prompt_cell") == prompt_cell)]
        if not stale:
            return
        kept = [cell for cell in stale if provenance.user_edited(cell)]
        removed = [cell for cell in stale if not provenance.user_edited(cell)]
        if removed:
            self.front.request("delete", cell_ids=[cell["id"] for cell in removed])
        if running.emit is not None:
            text = f"Replaced {len(removed)} cell(s) the earlier answer to this cell added."
            if kept:
                text += (f" Kept {len(kept)} you edited: " + ", ".join(str(cell["id"]) for cell in kept) + ".")
            running.emit(Notice(text, "warning" if kept else "info"))


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _one_line_errors(function: Any) -> Any:
    """The tool, answering Claude in one line when the page can't do it or the cell is wrong (no traceback)."""
    @functools.wraps(function)
    def tool(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except FrontEndUnavailable as exc:
            return ToolOutput(f"The notebook could not be changed: {exc}.", is_error=True)
        except (LookupError, ValueError) as exc:
            return ToolOutput(f"{exc}.", is_error=True)

    return tool
