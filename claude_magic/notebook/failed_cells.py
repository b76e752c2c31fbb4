"""Remember the notebook's recent failed cells (`Err`) and build the `%claude fix` prompt from them.

`ErrorTracker.register(shell)` hooks IPython's `post_run_cell` event. For each failed cell it keeps an
`ErrorRecord`: the cell source, the exception's type and message and a plain-text traceback built from the
exception's frames (`tracebacks.cell_traceback`: cell frames as `Cell In[3], line 2`, no IPython frames, no
colours), never the exception object itself, so the failed frames and their locals can be freed. Only the
last `limit` records are kept.

Not recorded: silent cells (front-end internals), `%claude` / `%%claude` cells and claude-magic's own
errors (so `%claude fix` never tries to fix a Claude cell), and `KeyboardInterrupt` / `SystemExit`,
which are not bugs to explain.

`context_namespace(shell)` is the namespace for `$`...`` interpolation: the user's namespace plus `Err`,
a tuple of the records, oldest first (`Err[-1]` is the latest failure). A user variable named `Err`
wins over it.
"""

from __future__ import annotations

import contextlib
import re
import weakref
from collections import deque
from dataclasses import dataclass
from typing import Any

from ..core.errors import ClaudeMagicError
from .running_cell import request_cell_id

__all__ = [
    "ErrorRecord", "ErrorList", "ErrorTracker", "NoErrorToFix", "tracker_for", "untrack", "context_namespace",
    "fix_prompt",
]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_STORED_TRACEBACK = 20_000     # characters of traceback kept per record
_CLAUDE_CELL = re.compile(r"\s*%%?claude\b")


class NoErrorToFix(ClaudeMagicError):
    """`%claude fix` was asked for, but no cell has failed since the extension was loaded."""

    def __init__(self) -> None:
        super().__init__("No failed cell to fix: %claude fix explains the last cell that raised an exception, "
                         "and none has since claude-magic was loaded.")


@dataclass(frozen=True)
class ErrorRecord:
    """One failed cell: its source, the exception (type name and message) and the plain traceback."""

    source: str
    error_type: str
    message: str
    traceback: str
    execution_count: int | None = None
    cell_id: str | None = None

    @property
    def cell_label(self) -> str:
        """`In[3]` when the cell had a history number, else `the cell`."""
        return f"In[{self.execution_count}]" if self.execution_count is not None else "the cell"

    @property
    def summary(self) -> str:
        """`ZeroDivisionError: division by zero`."""
        return f"{self.error_type}: {self.message}" if self.message else self.error_type

    def _repr_claude_(self) -> str:
        return f"{self.summary}\nin {self.cell_label}:\n{self.source}\ntraceback:\n{self.traceback}"


class ErrorList(tuple[ErrorRecord, ...]):
    """The recent failures, oldest first, as `Err` in prompts; a bad index says how many there are."""

    def __getitem__(self, index: Any) -> Any:
        try:
            return super().__getitem__(index)
        except IndexError:
            raise IndexError(f"Err holds {len(self)} failed cell(s) (Err[-1] is the latest)") from None

    def _repr_claude_(self) -> str:
        if not self:
            return "(no failed cells recorded)"
        return "\n\n".join(f"Err[{position}]: {record._repr_claude_()}" for position, record in enumerate(self))


