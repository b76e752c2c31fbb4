"""Large attachments through the Files API: uploaded once, referred to by `file_id` in every request.

The conversation keeps what the user attached as it was (base64 blocks: the store, exports and replay
fingerprints do not change); only what is *sent* changes. Before each request, `FileUploads.prepare` looks at
the user's own attachment blocks (image and document blocks at the top level of user messages; never tool
results, never anything Claude or a tool produced) whose data is above the threshold, uploads each once per
content hash and credential (`client.beta.files.upload`, beta `files-api-2025-04-14`), and sends
`{"type": "file", "file_id": ...}` in its place, with the beta header. A request the API refuses because a
file is gone (expired, deleted elsewhere) makes `recover` forget it, so the next `prepare` uploads it again.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["FILES_BETA", "FileUploads", "Upload", "attached_digests", "delete_uploads", "credential_digest",
           "large_attachments"]

FILES_BETA = "files-api-2025-04-14"
_KINDS = ("document", "image")
_DIGESTS = 32               # attachment digests remembered
_SUFFIX = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif",
           "image/webp": ".webp", "text/plain": ".txt"}


@dataclass(frozen=True)
class Upload:
    """One file this session uploaded."""

    file_id: str
    digest: str                 # sha256 of the base64 data as attached
    filename: str
    size: int                   # bytes
    credential: str             # a digest naming the credential and endpoint, never the secret itself
    uploaded_at: float


def credential_digest(client: Any) -> str:
    """Which credential and endpoint a client uses, as a short digest (uploads belong to one credential)."""
    secret = getattr(client, "api_key", None) or getattr(client, "auth_token", None) or f"client-{id(client)}"
    return hashlib.sha256(f"{secret}\n{getattr(client, 'base_url', '')}".encode()).hexdigest()[:16]


def _sha256(data: str) -> str:
    return hashlib.sha256(data.encode("ascii", "surrogatepass")).hexdigest()


def _decoded_size(data: str) -> int:
    return len(data) * 3 // 4 - data[-2:].count("=")


class FileUploads:
    """The session's uploads: (credential, content hash) → file id, and the threshold."""

    def __init__(self) -> None:
        self._uploads: dict[tuple[str, str], Upload] = {}
        self._lock = threading.Lock()
        self.bytes_uploaded = 0
        self._unavailable: set[str] = set()     # credentials whose server refused an upload: send inline
        self._digests: dict[int, tuple[str, str]] = {}   # id(data) -> (data, sha256): ~25 ms saved per 10 MB a step

    @property
    def uploads(self) -> list[Upload]:
        """Everything uploaded and not yet forgotten, oldest first."""
        with self._lock:
            return list(self._uploads.values())

    def prepare(self, client: Any, params: dict[str, Any], above: int | None) -> dict[str, Any]:
        """`params` with large attachments sent by `file_id` (uploading what is new); unchanged when none is."""
        if above is None:
            return params
        messages = params.get("messages") or []
        changed: list[dict[str, Any]] | None = None
        credential = ""
        for index, message in enumerate(messages):
            if message.get("role") != "user" or not isinstance(message.get("content"), list):
                continue
            blocks = None
            for position, block in enumerate(message["content"]):
                source = block.get("source") if isinstance(block, dict) else None
                if (block.get("type") not in _KINDS or not isinstance(source, dict) or source.get("type") != "base64"
                        or not isinstance(source.get("data"), str) or _decoded_size(source["data"]) <= above):
                    continue
                credential = credential or credential_digest(client)
                if credential in self._unavailable:
                    return params
                file_id = self._file_id(client, credential, block)
                if blocks is None:
                    blocks = list(message["content"])
                blocks[position] = {**block, "source": {"type": "file", "file_id": file_id}}
            if blocks is not None:
                if changed is None:
                    changed = list(messages)
                changed[index] = {**message, "content": blocks}
        if changed is None:
            return params
        headers = dict(params.get("extra_headers") or {})
        betas = [flag.strip() for flag in str(headers.get("anthropic-beta", "")).split(",") if flag.strip()]
        default = getattr(client, "default_headers", {}).get("anthropic-beta")
        if default:                     # extra_headers replace the client's header: keep its flags
            betas = [flag.strip() for flag in str(default).split(",") if flag.strip()] + betas
        if FILES_BETA not in betas:
            betas.append(FILES_BETA)
        headers["anthropic-beta"] = ",".join(dict.fromkeys(betas))
        return {**params, "messages": changed, "extra_headers": headers}

    def _digest(self, data: str) -> str:
        """sha256 of an attachment's base64, remembered for the string itself (the conversation keeps the same
        string object from step to step; the identity check makes a reused id harmless)."""
        known = self._digests.get(id(data))
        if known is not None and known[0] is data:
            return known[1]
        digest = _sha256(data)
        if len(self._digests) >= _DIGESTS:
            self._digests.clear()
        self._digests[id(data)] = (data, digest)
        return digest

    def upload(self, client: Any, block: dict[str, Any]) -> dict[str, Any]:
        """`block` (a base64 document or image) sent by file id, uploading it unless this credential already did."""
        file_id = self._file_id(client, credential_digest(client), block)
        return {**block, "source": {"type": "file", "file_id": file_id}}

    def _file_id(self, client: Any, credential: str, block: dict[str, Any]) -> str:
        source = block["source"]
        digest = self._digest(source["data"])
        with self._lock:
            known = self._uploads.get((credential, digest))
        if known is not None:
            return known.file_id
        media_type = str(source.get("media_type") or "application/octet-stream")
        data = base64.b64decode(source["data"])
        title = str(block.get("title") or "attachment")
        suffix = _SUFFIX.get(media_type, "")
        filename = title if title.lower().endswith(suffix) else title + suffix
        metadata = client.beta.files.upload(file=(filename, data, media_type), betas=[FILES_BETA])
        upload = Upload(metadata.id, digest, filename, len(data), credential, time.time())
        with self._lock:
            self._uploads[(credential, digest)] = upload
            self.bytes_uploaded += len(data)
        return upload.file_id

    def unavailable(self, client: Any) -> None:
        """The server refused an upload: send this credential's attachments inline from now on."""
        self._unavailable.add(credential_digest(client))

    def recover(self, client: Any, error: BaseException | None) -> bool:
        """Forget this credential's files that a refused request shows to be gone (named in the error, or no longer
        found when asked); True when any was, so the request is worth sending again."""
        message = str(getattr(error, "message", "") or error or "")
        status = getattr(error, "status_code", None)
        if status not in (400, 404) or "file" not in message.lower():
            return False
        credential = credential_digest(client)
        with self._lock:
            mine = [(key, upload) for key, upload in self._uploads.items() if key[0] == credential]
        gone = [key for key, upload in mine if upload.file_id in message or not self._exists(client, upload.file_id)]
        with self._lock:
            for key in gone:
                self._uploads.pop(key, None)
        return bool(gone)

    @staticmethod
    def _exists(client: Any, file_id: str) -> bool:
        """Whether the API still has the file (True when it cannot tell: nothing is forgotten on a guess)."""
        import anthropic

        try:
            client.beta.files.retrieve_metadata(file_id, betas=[FILES_BETA])
        except anthropic.NotFoundError:
            return False
        except anthropic.APIError:
            return True
        return True

    def discard(self, uploads: list[Upload]) -> None:
        """Forget these uploads (deleted from the API)."""
        ids = {upload.file_id for upload in uploads}
        with self._lock:
            for key in [key for key, upload in self._uploads.items() if upload.file_id in ids]:
                del self._uploads[key]

    def forget(self, keep_digests: set[str] | None = None) -> list[Upload]:
        """Drop (and return) the uploads whose content is not in `keep_digests` (None: all of them)."""
        with self._lock:
            dropped = [(key, upload) for key, upload in self._uploads.items()
                       if keep_digests is None or upload.digest not in keep_digests]
            for key, _upload in dropped:
                del self._uploads[key]
            self._digests.clear()               # let go of attachments the conversations may have dropped
        return [upload for _key, upload in dropped]


