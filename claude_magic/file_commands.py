"""`%claude files`: the attachments this session uploaded through the Files API, listed or deleted; and the clean-up
that `%claude reset` and `%claude forget` do of the uploads no conversation attaches any more."""

from __future__ import annotations

from .core.errors import ClaudeMagicError
from .session import Session
from .transport.file_uploads import attached_digests, delete_uploads

__all__ = ["files_command", "drop_unused_uploads"]


def drop_unused_uploads(session: Session) -> str:
    """Delete the Files API uploads no conversation attaches any more; a sentence saying so (or nothing)."""
    if not session.uploads.uploads:
        return ""
    keep = set().union(*(attached_digests(item.messages) for item in session.conversations.values()))
    unused = session.uploads.forget(keep)
    if not unused:
        return ""
    try:
        deleted, problems = delete_uploads(session.clients.get(session.settings), unused)
    except ClaudeMagicError as error:
        return f" {len(unused)} uploaded file(s) are no longer used but could not be deleted: {error}"
    line = f" Deleted {len(deleted)} uploaded file(s) no longer used (Files API)."
    return line + (f" Not deleted: {'; '.join(problems)}." if problems else "")


def files_command(session: Session, arguments: list[str]) -> str:
    """`%claude files [--delete]`: the uploads of this session as a table, or deleted."""
    if arguments not in ([], ["--delete"]):
        raise ClaudeMagicError("usage: %claude files [--delete]")
    uploads = session.uploads.uploads
    if not uploads:
        return "This session uploaded no files (attachments above ClaudeMagic.files_api_above go through the Files API)."
    if arguments == ["--delete"]:
        deleted, problems = delete_uploads(session.clients.get(session.settings), uploads)
        session.uploads.discard(deleted)
        return f"Deleted {len(deleted)} uploaded file(s)." + (f" Not deleted: {'; '.join(problems)}." if problems else "")
    rows = ["| file | size | file id |", "|---|---:|---|"]
    rows += [f"| {_cell(item.filename)} | {item.size / 1024 / 1024:.1f} MB | `{item.file_id}` |" for item in uploads]
    return "\n".join(rows)


def _cell(text: str) -> str:
    """Text for a Markdown table cell (a `|` would end the cell)."""
    return text.replace("|", "\\|")
