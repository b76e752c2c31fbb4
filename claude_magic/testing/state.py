"""What the request handlers (`handler`, `endpoints`, `batches`) need of the local server: `ServerState`.

`LocalServer` is its one implementation. The handlers see only this Protocol, so none of them imports the
server, and the server's records and queue are reached through its public methods, never its private ones.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .caching import PromptCache
    from .context_editing import CompactionSigner
    from .files import FileStore
    from .oauth import OAuthIssuer
    from .script import Item
    from .signing import Signer
    from .traffic import Traffic
    from .transmit import Response
    from .web import WebCorpus

__all__ = ["RecordedRequest", "ServerState", "BatchEndpoints"]

_MESSAGES = "/v1/messages"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it; `headers` have lower-case names, `body` is parsed JSON."""

    path: str
    method: str
    headers: dict[str, str]
    body: Any
    size: int = 0                      # bytes of the request body as received

    @property
    def is_message(self) -> bool:
        """Whether this is a `POST /v1/messages` (not `count_tokens`)."""
        return self.method == "POST" and urlsplit(self.path).path.rstrip("/") == _MESSAGES


class BatchEndpoints(Protocol):
    """The Message Batches API's endpoints (`batches.BatchStore`)."""

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any, parsed: bool,
               raw: bytes | None) -> Response: ...


class ServerState(Protocol):
    """The server as its request handlers see it: settings, the scripted answers, and the records they add to."""

    require_api_key: str | None
    event_delay: float
    accept_any_model: bool
    max_request_bytes: int | None
    models: dict[str, dict[str, Any]]
    cache: PromptCache
    signer: Signer
    compactions: CompactionSigner
    traffic: Traffic
    oauth: OAuthIssuer
    batches: BatchEndpoints
    web: WebCorpus
    files: FileStore

    @property
    def base_url(self) -> str: ...

    @property
    def stopping(self) -> threading.Event:
        """Set when the server stops: waits in handlers end early."""
        ...

    def next_item(self, body: dict[str, Any]) -> Item:
        """The queued answer for this request (or the default), callables evaluated."""
        ...

    def record_request(self, request: RecordedRequest) -> None: ...

    def record_rejection(self, body: Any, message: str) -> None: ...

    def report_error(self, error: BaseException) -> None: ...

    def log_line(self, line: str) -> None: ...
