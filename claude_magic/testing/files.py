"""The Files API on the local server (beta `files-api-2025-04-14`): upload, list, retrieve, download, delete.

Shapes follow the SDK's `client.beta.files` (anthropic 2.17): `FileMetadata` (`id`, `type: "file"`,
`filename`, `mime_type`, `size_bytes`, `created_at`, `downloadable`, `expires_at`), a list page of `data` with
an opaque `next_page` cursor, `{"id", "type": "file_deleted"}` on delete, 404 `not_found_error` for an unknown
or deleted id. Every call needs the beta header. Uploads above `max_file_bytes` (the API's 500 MB, lower it
in tests) get 413. Files uploaded by a user are not downloadable (the API serves only files that tools made).

`check_references(body, headers)` is what `POST /v1/messages` asks: every `document` / `image` block whose
source is `{"type": "file", "file_id": ...}` must name a live file of a fitting type, with the beta header.
Scripting, through `server.files`: `expire(file_id)` (gone as the API forgets a file), `uploads` (how many
uploads succeeded), `received_bytes` (bytes of upload bodies), `clear()`.
"""

from __future__ import annotations

import email.parser
import email.policy
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .responses import error_response, json_response
from .transmit import Response

__all__ = ["FileStore", "FILES_PATH", "FILES_BETA"]

FILES_PATH = "/v1/files"
FILES_BETA = "files-api-2025-04-14"
MAX_FILE_BYTES = 500 * 1024 * 1024
_ID = re.compile(r"^file_[A-Za-z0-9_-]+$")
_DOCUMENT_TYPES = ("application/pdf", "text/plain")
_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


@dataclass
class _File:
    id: str
    filename: str
    mime_type: str
    data: bytes
    created: float

    def metadata(self) -> dict[str, Any]:
        stamp = datetime.fromtimestamp(self.created, timezone.utc).isoformat().replace("+00:00", "Z")
        return {"id": self.id, "type": "file", "filename": self.filename, "mime_type": self.mime_type,
                "size_bytes": len(self.data), "created_at": stamp, "downloadable": False}


def _has_beta(headers: dict[str, str]) -> bool:
    return FILES_BETA in [part.strip() for part in headers.get("anthropic-beta", "").split(",")]


def _mime_for(filename: str, given: str) -> str:
    lower = filename.lower()
    for suffix, mime in ((".pdf", "application/pdf"), (".txt", "text/plain"), (".md", "text/plain"),
                         (".csv", "text/plain"), (".png", "image/png"), (".jpg", "image/jpeg"),
                         (".jpeg", "image/jpeg"), (".gif", "image/gif"), (".webp", "image/webp")):
        if lower.endswith(suffix):
            return mime
    return given if given and given != "application/octet-stream" else "application/octet-stream"


