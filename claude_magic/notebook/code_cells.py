"""`%%claude --code`: ask for one code cell, take the code out of the answer, put it in a new cell below.

The kernel cannot see the notebook: it can ask the front end to insert a cell below the running one
(`shell.set_next_input(code, replace=False)`, a payload JupyterLab, Notebook 7 and VS Code honour), but it
cannot find, update or delete a cell it inserted earlier. So `CodeInserter` does the honest thing:

- the first run of a `%%claude --code` cell inserts the code in a new cell below, never running it;
- a re-run of the same cell (same `cell_id`, or the same cell source when the front end sends no cell id)
  does not insert a second cell: the result says `inserted=False` with a note, and the caller shows the new
  code in the cell's output so it can be copied into the cell inserted earlier (or anywhere);
- `force=True` (for an explicit option) inserts anyway;
- in terminal IPython nothing stacks (the code only pre-fills the next prompt), so every run inserts.

Code is never executed here.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

__all__ = ["CODE_SYSTEM_PROMPT", "extract_code", "CodeInsertion", "CodeInserter", "with_code_instruction"]

CODE_SYSTEM_PROMPT = (
    "You write code for the user's Jupyter notebook. Answer with exactly one fenced Python code block "
    "(```python ... ```) holding one complete notebook cell, and nothing else: no explanation before or after "
    "it. Put anything the user must know in short comments inside the code. Use the variables, data and imports "
    "that already exist in the user's session when the request refers to them instead of re-creating them. "
    "The cell will be inserted into the notebook for the user to review and run; it is not run for them."
)



def with_code_instruction(prompt: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The prompt with the `--code` instruction after it, in the cell's own user turn: the system prompt, and so the
    cached prefix of tools, system and earlier turns, stays as every other cell sends it (issue 25, point 5)."""
    blocks = [{"type": "text", "text": prompt}] if isinstance(prompt, str) else list(prompt)
    return [*blocks, {"type": "text", "text": f"(Instruction for this cell: {CODE_SYSTEM_PROMPT})"}]


_OPENING = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\s`]*)[^`\n]*$")
_PYTHON_INFO = frozenset({"", "python", "py", "python3", "py3", "ipython", "ipython3", "jupyter"})
_REMEMBERED_CELLS = 256


def extract_code(text: str) -> str:
    """The code of the first Python (or untagged) fenced block, else of the first fenced block, else all of `text`.

    Fence lines are removed; an unclosed fence (a cut-off answer) runs to the end of the text.
    """
    blocks = _fenced_blocks(text)
    if not blocks:
        return text.strip("\n").rstrip()
    python = [code for info, code in blocks if info.lower() in _PYTHON_INFO]
    return (python or [blocks[0][1]])[0]


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(info string, content) of each fenced block, in order (CommonMark-style fences)."""
    lines = text.splitlines()
    blocks: list[tuple[str, str]] = []
    position = 0
    while position < len(lines):
        opening = _OPENING.match(lines[position])
        if opening is None:
            position += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = position + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        body = [_dedent(line, indent) for line in lines[position + 1:end]]
        blocks.append((opening["info"], "\n".join(body).strip("\n").rstrip()))
        position = end + 1
    return blocks


def _dedent(line: str, indent: int) -> str:
    stripped = len(line) - len(line.lstrip(" "))
    return line[min(indent, stripped):]


@dataclass(frozen=True)
class CodeInsertion:
    """What `CodeInserter.insert` did: `inserted` False means "show `code` and `note` in the output"."""

    code: str
    inserted: bool
    note: str | None = None


class CodeInserter:
    """Inserts generated code below the running cell, at most once per notebook cell (see the module doc)."""

    def __init__(self, shell: Any, *, dedupe: bool | None = None) -> None:
        """`dedupe` None: avoid duplicates only in a kernel (notebook) — a terminal does not stack cells."""
        self._shell = shell
        self._dedupe = dedupe
        self._inserted: OrderedDict[str, str] = OrderedDict()   # cell key → code inserted for it

    def insert(self, code: str, *, cell_id: str | None = None, cell_source: str | None = None,
               force: bool = False) -> CodeInsertion:
        """Put `code` in a new cell below unless this cell already did on an earlier run."""
        key = self._key(cell_id, cell_source)
        if key is not None and not force and key in self._inserted:
            self._inserted.move_to_end(key)
            if self._inserted[key] == code:
                return CodeInsertion(code, False, "Same code as the cell this cell inserted below on an earlier run: "
                                                  "no new cell added.")
            return CodeInsertion(code, False, "This cell already inserted a code cell below on an earlier run; "
                                              "to avoid a duplicate cell the new code is shown here instead.")
        self._shell.set_next_input(code, replace=False)
        if key is not None:
            self._inserted[key] = code
            while len(self._inserted) > _REMEMBERED_CELLS:
                self._inserted.popitem(last=False)
        return CodeInsertion(code, True)

    def forget(self, *, cell_id: str | None = None, cell_source: str | None = None) -> None:
        """Let the given cell insert again on its next run."""
        key = self._key(cell_id, cell_source, check_dedupe=False)
        if key is not None:
            self._inserted.pop(key, None)

    def clear(self) -> None:
        """Let every cell insert again."""
        self._inserted.clear()

    def _key(self, cell_id: str | None, cell_source: str | None, *, check_dedupe: bool = True) -> str | None:
        dedupe = self._dedupe if self._dedupe is not None else getattr(self._shell, "kernel", None) is not None
        if check_dedupe and not dedupe:
            return None
        if cell_id:
            return f"id:{cell_id}"
        if cell_source is not None:
            return "source:" + hashlib.sha256(cell_source.strip().encode("utf-8", "surrogatepass")).hexdigest()
        return None
