"""Which stored conversations this user's kernels wrote: a per-user HMAC mark on each, with a key the project never sees.

A store in a cloned project can hold anything, including recorded `run_python` calls that replay would run.
Each conversation this user's kernels save carries `hmac-sha256(key, canonical JSON of the entry)`; the key is
32 random bytes in the user's config folder (`claude_magic.core.user_config`), created on first use with mode 0600.
A conversation whose mark is missing or wrong was not written by this user's kernels: replay asks before its
recorded tool calls run, whatever the policy says, until `%claude restore` accepts it (which marks it).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import threading
from pathlib import Path
from typing import Any

from ..core.user_config import user_config_dir

__all__ = ["mark", "is_marked", "KEY_FILE"]

KEY_FILE = "store-key"

_cache: dict[Path, bytes] = {}
_cache_lock = threading.Lock()


def mark(entry: dict[str, Any]) -> str | None:
    """This user's mark for one conversation entry (None: no key can be read or made, so nothing is marked)."""
    key = _key()
    if key is None:
        return None
    return hmac.new(key, _canonical(entry), hashlib.sha256).hexdigest()


def is_marked(entry: dict[str, Any], found: Any) -> bool:
    """Whether `found` (the mark stored beside the entry) is this user's mark for exactly this entry."""
    if not isinstance(found, str):
        return False
    expected = mark(entry)
    return expected is not None and hmac.compare_digest(expected, found)


def _canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _key() -> bytes | None:
    """The user's key, made on first use (an unwritable config folder: None, and stores stay unmarked)."""
    path = user_config_dir() / KEY_FILE
    with _cache_lock:
        if path in _cache:
            return _cache[path]
        try:
            key = _read_or_create(path)
        except OSError:
            return None
        _cache[path] = key
        return key


def _read_or_create(path: Path) -> bytes:
    """Read the key; if there is none, write one atomically (two kernels at once: the first link wins)."""
    with contextlib.suppress(FileNotFoundError):
        return _read(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    return _read(path)


def _read(path: Path) -> bytes:
    text = path.read_text(encoding="ascii").strip()
    if len(text) < 32:
        raise OSError(f"{path} is not a claude-magic store key")
    return text.encode("ascii")
