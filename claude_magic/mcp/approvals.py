"""The user's approvals of project `.mcp.json` servers, by file path and content hash, kept outside the project.

The file is `$CLAUDE_MAGIC_CONFIG_DIR/mcp-approvals.json`, else `$XDG_CONFIG_HOME/claude-magic/...`
(`~/.config/claude-magic/...`): `{"version": 1, "files": {PATH: {"sha256": HASH, "servers": [NAME, ...]}}}`.
An approval holds only for the exact bytes it was given for: a changed file is asked about again. Written
atomically (temporary file + `os.replace`), readable by the user only (0600, its folder 0700).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from ..core.errors import ConfigurationError
from ..core.json_file import UnusableFile, read_json
from ..core.user_config import user_config_dir

__all__ = ["Approvals", "approvals_file"]

APPROVALS_FILE = "mcp-approvals.json"
_MAX_BYTES = 4 * 1024 * 1024


def approvals_file() -> Path:
    return user_config_dir() / APPROVALS_FILE


class Approvals:
    """Read and change the approval file (read afresh each time: another kernel may have approved since)."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self._path if self._path is not None else approvals_file()

    def approved(self, config: Path, digest: str) -> set[str]:
        """The server names approved for `config` with exactly this content (an unreadable store: none)."""
        try:
            entry = self._load().get(str(config))
        except ConfigurationError:
            return set()
        if not isinstance(entry, dict) or entry.get("sha256") != digest:
            return set()
        names = entry.get("servers")
        return {name for name in names if isinstance(name, str)} if isinstance(names, list) else set()

    def approve(self, config: Path, digest: str, name: str) -> None:
        """Remember that `name` of `config` (with this content) may start; approvals of older content are dropped."""
        with self._lock:
            files = self._load_for_change()
            names = sorted(self.approved(config, digest) | {name})
            files[str(config)] = {"sha256": digest, "servers": names}
            self._write(files)

    def revoke(self, config: Path, name: str) -> bool:
        """Forget the approval of `name` in `config`; False when there was none."""
        with self._lock:
            files = self._load_for_change()
            entry = files.get(str(config))
            if not isinstance(entry, dict) or name not in (entry.get("servers") or []):
                return False
            entry["servers"] = [item for item in entry["servers"] if item != name]
            if not entry["servers"]:
                del files[str(config)]
            self._write(files)
            return True

    def _load(self) -> dict[str, Any]:
        path = self.path
        try:
            data = read_json(path, _MAX_BYTES)
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise ConfigurationError(f"Could not read the MCP approvals in {path}: {error.strerror}") from None
        except UnusableFile as error:
            raise ConfigurationError(f"The MCP approvals file {path} is not usable: {error}") from None
        files = data.get("files") if isinstance(data, dict) else None
        if not isinstance(files, dict):
            raise ConfigurationError(f"The MCP approvals file {path} does not hold approvals")
        return files

    def _load_for_change(self) -> dict[str, Any]:
        """The approvals to change; an unreadable file is started afresh (it approved nothing)."""
        try:
            return self._load()
        except ConfigurationError:
            return {}

    def _write(self, files: dict[str, Any]) -> None:
        path = self.path
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(prefix=".mcp-approvals-", dir=path.parent)
            try:
                with os.fdopen(descriptor, "w", encoding="utf-8") as out:     # mkstemp: mode 0600
                    json.dump({"version": 1, "files": files}, out, indent=1, sort_keys=True)
                os.replace(temporary, path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError as error:
            raise ConfigurationError(f"Could not save the MCP approval in {path}: {error.strerror}") from None
