"""Reading a JSON file that may be hostile: its size checked before it is read, depth and memory as one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["read_json", "read_bytes", "load_json", "UnusableFile", "MAX_FILE_BYTES"]

MAX_FILE_BYTES = 100 * 2**20          # a store or conversation file larger than this is refused unread


class UnusableFile(ValueError):
    """The file can be opened but not used: too large, not UTF-8 JSON, or nested too deeply."""


def read_json(path: Path, limit: int = MAX_FILE_BYTES) -> Any:
    """The decoded JSON of `path`; `UnusableFile` (one line) if it cannot be; `OSError` if it cannot be opened."""
    return load_json(read_bytes(path, limit), limit)


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of `path`, refused unread (`UnusableFile`) when its size is over `limit`; `OSError` as it comes."""
    size = path.stat().st_size
    if size > limit:
        raise UnusableFile(f"{_megabytes(size)}, more than the {_megabytes(limit)} a claude-magic file may have")
    with open(path, "rb") as handle:
        raw = handle.read(limit + 1)              # it may have grown since the stat
    if len(raw) > limit:
        raise UnusableFile(f"more than the {_megabytes(limit)} a claude-magic file may have")
    return raw


def load_json(raw: bytes, limit: int = MAX_FILE_BYTES) -> Any:
    """`raw` decoded as UTF-8 JSON; `UnusableFile` (one line) when it is not, or too deep or large to decode."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnusableFile(f"not UTF-8 text ({error.reason} at byte {error.start})") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise UnusableFile("nested too deeply to read") from None
    except MemoryError:
        raise UnusableFile("too large to read into memory") from None
    except ValueError as error:
        raise UnusableFile(f"not JSON ({error})") from None


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.0f} MB" if size >= 2**20 else f"{size:,} bytes"
