"""The store's seams with the session: what a store reads of the session, and what the session keeps of a store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..core.conversation import Conversation
    from ..core.events import TurnFinished
    from ..replay.planner import ReplayPlanner

__all__ = ["SessionStore", "StoredSession"]


class SessionStore(Protocol):
    """What the session and the `%claude` commands use of the notebook's store (`NotebookStore`)."""

    path: Path

    def listener(self, event: TurnFinished) -> None:
        """Save after a turn (a `Session.listeners` entry)."""

    def save_soon(self) -> None:
        """Save in the background (a command changed a conversation)."""

    def flush(self, timeout: float = 10.0) -> bool:
        """Finish pending writes."""

    def restore(self, *, replace: bool = False, path: Path | None = None, accept: bool = False) -> tuple[int, int]:
        """Read the saved conversations into the session: (conversations, turns)."""

    def forget(self) -> tuple[int, int, bool]:
        """Delete the saved conversations and the session's: (conversations, turns, whether a file was deleted)."""

    def report_problems(self) -> None:
        """Show once what could not be read or written."""


class StoredSession(Protocol):
    """What a store reads and sets of the session it keeps (`claude_magic.session.Session`)."""

    conversations: dict[str, Conversation]
    replays: ReplayPlanner
    listeners: list[Callable[[TurnFinished], None]]
    store: SessionStore | None