class ErrorTracker:
    """Keeps the last `limit` failed cells of one IPython shell."""

    def __init__(self, limit: int = 5) -> None:
        self._records: deque[ErrorRecord] = deque(maxlen=max(1, limit))
        self._shell: Any = None

    @property
    def errors(self) -> list[ErrorRecord]:
        """The recorded failures, oldest first."""
        return list(self._records)

    @property
    def last(self) -> ErrorRecord | None:
        """The latest failure, or None."""
        return self._records[-1] if self._records else None

    def register(self, shell: Any) -> None:
        """Listen to `shell`'s `post_run_cell` event; calling it again for the same shell does nothing."""
        if self._shell is shell:
            return
        self.unregister()
        shell.events.register("post_run_cell", self._post_run_cell)
        self._shell = shell

    def unregister(self) -> None:
        """Stop listening (the records are kept)."""
        if self._shell is not None:
            with contextlib.suppress(ValueError):  # already removed by someone else
                self._shell.events.unregister("post_run_cell", self._post_run_cell)
            self._shell = None

    def clear(self) -> None:
        """Forget the recorded failures."""
        self._records.clear()

    def _post_run_cell(self, result: Any) -> None:
        error = getattr(result, "error_before_exec", None) or getattr(result, "error_in_exec", None)
        info = getattr(result, "info", None)
        source = getattr(info, "raw_cell", "") or ""
        if (error is None or not isinstance(error, Exception) or isinstance(error, ClaudeMagicError)
                or getattr(info, "silent", False) or _CLAUDE_CELL.match(source)):
            return
        message = error.msg if isinstance(error, SyntaxError) and error.msg else str(error)
        self._records.append(ErrorRecord(
            source=source, error_type=_type_name(type(error)), message=" ".join(message.split())[:2000],
            traceback=_middle_truncate(self._traceback(error), _STORED_TRACEBACK, "traceback"),
            execution_count=getattr(result, "execution_count", None),
            cell_id=getattr(info, "cell_id", None) or request_cell_id(self._shell),   # IPython < 8.3: no cell_id
        ))

    def _traceback(self, error: Exception) -> str:
        """The plain traceback; a bug in building it must not break every failing cell."""
        from .tracebacks import cell_traceback  # imported on the first failed cell: `%load_ext` stays small

        try:
            text = cell_traceback(error, self._shell)
        except Exception:  # noqa: BLE001 - fall back to the bare `Type: message`
            text = f"{_type_name(type(error))}: {error}"
        return _ANSI.sub("", text).strip("\n")


_trackers: weakref.WeakKeyDictionary[Any, ErrorTracker] = weakref.WeakKeyDictionary()


def tracker_for(shell: Any) -> ErrorTracker:
    """The shell's error tracker, created and registered on first use."""
    tracker = _trackers.get(shell)
    if tracker is None:
        tracker = _trackers[shell] = ErrorTracker()
        tracker.register(shell)
    return tracker


def untrack(shell: Any) -> None:
    """Stop recording the shell's failures (`%unload_ext`); the records already made are kept."""
    tracker = _trackers.get(shell)
    if tracker is not None:
        tracker.unregister()


def context_namespace(shell: Any, tracker: ErrorTracker | None = None) -> dict[str, Any]:
    """The user's namespace plus `Err` (the recent failures), for `$`...`` interpolation."""
    errors = ErrorList((tracker or tracker_for(shell)).errors)
    return {"Err": errors, **shell.user_ns}


def fix_prompt(tracker: ErrorTracker, index: int = -1, *, source_budget: int = 8000,
               traceback_budget: int = 6000) -> str:
    """The `%claude fix` prompt: explain the failure `Err[index]` and propose a corrected cell."""
    records = tracker.errors
    if not records:
        raise NoErrorToFix()
    try:
        record = ErrorList(records)[index]
    except IndexError as error:
        raise ClaudeMagicError(f"%claude fix {index}: {error}.") from None
    source = _middle_truncate(record.source, source_budget, "cell")
    trace = _middle_truncate(record.traceback, traceback_budget, "traceback")
    return (
        f"A cell in my notebook ({record.cell_label}) failed with {record.summary}\n\n"
        "Explain briefly what went wrong and why, then propose a corrected version of the whole cell as a single "
        "```python code block that I can paste in its place. Keep my intent and my variable names; if the fix "
        "needs something outside this cell (a missing import, data, an earlier cell), say so. Do not run the "
        "corrected cell: I will review it and run it myself.\n\n"
        f"The cell:\n{_fenced(source, 'python')}\n\n"
        f"The traceback:\n{_fenced(trace, '')}"
    )


def _fenced(text: str, language: str) -> str:
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def _middle_truncate(text: str, budget: int, what: str) -> str:
    """`text`, or its start and (longer) end around a note, cut at line breaks: tracebacks matter most at the end."""
    if len(text) <= budget:
        return text
    head = text[: budget // 4]
    head = head[: head.rfind("\n") + 1] or head
    tail = text[-(budget - len(head)):]
    tail = tail[tail.find("\n") + 1:] if "\n" in tail[:-1] else tail
    omitted = len(text) - len(head) - len(tail)
    return f"{head}[... {omitted:,} characters of the {what} omitted ...]\n{tail}"


def _type_name(kind: type) -> str:
    module = kind.__module__
    return kind.__qualname__ if module in ("builtins", "__main__") else f"{module}.{kind.__qualname__}"
