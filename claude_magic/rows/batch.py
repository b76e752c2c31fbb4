"""Batch mode: the Message Batches API — submit in batches that fit its limits, poll, collect results by `custom_id`, cancel.

Half the price; results arrive when a batch ends (up to 24 hours). A batch the server refuses as too
large (413) is split in two and submitted again; a single request too large for any batch fails alone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..cancellation import Cancellation
from ..pricing import Price
from ..structured import OutputSpec
from .jobs import Job
from .live import row_error
from .outcome import Outcome, failed, from_message

__all__ = ["BatchLimits", "split_jobs", "BatchDriver"]

CANCEL_GRACE = 60.0           # seconds to wait for canceled batches to end, so their finished rows are kept


@dataclass(frozen=True)
class BatchLimits:
    """The Message Batches API's limits per batch (a gateway may have lower ones)."""

    requests: int = 100_000
    bytes: int = 256 * 1024 * 1024


def _size(job: Job) -> int:
    return len(json.dumps({"custom_id": job.id, "params": job.params}, separators=(",", ":"))) + 1


def split_jobs(jobs: list[Job], limits: BatchLimits) -> list[list[Job]]:
    """Consecutive groups within both limits (a job above the size limit alone gets a group of its own)."""
    groups: list[list[Job]] = []
    current: list[Job] = []
    size = 16
    for job in jobs:
        job_size = _size(job)
        if current and (len(current) >= limits.requests or size + job_size > limits.bytes):
            groups.append(current)
            current, size = [], 16
        current.append(job)
        size += job_size
    if current:
        groups.append(current)
    return groups


def poll_interval(elapsed: float) -> float:
    """How long to wait before the next status check: a tenth of the time waited so far, 0.1 s to 30 s."""
    return min(30.0, max(0.1, elapsed * 0.1))


class BatchDriver:
    """Submits jobs as batches and collects their results, on the caller's thread, with the sync SDK client."""

    def __init__(self, client: Any, spec: OutputSpec | None, model: str, prices: dict[str, Price] | None,
                 base_url: str, on_done: Callable[[Job, Outcome], None], on_batch: Callable[[str, list[Job]], None],
                 stop: Cancellation, limits: BatchLimits | None = None,
                 on_collected: Callable[[str], None] | None = None) -> None:
        self.client = client
        self.spec, self.model, self.prices, self.base_url = spec, model, prices, base_url
        self.on_done, self.on_batch = on_done, on_batch
        self.on_collected = on_collected or (lambda _batch_id: None)
        self.stop = stop
        self.limits = limits or BatchLimits()
        self.open: dict[str, dict[str, Job]] = {}      # batch id -> its jobs by custom_id, until collected
        self.status: dict[str, str] = {}               # batch id -> processing_status last seen

    # --- submitting ----------------------------------------------------------------------------

    def submit(self, jobs: list[Job]) -> None:
        """Create the batches (stops early when asked; jobs not submitted stay pending)."""
        for group in split_jobs(jobs, self.limits):
            if self.stop.cancelled:
                return
            self._create(group)

    def _create(self, group: list[Job]) -> None:
        import anthropic

        requests = [{"custom_id": job.id, "params": job.params} for job in group]
        try:
            batch = self.client.messages.batches.create(requests=requests)
        except anthropic.APIStatusError as error:
            if error.status_code == 413 and len(group) > 1:
                middle = len(group) // 2
                self._create(group[:middle])
                self._create(group[middle:])
                return
            for job in group:
                reason = "too large for a batch: " if error.status_code == 413 else ""
                self.on_done(job, failed(reason + row_error(error, self.base_url)))
            return
        except anthropic.APIError as error:
            for job in group:
                self.on_done(job, failed(row_error(error, self.base_url)))
            return
        self.open[batch.id] = {job.id: job for job in group}
        self.status[batch.id] = batch.processing_status
        self.on_batch(batch.id, group)

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
                for job in self.open.pop(batch_id).values():
                    self.on_done(job, failed(f"batch {batch_id}: {row_error(error, self.base_url)}"))
            return None
        except anthropic.APIConnectionError:
            return None                            # transient: the next poll tries again

    def collect(self, batch_id: str) -> None:
        """Read an ended batch's results and hand each row over as it is read."""
        jobs = self.open.get(batch_id, {})
        seen: set[str] = set()
        # The raw JSONL lines (the SDK's streaming response): building typed models for 10,000 lines cost seconds.
        with self.client.messages.batches.with_streaming_response.results(batch_id) as response:
            for raw in response.iter_lines():
                if not raw.strip():
                    continue
                line = json.loads(raw)
                job = jobs.get(line.get("custom_id"))
                if job is None:
                    continue
                seen.add(job.id)
                self.on_done(job, self._outcome(line.get("result") or {}))
        for custom_id, job in jobs.items():
            if custom_id not in seen:
                self.on_done(job, failed(f"batch {batch_id} returned no result for this row", status="expired"))
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
