"""The Message Batches API on the local server: create, retrieve, list, cancel, results as JSONL, processing over time.

Each batch is processed on a thread of its own, request by request, with the same validation and the
same queue / default responder as `POST /v1/messages` (an `ApiError` item or a refused request becomes an
`errored` result). Scripting, through `server.batches`:

- `hold()` / `release()`: batches stay `in_progress` until released (to cancel or expire them mid-way);
- `delay`: each batch stays in progress at least this many seconds; `per_request`: seconds per request;
- `expire(batch_id)`: end it now, its unprocessed requests `expired`;
- `max_requests` / `max_bytes`: the API's limits (100,000 requests, 256 MB), lower them to test splitting.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from .rendering import dumps, render
from .replay import assemble_message
from .responses import error_body, error_response, json_response, request_id
from .script import ApiError, Replay
from .transmit import Response
from .validation import RequestRejected, validate_request

if TYPE_CHECKING:
    from .state import ServerState

__all__ = ["BatchStore", "BATCHES_PATH"]

BATCHES_PATH = "/v1/messages/batches"
_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _stamp(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class _Batch:
    id: str
    requests: list[dict[str, Any]]
    created: float
    results: dict[str, dict[str, Any]] = field(default_factory=dict)   # custom_id -> result
    ended: float | None = None
    jsonl: bytes = b""                  # the results file, written as the batch ends (the API serves a file too)
    cancel_initiated: float | None = None
    expired: bool = False
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def status(self) -> str:
        if self.ended is not None:
            return "ended"
        return "canceling" if self.cancel_initiated is not None else "in_progress"


class BatchStore:
    """Every batch the server was given, and how it answers the batch endpoints."""

    def __init__(self, server: ServerState) -> None:
        self.server = server
        self.max_requests = 100_000
        self.max_bytes = 256 * 1024 * 1024
        self.delay = 0.0
        self.per_request = 0.0
        self._batches: dict[str, _Batch] = {}
        self._order: list[str] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._released.set()

    # --- scripting -----------------------------------------------------------------------------

    def hold(self) -> None:
        """Keep batches in progress (requests unprocessed) until `release()`."""
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def expire(self, batch_id: str) -> None:
        """End a batch now: what was not processed is `expired`."""
        batch = self._batches[batch_id]
        batch.expired = True
        self.release()
        batch.done.wait(5)

    def wait(self, batch_id: str, timeout: float = 30.0) -> bool:
        """Wait until a batch ended."""
        return self._batches[batch_id].done.wait(timeout)

    @property
    def ids(self) -> list[str]:
        """Batch ids in creation order."""
        with self._lock:
            return list(self._order)

    def requests_of(self, batch_id: str) -> list[dict[str, Any]]:
        """The requests a batch was created with."""
        return list(self._batches[batch_id].requests)

    def clear(self) -> None:
        with self._lock:
            self._batches.clear()
            self._order.clear()
        self.release()

    # --- endpoints -----------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any, parsed: bool,
               raw: bytes | None) -> Response:
        rest = path.removeprefix(BATCHES_PATH).strip("/")
        parts = rest.split("/") if rest else []
        if method == "POST" and not parts:
            return self._create(body, parsed, raw)
        if method == "GET" and not parts:
            return self._list(query)
        batch = self._batches.get(parts[0]) if parts else None
        if batch is None:
            return error_response(404, "not_found_error", f"message_batch: {parts[0] if parts else ''}")
        if method == "GET" and len(parts) == 1:
            return json_response(200, self._view(batch))
        if method == "POST" and parts[1:] == ["cancel"]:
            if batch.status == "in_progress":
                batch.cancel_initiated = time.time()
            return json_response(200, self._view(batch))
        if method == "GET" and parts[1:] == ["results"]:
            if batch.ended is None:
                return error_response(400, "invalid_request_error",
                                      f"Batch {batch.id} has not finished processing; results are not available yet.")
            return Response(200, [batch.jsonl], "application/binary", {"request-id": request_id()})
        if method == "DELETE" and len(parts) == 1:
            if batch.ended is None:
                return error_response(400, "invalid_request_error", "Batches can only be deleted once they have ended.")
            with self._lock:
                self._batches.pop(batch.id, None)
                self._order.remove(batch.id)
            return json_response(200, {"id": batch.id, "type": "message_batch_deleted"})
        return error_response(404, "not_found_error", f"Not found: {method} {path}")

    def _create(self, body: Any, parsed: bool, raw: bytes | None) -> Response:
        if raw is not None and len(raw) > self.max_bytes:
            return error_response(413, "request_too_large", "Request exceeds the maximum allowed number of bytes. "
                                  f"The maximum request size is {self.max_bytes:,} bytes.")
        if not parsed or not isinstance(body, dict):
            return error_response(400, "invalid_request_error", "There was an issue with the request body")
        requests = body.get("requests")
        problem = self._check_requests(requests)
        if problem:
            self.server.record_rejection(body, problem)
            return error_response(400, "invalid_request_error", problem)
        batch = _Batch(f"msgbatch_local_{secrets.token_hex(12)}", list(requests), time.time())
        with self._lock:
            self._batches[batch.id] = batch
            self._order.append(batch.id)
        threading.Thread(target=self._process, args=(batch,), name="claude-local-batch", daemon=True).start()
        return json_response(200, self._view(batch))

    def _check_requests(self, requests: Any) -> str | None:
        if not isinstance(requests, list):
            return "requests: Field required" if requests is None else "requests: Input should be a valid list"
        if not requests:
            return "requests: List should have at least 1 item after validation, not 0"
        if len(requests) > self.max_requests:
            return f"requests: List should have at most {self.max_requests} items after validation, not {len(requests)}"
        seen: set[str] = set()
        for index, request in enumerate(requests):
            if not isinstance(request, dict):
                return f"requests.{index}: Input should be a valid dictionary"
            custom_id = request.get("custom_id")
            if not isinstance(custom_id, str) or not _CUSTOM_ID.match(custom_id):
                return f"requests.{index}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
            if custom_id in seen:
                return f"requests: custom_id values must be unique; {custom_id!r} is repeated"
            seen.add(custom_id)
            if not isinstance(request.get("params"), dict):
                return f"requests.{index}.params: Field required"
            if request["params"].get("stream"):
                return f"requests.{index}.params.stream: streaming is not supported in batches"
        return None

    def _list(self, query: dict[str, list[str]]) -> Response:
        given = query.get("limit", ["20"])[0]
        limit = min(1000, int(given)) if given.isdigit() and int(given) > 0 else 20
        with self._lock:
            newest_first = [self._batches[i] for i in reversed(self._order)]
        after, before = query.get("after_id", [None])[0], query.get("before_id", [None])[0]
        ids = [b.id for b in newest_first]
        if after in ids:
            newest_first = newest_first[ids.index(after) + 1:]
        elif before in ids:
            newest_first = newest_first[: ids.index(before)][-limit:]
        page = newest_first[:limit]
        return json_response(200, {"data": [self._view(b) for b in page], "has_more": len(newest_first) > len(page),
                                   "first_id": page[0].id if page else None,
                                   "last_id": page[-1].id if page else None})

    # --- processing ----------------------------------------------------------------------------

    def _process(self, batch: _Batch) -> None:
        stop = self.server.stopping
        for request in batch.requests:
            while not self._released.wait(0.02):
                if batch.cancel_initiated is not None or batch.expired or stop.is_set():
                    break
            if batch.cancel_initiated is not None or batch.expired or stop.is_set():
                break
            if self.per_request > 0 and stop.wait(self.per_request):
                break
            batch.results[request["custom_id"]] = self._answer(request["params"])
        remaining = batch.created + self.delay - time.time()
        if remaining > 0 and batch.cancel_initiated is None and not batch.expired:
            stop.wait(remaining)
        for request in batch.requests:
            if request["custom_id"] not in batch.results:
                kind = "expired" if batch.expired else "canceled"
                batch.results[request["custom_id"]] = {"type": kind}
        batch.jsonl = b"".join(dumps({"custom_id": r["custom_id"], "result": batch.results[r["custom_id"]]}).encode()
                               + b"\n" for r in batch.requests)
        batch.ended = time.time()
        batch.done.set()

    def _answer(self, params: dict[str, Any]) -> dict[str, Any]:
        """One request's result, answered like `POST /v1/messages` (never streamed)."""
        server = self.server
        try:
            validate_request(params, signature_ok=server.signer.verify)
            from .models import lookup_model

            if lookup_model(server.models, params["model"]) is None and not server.accept_any_model:
                raise RequestRejected(f"model: {params['model']}", 404, "not_found_error")
        except RequestRejected as refusal:
            return _errored(refusal.error_type, refusal.message)
        try:
            item = server.next_item(params)
        except Exception as error:  # noqa: BLE001 - a test's responder failed: an errored row, the error kept
            server.report_error(error)
            return _errored("api_error", f"local test server: the responder raised {type(error).__name__}: {error}")
        if isinstance(item, ApiError):
            return _errored(item.type, item.text)
        if isinstance(item, Replay):
            try:
                return {"type": "succeeded", "message": assemble_message(item.data)}
            except (ValueError, KeyError, IndexError) as error:
                return _errored("api_error", f"local test server: cannot assemble {item.path}: {error}")
        model = params["model"]
        usage = server.cache.account(params, model)
        rendered = render(item, message_id=f"msg_local_{secrets.token_hex(12)}", model=model, input_usage=usage,
                          signer=server.signer)
        return {"type": "succeeded", "message": rendered.message()}

    # --- views ---------------------------------------------------------------------------------

    def _view(self, batch: _Batch) -> dict[str, Any]:
        counts = dict.fromkeys(("processing", "succeeded", "errored", "canceled", "expired"), 0)
        if batch.ended is None:
            counts["processing"] = len(batch.requests)       # the API counts outcomes only once a batch ended
        else:
            for result in batch.results.values():
                counts[result["type"]] += 1
        base = self.server.base_url
        return {
            "id": batch.id, "type": "message_batch", "processing_status": batch.status, "request_counts": counts,
            "created_at": _stamp(batch.created), "expires_at": _stamp(batch.created + timedelta(hours=24).total_seconds()),
            "ended_at": _stamp(batch.ended), "cancel_initiated_at": _stamp(batch.cancel_initiated), "archived_at": None,
            "results_url": f"{base}{BATCHES_PATH}/{batch.id}/results" if batch.ended is not None else None,
        }


def _errored(error_type: str, message: str) -> dict[str, Any]:
    return {"type": "errored", "error": error_body(error_type, message)}
