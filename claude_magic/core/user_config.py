"""The user's own claude-magic folder (never the project's): what this user trusts and has approved is kept here.

`$CLAUDE_MAGIC_CONFIG_DIR` if set (tests point it at a temporary folder), else `$XDG_CONFIG_HOME/claude-magic`,
else `~/.config/claude-magic`.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["user_config_dir", "CONFIG_DIR_VARIABLE"]

CONFIG_DIR_VARIABLE = "CLAUDE_MAGIC_CONFIG_DIR"


def user_config_dir() -> Path:
    """The folder (not created here)."""
    explicit = os.environ.get(CONFIG_DIR_VARIABLE)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
    return Path(base).expanduser() / "claude-magic"