def attached_digests(messages: list[dict[str, Any]]) -> set[str]:
    """The content hashes of the base64 attachments in `messages` (what uploads are still good for)."""
    found = set()
    for message in messages:
        content = message.get("content") if message.get("role") == "user" else None
        for block in content if isinstance(content, list) else []:
            source = block.get("source") if isinstance(block, dict) else None
            if isinstance(source, dict) and source.get("type") == "base64" and isinstance(source.get("data"), str):
                found.add(_sha256(source["data"]))
    return found


def delete_uploads(client: Any, uploads: list[Upload]) -> tuple[list[Upload], list[str]]:
    """Delete `uploads` from the API with `client`: (those deleted or already gone, one line per other). An upload
    made with another credential is left alone (the API would not find it, and "not found" is no deletion)."""
    import anthropic

    credential = credential_digest(client)
    deleted: list[Upload] = []
    problems: list[str] = []
    for upload in uploads:
        if upload.credential != credential:
            problems.append(f"{upload.filename} ({upload.file_id}): uploaded with another credential")
            continue
        try:
            client.beta.files.delete(upload.file_id, betas=[FILES_BETA])
        except anthropic.NotFoundError:
            deleted.append(upload)                  # already gone: nothing left to remove
        except anthropic.APIError as error:
            problems.append(f"{upload.filename} ({upload.file_id}): {type(error).__name__}")
        else:
            deleted.append(upload)
    return deleted, problems


def large_attachments(blocks: list[dict[str, Any]], above: int | None) -> list[tuple[str, int]]:
    """(title, bytes) of the base64 attachments in `blocks` above `above` bytes (what the Files API would take)."""
    if above is None:
        return []
    found = []
    for block in blocks:
        source = block.get("source") if isinstance(block, dict) and block.get("type") in _KINDS else None
        if isinstance(source, dict) and source.get("type") == "base64" and isinstance(source.get("data"), str):
            size = _decoded_size(source["data"])
            if size > above:
                found.append((str(block.get("title") or block.get("type")), size))
    return found