class FileStore:
    """The uploaded files of one local server."""

    def __init__(self) -> None:
        self.max_file_bytes = MAX_FILE_BYTES
        self.uploads = 0
        self.received_bytes = 0
        self._files: dict[str, _File] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every file and the counters."""
        with self._lock:
            self._files.clear()
            self.uploads = self.received_bytes = 0

    def expire(self, file_id: str) -> None:
        """Forget a file as the API does when it expires (later references get 404 / 400)."""
        with self._lock:
            self._files.pop(file_id, None)

    @property
    def ids(self) -> list[str]:
        """The live files' ids, oldest first."""
        with self._lock:
            return list(self._files)

    def content(self, file_id: str) -> bytes | None:
        """A live file's bytes (for tests), or None."""
        with self._lock:
            found = self._files.get(file_id)
        return found.data if found else None

    # --- the endpoints -------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               raw: bytes | None) -> Response:
        """Answer one request under `/v1/files`."""
        if not _has_beta(headers):
            return error_response(400, "invalid_request_error",
                                  f"The Files API is in beta: send the header `anthropic-beta: {FILES_BETA}`.")
        rest = path.removeprefix(FILES_PATH).strip("/")
        if not rest:
            if method == "POST":
                return self._upload(headers, raw or b"")
            if method == "GET":
                return self._list(query)
        else:
            file_id, _, tail = rest.partition("/")
            with self._lock:
                found = self._files.get(file_id)
            if found is None:
                return error_response(404, "not_found_error", f"File not found: {file_id}")
            if method == "GET" and not tail:
                return json_response(200, found.metadata())
            if method == "DELETE" and not tail:
                self.expire(file_id)
                return json_response(200, {"id": file_id, "type": "file_deleted"})
            if method == "GET" and tail == "content":
                return error_response(400, "invalid_request_error", f"File {file_id} is not downloadable.")
        return error_response(404, "not_found_error", f"Not found: {method} {path}")

    def _upload(self, headers: dict[str, str], raw: bytes) -> Response:
        content_type = headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data"):
            return error_response(400, "invalid_request_error", "file: an upload is multipart/form-data")
        if len(raw) > self.max_file_bytes + 64 * 1024:
            return error_response(413, "request_too_large",
                                  f"File exceeds the maximum allowed size of {self.max_file_bytes:,} bytes.")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
        part = next((item for item in message.iter_parts() if item.get_param("name", header="content-disposition")
                     == "file"), None)
        if part is None:
            return error_response(400, "invalid_request_error", "file: Field required")
        data = part.get_payload(decode=True) or b""
        self.received_bytes += len(raw)
        if len(data) > self.max_file_bytes:
            return error_response(413, "request_too_large",
                                  f"File exceeds the maximum allowed size of {self.max_file_bytes:,} bytes.")
        filename = (part.get_filename() or "").rsplit("/", 1)[-1] or "unnamed"
        entry = _File(f"file_local_{secrets.token_hex(12)}", filename,
                      _mime_for(filename, part.get_content_type()), data, time.time())
        with self._lock:
            self._files[entry.id] = entry
            self.uploads += 1
        return json_response(200, entry.metadata())

    def _list(self, query: dict[str, list[str]]) -> Response:
        given = query.get("limit", ["20"])[0]
        limit = max(1, min(1000, int(given))) if given.isdigit() else 20
        start = int(query.get("page", ["page_0"])[0].removeprefix("page_") or 0)
        with self._lock:
            files = list(self._files.values())
        wanted = set(query.get("ids", []) + query.get("ids[]", []))
        if wanted:
            return json_response(200, {"data": [f.metadata() for f in files if f.id in wanted], "next_page": None})
        page = files[start:start + limit]
        more = start + limit < len(files)
        return json_response(200, {"data": [f.metadata() for f in page],
                                   "next_page": f"page_{start + limit}" if more else None})

    # --- what POST /v1/messages checks ------------------------------------------------------------

    def check_references(self, body: Any, headers: dict[str, str]) -> tuple[int, str, str] | None:
        """(status, error type, message) when a message refers to a file the API would not accept."""
        for index, message in enumerate(body.get("messages") or [] if isinstance(body, dict) else []):
            content = message.get("content") if isinstance(message, dict) else None
            for position, item in enumerate(content if isinstance(content, list) else []):
                source = item.get("source") if isinstance(item, dict) else None
                if not isinstance(source, dict) or source.get("type") != "file":
                    continue
                where = f"messages.{index}.content.{position}"
                file_id = source.get("file_id")
                if not isinstance(file_id, str) or not _ID.match(file_id):
                    return 400, "invalid_request_error", f"{where}.source.file_id: Field required"
                if not _has_beta(headers):
                    return (400, "invalid_request_error", f"{where}: file sources need the header "
                            f"`anthropic-beta: {FILES_BETA}`")
                with self._lock:
                    found = self._files.get(file_id)
                if found is None:
                    return 400, "invalid_request_error", f"{where}: File not found: {file_id}"
                kinds = _DOCUMENT_TYPES if item.get("type") == "document" else _IMAGE_TYPES
                if found.mime_type not in kinds:
                    return (400, "invalid_request_error",
                            f"{where}: a {item.get('type')} block cannot use a file of type {found.mime_type}")
        return None
