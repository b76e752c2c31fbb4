"""What a cell Claude added carries in its metadata, and whether the user has changed it since.

`metadata["claude_magic"]` of an added cell holds the tool call that made it (`tool_use_id`), the model, the
conversation, the `%%claude` cell whose turn asked (`prompt_cell`) and the SHA-256 of the source Claude last
wrote (`source_sha256`). A reader of the `.ipynb` can tell Claude's cells from the user's; a cell whose source
no longer has that hash was edited by the user, and is never replaced or deleted by Claude.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

__all__ = ["KEY", "stamp", "made_by_claude", "user_edited", "source_hash"]

KEY = "claude_magic"


def source_hash(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


def stamp(source: str, *, tool_use_id: str, model: str, conversation: str, prompt_cell: str | None) -> dict[str, Any]:
    """The metadata entry of a cell Claude writes now."""
    return {"made_by": "claude", "tool_use_id": tool_use_id, "model": model, "conversation": conversation,
            "prompt_cell": prompt_cell, "source_sha256": source_hash(source),
            "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def made_by_claude(cell: dict[str, Any], conversation: str | None = None) -> bool:
    """Whether Claude added `cell` (in `conversation`, when given)."""
    mark = (cell.get("metadata") or {}).get(KEY)
    if not isinstance(mark, dict) or mark.get("made_by") != "claude":
        return False
    return conversation is None or mark.get("conversation") == conversation


def user_edited(cell: dict[str, Any]) -> bool:
    """Whether the source differs from what Claude last wrote (always True for the user's own cells)."""
    mark = (cell.get("metadata") or {}).get(KEY)
    if not isinstance(mark, dict):
        return True
    return mark.get("source_sha256") != source_hash(_source(cell))


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)
