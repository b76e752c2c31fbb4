"""Batch mode: the Message Batches API — submit in batches that fit its limits, poll, collect results by `custom_id`, cancel.

Half the price; results arrive when a batch ends (up to 24 hours). A batch the server refuses as too
large (413) is split in two and submitted again; a single request too large for any batch fails alone.

Each request is encoded to JSON once: that encoding gives its size (for the limits) and, joined, the body
of `POST /v1/messages/batches`, sent with the SDK's `client.post` (`batches.create` would first copy all
10,000 requests into new containers, then encode them again). Results are read as raw JSONL lines.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..core.cancellation import Cancellation
from ..core.pricing import Price
from ..core.structured import OutputSpec
from .jobs import Job
from .live import row_error
from .outcome import Outcome, failed, from_message

__all__ = ["BatchLimits", "Finished", "encode_requests", "split_requests", "jsonl_stretches", "BatchDriver"]

CANCEL_GRACE = 60.0           # seconds to wait for canceled batches to end, so their finished rows are kept
BATCHES_PATH = "/v1/messages/batches"
_OPEN, _SEPARATOR, _CLOSE = b'{"requests":[', b",", b"]}"
# As the SDK encodes a body: compact, UTF-8 as is, no NaN.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)

#: Rows finished together: (job, outcome) pairs, handed over in one call.
Finished = list[tuple[Job, Outcome]]
Encoded = tuple[Job, bytes]


@dataclass(frozen=True)
class BatchLimits:
    """The Message Batches API's limits per batch (a gateway may have lower ones)."""

    requests: int = 100_000
    bytes: int = 256 * 1024 * 1024


def encode_requests(jobs: Iterable[Job]) -> tuple[list[Encoded], Finished]:
    """Each job's `{"custom_id", "params"}` as JSON bytes; the jobs whose request is not JSON, failed."""
    encoded: list[Encoded] = []
    refused: Finished = []
    for job in jobs:
        try:
            params = {key: value for key, value in job.params.items() if key != "extra_headers"}   # sent as headers
            encoded.append((job, _ENCODER.encode({"custom_id": job.id, "params": params}).encode()))
        except (TypeError, ValueError) as error:
            refused.append((job, failed(f"the request cannot be sent as JSON: {error}")))
    return encoded, refused


def split_requests(requests: list[Encoded], limits: BatchLimits) -> list[list[Encoded]]:
    """Consecutive groups within both limits (a request above the size limit alone gets a group of its own)."""
    groups: list[list[Encoded]] = []
    current: list[Encoded] = []
    size = len(_OPEN) + len(_CLOSE)
    for request in requests:
        request_size = len(request[1]) + len(_SEPARATOR)
        if current and (len(current) >= limits.requests or size + request_size > limits.bytes):
            groups.append(current)
            current, size = [], len(_OPEN) + len(_CLOSE)
        current.append(request)
        size += request_size
    if current:
        groups.append(current)
    return groups


def jsonl_stretches(chunks: Iterable[bytes]) -> Iterator[list[bytes]]:
    """The non-empty lines of a JSONL byte stream, as lists: those each chunk completes, as it arrives."""
    rest = b""
    for chunk in chunks:
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        yield [line for line in lines if line.strip()]
    if rest.strip():
        yield [rest]


def poll_interval(elapsed: float) -> float:
    """How long to wait before the next status check: a tenth of the time waited so far, 0.1 s to 30 s."""
    return min(30.0, max(0.1, elapsed * 0.1))


