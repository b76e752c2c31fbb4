"""One notebook's store: restored when attached, saved after every turn on a writer thread, forgotten on demand.

Saving is off the hot path: after a turn the changed conversations are snapshotted (shallow copies, a few
microseconds) and a daemon thread serializes and writes them. Every write holds the store's lock file
(fcntl/msvcrt) for a read-merge-write: per conversation, the last writer wins, and conversations this kernel
did not change are left as another kernel wrote them. Writes are atomic (temp file + os.replace). A file
that cannot be read (corrupt, or from a newer claude-magic) is renamed aside with one line; a folder that
cannot be written gives one line and the session goes on without persisting.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..events import TurnFinished
from .document import Snapshot, StoreUnreadable, conversation_of, merge, parse, render, snapshot
from .files import atomic_write, locked, set_aside
from .location import notebook_path, store_path

if TYPE_CHECKING:
    from ..conversation import Conversation
    from ..session import Session

__all__ = ["NotebookStore", "attach_store", "detach_store"]

PREFIX = "claude-magic:"


class NotebookStore:
    """The store file of one session's notebook (`path`), kept in step with the session's conversations."""

    def __init__(self, session: Session, path: Path, notebook: Path | None = None) -> None:
        self.session = session
        self.path = path
        self.notebook = notebook
        self.writable = True
        self.saves = 0                                   # files written (tests, benchmarks)
        self._synced: dict[str, tuple[Any, ...]] = {}    # name -> what the file holds of it, as a change key
        self._pending: dict[str, Snapshot] = {}
        self._known: tuple[tuple[int, int, int], dict[str, dict[str, Any]]] | None = None
        self._problems: list[str] = []
        self._probed = False
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        state = "saving" if self.writable else "read-only"
        return f"<NotebookStore {self.path} ({state})>"

    # -- restoring -------------------------------------------------------------------------------
    def restore(self, *, replace: bool = False, path: Path | None = None) -> tuple[int, int]:
        """Read the store into the session: (conversations, turns) restored. Without `replace`, only
        conversations that are empty in this kernel are filled. An unreadable file is set aside (one line)."""
        source = path or self.path
        entries = self._read(source)
        if entries is None:
            return 0, 0
        restored: list[str] = []
        turns = 0
        for name, entry in entries.items():
            current = self.session.conversations.get(name)
            if current is not None and current.turns and not replace:
                continue
            conversation = conversation_of(name, entry)
            self.session.conversations[name] = conversation
            restored.append(name)
            turns += len(conversation)
            if source == self.path:
                self._synced[name] = _change_key(conversation)
        self.session.replays.restored(restored)
        if source != self.path:
            self.save_soon()
        return len(restored), turns

    def _read(self, source: Path) -> dict[str, dict[str, Any]] | None:
        """The parsed file, or None (missing, or unreadable and set aside with one line)."""
        try:
            text = source.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            self._say(f"{PREFIX} cannot read {source} ({_reason(error)}): starting without its conversations.")
            return None
        try:
            entries = parse(text)
        except StoreUnreadable as error:
            aside = self._set_aside(source, "newer" if error.newer else "corrupt")
            self._say(f"{PREFIX} {source} is {'' if error.newer else 'not a usable store: '}{error}; {aside}, "
                      "and this session starts without its conversations.")
            return None
        return entries

    def _set_aside(self, source: Path, why: str) -> str:
        try:
            with locked(source):
                return f"kept as {set_aside(source, why).name}"
        except OSError as error:
            self.writable = self.writable and source != self.path
            return f"left in place (cannot rename it: {_reason(error)})"

    # -- saving ----------------------------------------------------------------------------------
    def listener(self, event: TurnFinished) -> None:
        """`Session.listeners` entry: save after every turn."""
        self.save_soon()

    def save_soon(self) -> None:
        """Snapshot the conversations changed since the last save and hand them to the writer thread."""
        if not self.writable or not self._probe():
            return
        with self._lock:                        # a cell and a chat panel may finish turns at once
            changed: dict[str, Snapshot] = {}
            for name, conversation in list(self.session.conversations.items()):
                key = _change_key(conversation)
                if self._synced.get(name) != key and (conversation.turns or conversation.messages
                                                      or name in self._synced):
                    changed[name] = snapshot(conversation)
                    self._synced[name] = key
            if not changed:
                return
            self._pending.update(changed)
            self._idle.clear()
            if self._thread is None:
                self._thread = threading.Thread(target=self._write_loop, name="claude-magic-store", daemon=True)
                self._thread.start()
        self._wake.set()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every snapshot handed over is written (True) or `timeout` passes (False)."""
        return self._idle.wait(timeout)

    def _probe(self) -> bool:
        """Once, on the first save: can this folder be written? If not, one line, and no persisting."""
        if self._probed:
            return self.writable
        self._probed = True
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with locked(self.path):
                pass
        except OSError as error:
            self.writable = False
            self._say(f"{PREFIX} cannot save conversations in {self.path.parent} ({_reason(error)}): this "
                      "session goes on without persisting them (`%config ClaudeMagic.store = 'PATH'` moves the store).")
        return self.writable

    def _write_loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                pending, self._pending = self._pending, {}
            if pending and self.writable:
                try:
                    self._write(pending)
                except (OSError, ValueError) as error:
                    self.writable = False
                    self._say(f"{PREFIX} saving the conversations to {self.path} failed ({_reason(error)}): "
                              "this session goes on without persisting them.")
            with self._lock:
                if not self._pending:
                    self._idle.set()

    def _write(self, pending: dict[str, Snapshot]) -> None:
        """Read-merge-write under the lock: ours replace the conversations we changed, the rest stay."""
        ours = {name: item.to_dict() for name, item in pending.items()}
        with locked(self.path):
            merged = merge(self._on_disk(), ours)
            atomic_write(self.path, render(merged, self.notebook.name if self.notebook else ""))
            self._known = (_signature(self.path), merged)
        self.saves += 1

    def _on_disk(self) -> dict[str, dict[str, Any]]:
        """What the file holds now (re-read only when someone else wrote it since our last write)."""
        signature = _signature(self.path)
        if signature is None:
            return {}
        if self._known is not None and self._known[0] == signature:
            return self._known[1]
        try:
            return parse(self.path.read_text(encoding="utf-8"))
        except StoreUnreadable as error:
            aside = set_aside(self.path, "newer" if error.newer else "corrupt")
            self._say(f"{PREFIX} {self.path} had become unreadable ({error}); kept as {aside.name}.")
            return {}

    # -- forgetting ------------------------------------------------------------------------------
    def forget(self) -> tuple[int, int, bool]:
        """Delete the store file and every conversation of this kernel: (conversations, turns, file deleted)."""
        self.flush()
        conversations = [item for item in self.session.conversations.values() if item.turns]
        turns = sum(len(item) for item in conversations)
        for item in self.session.conversations.values():
            item.reset()
        self.session.replays.clear()
        deleted = False
        try:
            with locked(self.path):
                if self.path.exists():
                    self.path.unlink()
                    deleted = True
        except FileNotFoundError:
            pass
        self._synced = {name: _change_key(item) for name, item in self.session.conversations.items()}
        self._known = None
        return len(conversations), turns, deleted

    # -- problems --------------------------------------------------------------------------------
    def _say(self, line: str) -> None:
        """One line for the user: now on the main thread (the running cell), else at the next command."""
        if threading.current_thread() is threading.main_thread():
            print(line, file=sys.stderr)
        else:
            with self._lock:
                self._problems.append(line)

    def report_problems(self) -> None:
        """Print the lines the writer thread left (called by the magics in the foreground)."""
        with self._lock:
            lines, self._problems = self._problems, []
        for line in lines:
            print(line, file=sys.stderr)


