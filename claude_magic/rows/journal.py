"""A run on disk: its manifest (batch ids, which rows each request answers) and each finished row, appended the moment it finishes.

`map_resume` reads it back after a kernel restart. Files live in `CLAUDE_MAGIC_MAP_DIR`, else
`$XDG_CACHE_HOME/claude-magic/map` (`~/.cache/...`), readable by the user only.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import ClaudeMagicError
from .outcome import Outcome

__all__ = ["RunRecord", "Journal", "runs_dir", "find_run", "new_run_id"]

_ENCODER = json.JSONEncoder(default=str)      # one encoder for every line (json.dumps(default=) makes one per call)


def runs_dir() -> Path:
    """Where runs are recorded."""
    explicit = os.environ.get("CLAUDE_MAGIC_MAP_DIR")
    if explicit:
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "claude-magic" / "map"


def new_run_id() -> str:
    return f"map_{time.strftime('%Y%m%d_%H%M%S')}_{secrets.token_hex(3)}"


@dataclass
class RunRecord:
    """What a run needs to be collected again: no prompts' answers, only ids and row mapping."""

    run_id: str
    model: str
    mode: str                                   # "live" or "batch"
    rows: int
    kind: str                                   # the input's kind (pandas, polars, ...)
    labels: list[Any] | None                    # the pandas index values, when JSON can hold them
    jobs: dict[str, list[int]]                  # custom_id -> row positions
    batch_ids: list[str] = field(default_factory=list)
    batch_jobs: dict[str, list[str]] = field(default_factory=dict)   # batch id -> its custom_ids
    collected: list[str] = field(default_factory=list)               # batch ids whose results were read
    schema: str | None = None                   # the output's name (the type itself is not stored)
    fields: list[str] = field(default_factory=list)
    created: float = field(default_factory=time.time)


class Journal:
    """Appends finished rows to `<run>.rows.jsonl` and keeps `<run>.json` current."""

    def __init__(self, record: RunRecord, directory: Path | None = None, enabled: bool = True) -> None:
        self.record = record
        self.enabled = enabled
        self.directory = directory or runs_dir()
        self._lock = threading.Lock()
        self._rows_file: Any = None

    @property
    def manifest_path(self) -> Path:
        return self.directory / f"{self.record.run_id}.json"

    @property
    def rows_path(self) -> Path:
        return self.directory / f"{self.record.run_id}.rows.jsonl"

    def save(self) -> None:
        """Write the manifest (atomically)."""
        if not self.enabled:
            return
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = self.manifest_path.with_suffix(".json.tmp")
        record = {name: getattr(self.record, name) for name in RunRecord.__dataclass_fields__}   # no deep copy
        text = _ENCODER.encode(record)
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
            out.write(text)
        os.replace(temporary, self.manifest_path)

    def add(self, job_id: str, outcome: Outcome) -> None:
        """Record a finished job (ok, invalid or error) at once."""
        self.add_many([(job_id, outcome)])

    def add_many(self, finished: list[tuple[str, Outcome]]) -> None:
        """Record jobs that finished together, in one write (canceled and pending ones are not recorded)."""
        if not self.enabled:
            return
        text = "".join(_ENCODER.encode({"id": job_id, **outcome.to_dict()}) + "\n" for job_id, outcome in finished
                       if outcome.status not in ("pending", "canceled"))
        if not text:
            return
        with self._lock:
            if self._rows_file is None:
                self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
                descriptor = os.open(self.rows_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                self._rows_file = open(descriptor, "a")  # noqa: SIM115 - kept open for the run, closed by close()
            self._rows_file.write(text)
            self._rows_file.flush()

    def close(self) -> None:
        with self._lock:
            if self._rows_file is not None:
                self._rows_file.close()
                self._rows_file = None

    @staticmethod
    def load(path: Path) -> tuple[RunRecord, dict[str, Outcome]]:
        """A recorded run and its finished rows (later lines win)."""
        data = json.loads(path.read_text())
        record = RunRecord(**{k: v for k, v in data.items() if k in RunRecord.__dataclass_fields__})
        outcomes: dict[str, Outcome] = {}
        rows_path = path.with_name(f"{record.run_id}.rows.jsonl")
        if rows_path.exists():
            for line in rows_path.read_text().splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:        # a line cut short by a crash
                    continue
                outcomes[entry.pop("id")] = Outcome.from_dict(entry)
        return record, outcomes


def find_run(key: str, directory: Path | None = None) -> Path:
    """The manifest of a run id or of the run that holds a batch id."""
    directory = directory or runs_dir()
    direct = directory / f"{key}.json"
    if direct.exists():
        return direct
    if directory.exists():
        for path in sorted(directory.glob("map_*.json"), reverse=True):
            try:
                if key in json.loads(path.read_text()).get("batch_ids", []):
                    return path
            except (OSError, ValueError):
                continue
    raise ClaudeMagicError(f"No recorded map run or batch {key!r} in {directory} (CLAUDE_MAGIC_MAP_DIR); pass "
                           "the data and prompt too to collect a batch that was not recorded here.")