class BatchDriver:
    """Submits jobs as batches and collects their results, on the caller's thread, with the sync SDK client.

    `on_finished` gets the rows that finished together (a failed submission, a stretch of results read).
    """

    def __init__(self, client: Any, spec: OutputSpec | None, model: str, prices: dict[str, Price] | None,
                 base_url: str, on_finished: Callable[[Finished], None], on_batch: Callable[[str, list[Job]], None],
                 stop: Cancellation, limits: BatchLimits | None = None,
                 on_collected: Callable[[str], None] | None = None) -> None:
        self.client = client
        self.spec, self.model, self.prices, self.base_url = spec, model, prices, base_url
        self.on_finished, self.on_batch = on_finished, on_batch
        self.on_collected = on_collected or (lambda _batch_id: None)
        self.stop = stop
        self.limits = limits or BatchLimits()
        self.open: dict[str, dict[str, Job]] = {}      # batch id -> its jobs by custom_id, until collected
        self.status: dict[str, str] = {}               # batch id -> processing_status last seen

    # --- submitting ----------------------------------------------------------------------------

    def submit(self, jobs: list[Job]) -> None:
        """Create the batches (stops early when asked; jobs not submitted stay pending)."""
        encoded, refused = encode_requests(jobs)
        if refused:
            self.on_finished(refused)
        for group in split_requests(encoded, self.limits):
            if self.stop.cancelled:
                return
            self._create(group)

    def _create(self, group: list[Encoded]) -> None:
        import anthropic
        from anthropic.types.messages import MessageBatch

        body = _OPEN + _SEPARATOR.join(line for _job, line in group) + _CLOSE
        jobs = [job for job, _line in group]
        try:
            headers = jobs[0].params.get("extra_headers") if jobs else None     # a shared file's beta header
            batch = self.client.post(BATCHES_PATH, cast_to=MessageBatch, content=body,
                                     options={"headers": headers} if headers else {})
        except anthropic.APIStatusError as error:
            if error.status_code == 413 and len(group) > 1:
                middle = len(group) // 2
                self._create(group[:middle])
                self._create(group[middle:])
                return
            reason = "too large for a batch: " if error.status_code == 413 else ""
            self.on_finished([(job, failed(reason + row_error(error, self.base_url))) for job in jobs])
            return
        except anthropic.APIError as error:
            self.on_finished([(job, failed(row_error(error, self.base_url))) for job in jobs])
            return
        self.open[batch.id] = {job.id: job for job in jobs}
        self.status[batch.id] = batch.processing_status
        self.on_batch(batch.id, jobs)

    def adopt(self, batch_id: str, jobs: dict[str, Job]) -> None:
        """Follow a batch created earlier (resuming)."""
        self.open[batch_id] = dict(jobs)
        self.status[batch_id] = "in_progress"

    # --- waiting and collecting ----------------------------------------------------------------

    def wait(self) -> None:
        """Poll until every batch ended and was collected; on stop, cancel them and keep what finished."""
        started = time.monotonic()
        canceled_at: float | None = None
        while self.open:
            if self.stop.cancelled and canceled_at is None:
                canceled_at = time.monotonic()
                self.cancel()
            for batch_id in list(self.open):
                batch = self._retrieve(batch_id)
                if batch is None:
                    continue
                self.status[batch_id] = batch.processing_status
                if batch.processing_status == "ended":
                    self.collect(batch_id)
            if not self.open:
                return
            if canceled_at is not None and time.monotonic() - canceled_at > CANCEL_GRACE:
                return
            pause = poll_interval(time.monotonic() - started)
            if canceled_at is not None:
                time.sleep(min(pause, 0.5))
            else:
                self.stop.wait(pause)

    def _retrieve(self, batch_id: str) -> Any:
        import anthropic

        try:
            return self.client.messages.batches.retrieve(batch_id)
        except anthropic.APIStatusError as error:
            if error.status_code == 404:          # gone (deleted or expired long ago): its rows failed
                reason = f"batch {batch_id}: {row_error(error, self.base_url)}"
                self.on_finished([(job, failed(reason)) for job in self.open.pop(batch_id).values()])
            return None
        except anthropic.APIConnectionError:
            return None                            # transient: the next poll tries again

    def collect(self, batch_id: str) -> None:
        """Read an ended batch's results, handing rows over as each stretch of them arrives."""
        jobs = self.open.get(batch_id, {})
        seen: set[str] = set()
        # Raw JSONL through the SDK's streaming response: typed models for 10,000 lines would cost seconds.
        with self.client.messages.batches.with_streaming_response.results(batch_id) as response:
            for lines in jsonl_stretches(response.iter_bytes()):
                finished: Finished = []
                for raw in lines:
                    line = json.loads(raw)
                    job = jobs.get(line.get("custom_id"))
                    if job is None or job.id in seen:
                        continue
                    seen.add(job.id)
                    finished.append((job, self._outcome(line.get("result") or {})))
                if finished:
                    self.on_finished(finished)
        missing = [(job, failed(f"batch {batch_id} returned no result for this row", status="expired"))
                   for custom_id, job in jobs.items() if custom_id not in seen]
        if missing:
            self.on_finished(missing)
        self.open.pop(batch_id, None)
        self.on_collected(batch_id)

    def _outcome(self, result: dict[str, Any]) -> Outcome:
        kind = result.get("type")
        if kind == "succeeded":
            return from_message(result.get("message") or {}, self.spec, self.model, self.prices, batch=True)
        if kind == "errored":
            error = (result.get("error") or {}).get("error") or {}
            return failed(f"{error.get('type', 'error')}: {error.get('message', '')}")
        if kind == "canceled":
            return failed("canceled: the batch was canceled before this row was processed", status="canceled")
        return failed("expired: the batch ended (24 hours) before this row was processed", status="expired")

    def cancel(self) -> None:
        """Ask the API to cancel every batch still processing."""
        import anthropic

        for batch_id in list(self.open):
            if self.status.get(batch_id) == "in_progress":
                try:
                    batch = self.client.messages.batches.cancel(batch_id)
                    self.status[batch_id] = batch.processing_status
                except anthropic.APIError:
                    continue
