"""One notebook's store: restored when attached, saved after every turn on a writer thread, forgotten on demand.

Saving is off the hot path: after a turn the changed conversations are snapshotted (shallow copies, a few
microseconds) and a daemon thread serializes and writes them. Every write holds the store's lock file
(fcntl/msvcrt) for a read-merge-write: per conversation, the last writer wins, and conversations this kernel
did not change are left as another kernel wrote them. Writes are atomic (temp file + os.replace). A file
that cannot be read (too large, too deep, malformed, or from a newer claude-magic) is renamed aside with one
line; a folder that cannot be written gives one line and the session goes on without persisting. The writer
thread survives any error and reports each problem once; when another kernel's save replaced a conversation
this kernel had saved, this kernel says so.

Trust: each conversation this user's kernels save carries this user's mark (`claude_magic.store.trust`); one
restored without it (a store planted in a cloned project) is flagged `untrusted_record`, so replaying it asks
before any tool call, until `%claude restore` accepts the file and marks it.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.events import TurnFinished
from ..core.json_file import MAX_FILE_BYTES, UnusableFile, read_json
from .document import Snapshot, Stored, StoreUnreadable, conversation_of, merge, parse, render, snapshot
from .files import atomic_write, locked, set_aside
from .location import notebook_path, store_path
from .seams import StoredSession
from .trust import is_marked, mark

if TYPE_CHECKING:
    from ..core.conversation import Conversation

__all__ = ["NotebookStore", "attach_store", "detach_store"]

PREFIX = "claude-magic:"


class NotebookStore:
    """The store file of one session's notebook (`path`), kept in step with the session's conversations."""

    def __init__(self, session: StoredSession, path: Path, notebook: Path | None = None) -> None:
        self.session = session
        self.path = path
        self.notebook = notebook
        self.writable = True
        self.saves = 0                                   # files written (tests, benchmarks)
        self._synced: dict[str, tuple[Any, ...]] = {}    # name -> what the file holds of it, as a change key
        self._pending: dict[str, Snapshot] = {}
        self._known: tuple[tuple[int, int, int], Stored] | None = None
        self._written: dict[str, tuple[Any, ...]] = {}   # name -> what this kernel last saved or read of it
        self._problems: list[str] = []
        self._reported: set[str] = set()
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
    def restore(self, *, replace: bool = False, path: Path | None = None, accept: bool = False) -> tuple[int, int]:
        """Read the store into the session: (conversations, turns) restored. Without `replace`, only
        conversations that are empty in this kernel are filled. An unreadable file is set aside (one line).
        Conversations without this user's mark are flagged untrusted, unless `accept` (`%claude restore`):
        then they are trusted and saved again with the mark."""
        source = path or self.path
        stored = self._read(source)
        if stored is None:
            return 0, 0
        restored: list[str] = []
        untrusted: list[str] = []
        turns = 0
        for name, entry in stored.entries.items():
            current = self.session.conversations.get(name)
            if current is not None and current.turns and not replace:
                continue
            conversation = conversation_of(name, entry)
            marked = is_marked(entry, stored.marks.get(name))
            if not (marked or accept):
                conversation.untrusted_record = str(source)
                if conversation.turns:
                    untrusted.append(name)
            self.session.conversations[name] = conversation
            restored.append(name)
            turns += len(conversation)
            if source == self.path:
                self._written[name] = _entry_key(entry)
                if marked or not accept:
                    self._synced[name] = _change_key(conversation)   # else saved again below, with the mark
        self.session.replays.restored(restored)
        if untrusted:
            self._say(f"{PREFIX} {source} was not written by this user's kernels (a cloned or copied store?): "
                      f"replaying {_conversations(untrusted)} asks before any recorded tool call runs, whatever "
                      "the tool policies say; `%claude restore` accepts the file.")
        if source != self.path or accept:
            self.save_soon()
        return len(restored), turns

    def _read(self, source: Path) -> Stored | None:
        """The parsed file, or None (missing, or unreadable and set aside with one line)."""
        try:
            stored = parse(read_json(source))
        except FileNotFoundError:
            return None
        except OSError as error:
            self._say(f"{PREFIX} cannot read {source} ({_reason(error)}): starting without its conversations.")
            return None
        except (StoreUnreadable, UnusableFile) as error:
            newer = getattr(error, "newer", False)
            aside = self._set_aside(source, "newer" if newer else "corrupt")
            self._say(f"{PREFIX} {source} is {'' if newer else 'not a usable store: '}{error}; {aside}, "
                      "and this session starts without its conversations.")
            return None
        return stored

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
        """The writer thread: it survives any error (each problem is reported once) and keeps saving."""
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                pending, self._pending = self._pending, {}
            try:
                if pending and self.writable:
                    self._write(pending)
            except OSError as error:
                self.writable = False
                self._say_once(f"{PREFIX} saving the conversations to {self.path} failed ({_reason(error)}): "
                               "this session goes on without persisting them.")
            except Exception as error:  # noqa: BLE001 - a bug or a strange value must not stop later saves
                self._say_once(f"{PREFIX} saving the conversations to {self.path} failed ({type(error).__name__}: "
                               f"{_reason(error)}); the next turn is saved again.")
            finally:
                with self._lock:
                    if not self._pending:
                        self._idle.set()

    def _write(self, pending: dict[str, Snapshot]) -> None:
        """Read-merge-write under the lock: ours replace the conversations we changed, the rest stay."""
        ours = self._marked(pending)
        with locked(self.path):
            merged = merge(self._on_disk(ours), ours)
            text = render(merged, self.notebook.name if self.notebook else "")
            if len(text) > MAX_FILE_BYTES:
                self._say_once(f"{PREFIX} the conversations would make {self.path} larger than "
                               f"{MAX_FILE_BYTES // 2**20} MB, more than claude-magic reads back: not saved "
                               "(`%claude reset NAME` or `%claude pop` shortens them).")
                return
            atomic_write(self.path, text)
            self._known = (_signature(self.path), merged)
        self._written.update((name, _entry_key(entry)) for name, entry in ours.entries.items())
        self.saves += 1

    def _marked(self, pending: dict[str, Snapshot]) -> Stored:
        """The changed conversations in file form, each trusted one with this user's mark; one that cannot be
        written as JSON (a value put in by hand) is left out with one line, and the others are saved."""
        ours = Stored()
        for name, item in pending.items():
            entry = item.to_dict()
            try:
                signature = mark(entry) if item.trusted else None
                if signature is None:
                    json.dumps(entry)                  # the mark's serialization is the check otherwise
            except (TypeError, ValueError, RecursionError) as error:
                self._say_once(f"{PREFIX} conversation {name or '(default)'!s} cannot be saved ({type(error).__name__}: "
                               f"{_reason(error)}): it is left out of {self.path}; the others are saved.")
                continue
            ours.entries[name] = entry
            if signature is not None:
                ours.marks[name] = signature
        return ours

    def _on_disk(self, ours: Stored) -> Stored:
        """What the file holds now (re-read only when someone else wrote it since our last write); says once
        when another kernel's save replaced a conversation this kernel had saved."""
        signature = _signature(self.path)
        if signature is None:
            return Stored()
        if self._known is not None and self._known[0] == signature:
            return self._known[1]
        try:
            stored = parse(read_json(self.path))
        except (StoreUnreadable, UnusableFile) as error:
            aside = set_aside(self.path, "newer" if getattr(error, "newer", False) else "corrupt")
            self._say(f"{PREFIX} {self.path} had become unreadable ({error}); kept as {aside.name}.")
            return Stored()
        self._notice_replaced(stored, ours)
        return stored

    def _notice_replaced(self, stored: Stored, ours: Stored) -> None:
        """One line per conversation that another kernel saved over what this kernel had saved (last writer wins)."""
        for name, entry in stored.entries.items():
            was = self._written.get(name)
            now = _entry_key(entry)
            if was is None or was == now:
                continue
            self._written[name] = now
            label = f"conversation {name!r}" if name else "the default conversation"
            if name in ours.entries:
                self._say(f"{PREFIX} another kernel saved {label} in {self.path} over this kernel's turns; this "
                          "kernel's save now replaces it in turn (the last writer wins: the other kernel's turns "
                          "there are dropped).")
            else:
                self._say(f"{PREFIX} another kernel saved {label} in {self.path} over this kernel's turns (the "
                          "last writer wins); `%claude restore` loads the saved version into this kernel.")

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
        self._written.clear()
        return len(conversations), turns, deleted

    # -- problems --------------------------------------------------------------------------------
    def _say(self, line: str) -> None:
        """One line for the user: now on the main thread (the running cell), else at the next command."""
        if threading.current_thread() is threading.main_thread():
            print(line, file=sys.stderr)
        else:
            with self._lock:
                self._problems.append(line)

    def _say_once(self, line: str) -> None:
        """`_say`, but a line already said is not repeated (a problem that persists is reported once)."""
        with self._lock:
            if line in self._reported:
                return
            self._reported.add(line)
        self._say(line)

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


def _entry_key(entry: dict[str, Any]) -> tuple[Any, ...]:
    """`_change_key` of a conversation in file form (without the object's identity)."""
    turns = entry.get("turns") or []
    return (len(entry.get("messages") or []),
            tuple((turn.get("id"), turn.get("cell_id"), turn.get("request_hash")) for turn in turns))


def _conversations(names: list[str]) -> str:
    labels = [f"conversation {name!r}" if name else "the default conversation" for name in names]
    return ", ".join(labels)


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


def _reason(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def attach_store(session: StoredSession, shell: Any, setting: bool | str | None, *,
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


def detach_store(session: StoredSession) -> None:
    """Stop persisting (pending writes are finished first); the file stays."""
    store = session.store
    if store is None:
        return
    store.flush()
    atexit.unregister(store.flush)
    if store.listener in session.listeners:
        session.listeners.remove(store.listener)
    session.store = None