def _change_key(conversation: Conversation) -> tuple[Any, ...]:
    """Changes whenever a turn is added, dropped, replaced or re-tagged, or the conversation object is replaced."""
    return (id(conversation), len(conversation.messages),
            tuple((record.id, record.cell_id, record.request_hash) for record in conversation.turns))


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


def _reason(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def attach_store(session: Session, shell: Any, setting: bool | str | None, *,
                 restore: bool = True) -> NotebookStore | None:
    """Give the session the store `ClaudeMagic.store` names for this kernel's notebook (None: nothing kept),
    restore it into empty conversations and save after every turn. Replaces an attached store elsewhere."""
    path = store_path(setting, notebook_path(shell))
    current = session.store
    if current is not None and path is not None and current.path == path:
        return current
    detach_store(session)
    if path is None:
        return None
    store = NotebookStore(session, path, notebook_path(shell))
    session.store = store
    session.listeners.append(store.listener)
    if restore:
        store.restore()
    if current is not None:
        store.save_soon()          # moved: the new place holds everything at once
    atexit.register(store.flush, 5.0)
    return store


def detach_store(session: Session) -> None:
    """Stop persisting (pending writes are finished first); the file stays."""
    store = session.store
    if store is None:
        return
    store.flush()
    atexit.unregister(store.flush)
    if store.listener in session.listeners:
        session.listeners.remove(store.listener)
    session.store = None
